// The plugin configuration (JSON; filters/rate-limit/README.md and config.schema.json describe it)
// parsed into what the filter runs. Field names follow Envoy's LocalRateLimit
// (envoy.extensions.filters.http.local_ratelimit.v3, filters.md §4.1) where the concept is Envoy's.
// Every error names the JSON path and the problem; nothing is clamped or ignored: an unknown
// field is an error, as in Envoy's strict proto validation.
// Pure code: no host imports.
import { Header, JsonValue, parseCidr, parseJson } from "proxy-wasm-as";
import { FieldChecker, at, join, parseDuration, stringList } from "./config-fields";
import { KeyTemplate, isHeaderName, lowerAscii, parseKeyTemplate } from "./key-template";
import { HeaderMatchKind, HeaderMatcher, RequestMatcher } from "./matcher";
import { BucketParams } from "./token-bucket";

export const enum RateLimitHeaders {
  Off,
  /** x-ratelimit-limit / -remaining / -reset (draft-polli-ratelimit-headers-03, Envoy DRAFT_VERSION_03). */
  DraftVersion03,
  /** RateLimit-Policy + RateLimit structured fields (draft-ietf-httpapi-ratelimit-headers-10). */
  IetfDraft10,
}

export const DEFAULT_STAT_PREFIX = "http_local_rate_limiter";
export const DEFAULT_RULE_NAME = "default";
export const DEFAULT_SHADOW_HEADER = "x-local-rate-limit-shadow";
export const DEFAULT_MAX_BUCKETS: i32 = 1024;
/** istio-ecosystem's local_rate_limit gives up after 20 CAS attempts (filters.md §4.3). */
export const DEFAULT_MAX_CAS_ATTEMPTS: i32 = 20;

// Field lists (config-fields.ts). Envoy caps the two header lists at 10 entries.
const TOP_FIELDS =
  "stat_prefix:s,token_bucket:o,descriptors:a64,status:n400-599,shadow_mode:b," +
  "request_headers_to_add_when_not_enforced:a10,response_headers_to_add:a10,disable_x_envoy_ratelimited_header:b," +
  "enable_x_ratelimit_headers:eOFF|DRAFT_VERSION_03|IETF_DRAFT_10,rate_limited_as_resource_exhausted:b," +
  "local_rate_limit_per_downstream_connection:b,failure_mode_deny:b,max_cas_attempts:n1-1000," +
  "xff_num_trusted_hops:n0-4294967295,max_buckets:n1-65536";
const RULE_FIELDS = "name!:s,match:o,key:s,token_bucket!:o,max_buckets:n1-65536,shadow_mode:b";
const MATCH_FIELDS = "path:s,prefix:s,methods:S,hosts:S,headers:a64,source_cidrs:S,route_names:S";
const HEADER_MATCH_FIELDS = "name!:s,exact:s,prefix:s,present:b,invert_match:b";
const BUCKET_FIELDS = "max_tokens!:n1-4294967295,tokens_per_fill:n1-4294967295,fill_interval!:d";
const HEADER_FIELDS = "key!:s,value!:s";

/** One bucket definition: the top-level default bucket or an entry of `descriptors`. */
export class RuleConfig {
  name: string = DEFAULT_RULE_NAME;
  /** null = every request. */
  matcher: RequestMatcher | null = null;
  template: KeyTemplate = new KeyTemplate();
  params: BucketParams = new BucketParams(1, 1, 1);
  /** Slots of the rule's bucket table: 1 unless requests can map to different buckets. */
  buckets: i32 = 1;
  shadowMode: bool = false;
}

export class RateLimitConfig {
  statPrefix: string = DEFAULT_STAT_PREFIX;
  status: u32 = 429;
  requestHeadersToAddWhenNotEnforced: Header[] = [];
  responseHeadersToAdd: Header[] = [];
  disableXEnvoyRatelimitedHeader: bool = false;
  rateLimitHeaders: RateLimitHeaders = RateLimitHeaders.Off;
  rateLimitedAsResourceExhausted: bool = false;
  perConnection: bool = false;
  failureModeDeny: bool = false;
  maxCasAttempts: i32 = DEFAULT_MAX_CAS_ATTEMPTS;
  /** -1: the client is source.address; else the x-forwarded-for entry this many hops from the right. */
  xffNumTrustedHops: i64 = -1;
  /** The `descriptors` in order, then the default bucket if `token_bucket` is set. */
  rules: RuleConfig[] = [];
}

export class ConfigResult {
  config: RateLimitConfig | null = null;
  /** "<json path>: <problem>", or "" when the configuration is valid. */
  error: string = "";
}

/** Parses the plugin configuration text. */
export function parseConfig(text: string): ConfigResult {
  const result = new ConfigResult();
  const json = parseJson(text);
  if (!json.ok) {
    result.error = text.length == 0
      ? "the configuration is empty: set token_bucket and/or descriptors"
      : "not valid JSON: " + json.describe();
    return result;
  }
  const p = new ConfigParser();
  const config = p.parse(json.value!);
  if (p.failed) result.error = p.error;
  else result.config = config;
  return result;
}

class ConfigParser extends FieldChecker {
  parse(v: JsonValue): RateLimitConfig {
    const c = new RateLimitConfig();
    if (!this.check(v, "", TOP_FIELDS)) return c;
    const statPrefix = v.getString("stat_prefix");
    if (statPrefix !== null) {
      if (!isDottedName(statPrefix, false)) this.fail("stat_prefix", "must be dot-separated names of letters, digits, \"_\" and \"-\"");
      c.statPrefix = statPrefix;
    }
    c.status = <u32>v.getNumber("status", 429);
    const shadow = v.getBool("shadow_mode");
    c.requestHeadersToAddWhenNotEnforced = v.has("request_headers_to_add_when_not_enforced")
      ? this.headerList(v, "request_headers_to_add_when_not_enforced")
      : [new Header(DEFAULT_SHADOW_HEADER, "true")];
    c.responseHeadersToAdd = this.headerList(v, "response_headers_to_add");
    c.disableXEnvoyRatelimitedHeader = v.getBool("disable_x_envoy_ratelimited_header");
    const mode = v.getString("enable_x_ratelimit_headers");
    if (mode == "DRAFT_VERSION_03") c.rateLimitHeaders = RateLimitHeaders.DraftVersion03;
    else if (mode == "IETF_DRAFT_10") c.rateLimitHeaders = RateLimitHeaders.IetfDraft10;
    c.rateLimitedAsResourceExhausted = v.getBool("rate_limited_as_resource_exhausted");
    c.perConnection = v.getBool("local_rate_limit_per_downstream_connection");
    c.failureModeDeny = v.getBool("failure_mode_deny");
    c.maxCasAttempts = <i32>v.getNumber("max_cas_attempts", DEFAULT_MAX_CAS_ATTEMPTS);
    c.xffNumTrustedHops = <i64>v.getNumber("xff_num_trusted_hops", -1);

    const descriptors = v.get("descriptors");
    for (let i = 0; descriptors !== null && i < descriptors.length && !this.failed; i++) {
      const path = at("descriptors", i);
      const rule = this.parseRule(descriptors.at(i)!, path, c.perConnection, shadow);
      for (let j = 0; j < c.rules.length; j++) {
        if (c.rules[j].name == rule.name) this.fail(join(path, "name"), "\"" + rule.name + "\" is also the name of " + at("descriptors", j));
      }
      c.rules.push(rule);
    }
    const bucket = v.get("token_bucket");
    if (bucket !== null) {
      const rule = new RuleConfig();
      rule.params = this.parseTokenBucket(bucket, "token_bucket");
      rule.buckets = this.bucketCount(v, "", c.perConnection);
      rule.shadowMode = shadow;
      c.rules.push(rule);
    } else if (v.has("max_buckets")) {
      this.fail("max_buckets", "applies to the top-level token_bucket, which is not set");
    }
    if (c.rules.length == 0) this.fail("configuration", "nothing to rate limit: set token_bucket and/or descriptors");
    return c;
  }

  /** max_buckets, allowed only where requests can map to several buckets. */
  bucketCount(v: JsonValue, path: string, several: bool): i32 {
    if (!several && v.has("max_buckets")) {
      this.fail(join(path, "max_buckets"), "applies only when requests map to several buckets " +
        "(a key with placeholders, or local_rate_limit_per_downstream_connection)");
    }
    return several ? <i32>v.getNumber("max_buckets", DEFAULT_MAX_BUCKETS) : 1;
  }

  headerList(v: JsonValue, key: string): Header[] {
    const out = new Array<Header>();
    const list = v.get(key);
    for (let i = 0; list !== null && i < list.length; i++) {
      const path = at(key, i);
      const item = list.at(i)!;
      if (!this.check(item, path, HEADER_FIELDS)) break;
      const name = item.getString("key")!;
      const value = item.getString("value")!;
      if (!isHeaderName(String.UTF8.encode(name))) this.fail(join(path, "key"), "\"" + name + "\" is not a valid header name");
      if (!isHeaderValue(value)) this.fail(join(path, "value"), "must not contain control characters (CR, LF, NUL, ...)");
      out.push(new Header(name, value));
    }
    return out;
  }

  parseRule(v: JsonValue, path: string, perConnection: bool, shadow: bool): RuleConfig {
    const rule = new RuleConfig();
    if (!this.check(v, path, RULE_FIELDS)) return rule;
    rule.name = v.getString("name")!;
    if (!isDottedName(rule.name, true) || rule.name.length > 64 || rule.name == DEFAULT_RULE_NAME) {
      this.fail(join(path, "name"), "must be 1 to 64 letters, digits, \"_\", \"-\" or \".\" (and not \"default\")");
    }
    const match = v.get("match");
    if (match !== null) rule.matcher = this.parseMatch(match, join(path, "match"));
    const key = v.getString("key");
    if (key !== null) {
      rule.template = parseKeyTemplate(key);
      if (rule.template.error.length > 0) this.fail(join(path, "key"), rule.template.error);
    }
    rule.params = this.parseTokenBucket(v.get("token_bucket")!, join(path, "token_bucket"));
    rule.buckets = this.bucketCount(v, path, perConnection || rule.template.isVariable);
    rule.shadowMode = v.getBool("shadow_mode", shadow);
    return rule;
  }

  parseMatch(v: JsonValue, path: string): RequestMatcher {
    const m = new RequestMatcher();
    if (!this.check(v, path, MATCH_FIELDS)) return m;
    const exact = v.getString("path");
    const prefix = v.getString("prefix");
    if (exact !== null && prefix !== null) this.fail(path, "set path or prefix, not both");
    if ((exact !== null && !exact.startsWith("/")) || (prefix !== null && !prefix.startsWith("/"))) {
      this.fail(join(path, exact !== null ? "path" : "prefix"), "must start with \"/\"");
    }
    if (exact !== null) m.path = String.UTF8.encode(exact);
    if (prefix !== null) m.prefix = String.UTF8.encode(prefix);
    const methods = stringList(v, "methods");
    for (let i = 0; i < methods.length; i++) m.methods.push(String.UTF8.encode(methods[i]));
    const hosts = stringList(v, "hosts");
    for (let i = 0; i < hosts.length; i++) m.hosts.push(lowerAscii(String.UTF8.encode(hosts[i])));
    const headers = v.get("headers");
    for (let i = 0; headers !== null && i < headers.length; i++) {
      m.headers.push(this.parseHeaderMatcher(headers.at(i)!, at(join(path, "headers"), i)));
    }
    const cidrs = stringList(v, "source_cidrs");
    for (let i = 0; i < cidrs.length; i++) {
      const range = parseCidr(cidrs[i]);
      if (range.ok) m.sourceCidrs.add(range.range!);
      else this.fail(at(join(path, "source_cidrs"), i), range.error);
    }
    const routes = stringList(v, "route_names");
    for (let i = 0; i < routes.length; i++) m.routeNames.push(String.UTF8.encode(routes[i]));
    return m;
  }

  parseHeaderMatcher(v: JsonValue, path: string): HeaderMatcher {
    const m = new HeaderMatcher();
    if (!this.check(v, path, HEADER_MATCH_FIELDS)) return m;
    const name = String.UTF8.encode(v.getString("name")!);
    if (!isHeaderName(name)) this.fail(join(path, "name"), "is not a valid header name (match pseudo-headers with path, prefix, methods and hosts)");
    m.name = lowerAscii(name);
    const exact = v.getString("exact");
    const prefix = v.getString("prefix");
    const kinds = (exact !== null ? 1 : 0) + (prefix !== null ? 1 : 0) + (v.has("present") ? 1 : 0);
    if (kinds != 1) this.fail(path, "set exactly one of exact, prefix and present");
    if (exact !== null) m.kind = HeaderMatchKind.Exact;
    else if (prefix !== null) m.kind = HeaderMatchKind.Prefix;
    m.value = String.UTF8.encode(exact !== null ? exact : prefix !== null ? prefix : "");
    m.present = v.getBool("present", true);
    m.invert = v.getBool("invert_match");
    return m;
  }

  parseTokenBucket(v: JsonValue, path: string): BucketParams {
    if (!this.check(v, path, BUCKET_FIELDS)) return new BucketParams(1, 1, 1);
    const maxTokens = <u32>v.getNumber("max_tokens");
    const tokensPerFill = <u32>v.getNumber("tokens_per_fill", 1);
    const ns = parseDuration(v.getString("fill_interval")!);
    if (!BucketParams.fitsExactly(maxTokens, tokensPerFill, ns)) {
      this.fail(path, "max_tokens × fill_interval is too large to count exactly: lower max_tokens or fill_interval");
      return new BucketParams(1, 1, 1);
    }
    return new BucketParams(maxTokens, tokensPerFill, ns);
  }
}

function isNameChar(c: i32): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x5f || c == 0x2d;
}

/**
 * Letters, digits, "_", "-" and dots between them (stat names; rule names, which appear in
 * shared-data keys and RateLimit header values, may also start or end with a dot).
 */
function isDottedName(s: string, anyDots: bool): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isNameChar(c)) continue;
    if (c != 0x2e) return false;
    if (!anyDots && (i == 0 || i == s.length - 1 || s.charCodeAt(i - 1) == 0x2e)) return false;
  }
  return true;
}

/** RFC 9110 field-value characters: visible ASCII, space, tab and obs-text; no CR, LF or NUL. */
function isHeaderValue(value: string): bool {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c != 0x09) || c == 0x7f) return false;
  }
  return true;
}

