// The plugin configuration (README.md "Configuration", config.schema.json): parsed and validated
// once in onConfigure into pre-encoded rules, caps and trust settings. Any problem is reported as
// "<json path>: <what is wrong>" and the configuration is refused; nothing is clamped or guessed.
import { CidrSet, JsonValue, compileRegex, parseCidr, parseJson } from "proxy-wasm-as";
import { ConfigReader, itemPath, memberPath } from "./config-reader";
import {
  RETRIABLE_HEADERS_TOKEN, RETRIABLE_STATUS_CODES_TOKEN, RETRY_GRPC_ON_TOKENS, RETRY_ON_TOKENS, indexOfToken, isToken,
  lowerAscii, splitList,
} from "./envoy-values";
import {
  GRPC_ANY, HOST_ANY, HOST_EXACT, HOST_PREFIX, HOST_SUFFIX, HeaderCondition, HostPattern, PATH_EXACT, PATH_PREFIX,
  PATH_REGEX, RetryHeaderSet, Rule, RuleMatch,
} from "./rules";

/** RFC 9110 §9.2.2: the methods whose repetition has the effect of a single request. */
const DEFAULT_IDEMPOTENT_METHODS = "GET,HEAD,OPTIONS,PUT,DELETE,TRACE";
/** Failures where the upstream cannot have processed the request (filters.md §3.1). */
const DEFAULT_NON_IDEMPOTENT_RETRY_ON = "reset-before-request,connect-failure,refused-stream";
/** draft-ietf-httpapi-idempotency-key-header. */
const DEFAULT_IDEMPOTENCY_KEY_HEADER = "idempotency-key";
const DEFAULT_ATTEMPT_COUNT_HEADER = "x-envoy-attempt-count";
const DEFAULT_MAX_RETRIES_CAP: i64 = 5;
/** Upper bound of every millisecond and byte count: what fits a u32. */
const MAX_U32: i64 = 4294967295;

const TOP_LEVEL_FIELDS: string[] = [
  "rules", "trusted_sources", "strip_untrusted", "caps", "idempotent_methods", "idempotency_key_header",
  "non_idempotent_retry_on", "non_idempotent_retry_grpc_on", "max_retry_body_bytes", "expose_attempt_count",
  "attempt_count_header", "strip_response_headers",
];
const RULE_FIELDS: string[] = [
  "name", "match", "retry_on", "retry_grpc_on", "num_retries", "retriable_status_codes", "retriable_header_names",
  "timeout_ms", "per_try_timeout_ms", "hedge_on_per_try_timeout", "allow_non_idempotent",
];
const MATCH_FIELDS: string[] = ["route_name", "hosts", "path_prefix", "path_exact", "path_regex", "methods", "headers", "grpc"];
const HEADER_CONDITION_FIELDS: string[] = ["name", "present", "exact"];
const TRUST_FIELDS: string[] = ["cidrs", "header"];
const TRUSTED_HEADER_FIELDS: string[] = ["name", "value", "remove"];
const CAPS_FIELDS: string[] = ["max_retries", "timeout_ms", "per_try_timeout_ms"];

export class TrustedHeader {
  constructor(
    public readonly name: ArrayBuffer,
    public readonly value: ArrayBuffer,
    /** Remove it before the request goes upstream (it is a credential). */
    public readonly remove: bool,
  ) {}
}

export class RetryHeadersConfig {
  rules: Rule[] = [];
  trustedCidrs: CidrSet | null = null;
  trustedHeader: TrustedHeader | null = null;
  stripUntrusted: bool = true;
  maxRetriesCap: i64 = DEFAULT_MAX_RETRIES_CAP;
  /** -1 = no cap. */
  timeoutCapMs: i64 = -1;
  perTryTimeoutCapMs: i64 = -1;
  idempotentMethods: ArrayBuffer[] = [];
  idempotencyKeyHeader: ArrayBuffer | null = null;
  /** 0 = no limit. */
  maxRetryBodyBytes: i64 = 0;
  exposeAttemptCount: bool = true;
  attemptCountHeader: ArrayBuffer = new ArrayBuffer(0);
  /** Response headers removed by exact name, and by name prefix ("x-envoy-*"). */
  stripResponseHeaders: ArrayBuffer[] = [];
  stripResponsePrefixes: string[] = [];
}

export class ConfigResult {
  config: RetryHeadersConfig | null = null;
  error: string = "";
}

function encode(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

/** Parses the plugin configuration (empty = all defaults, no rules). */
export function parseConfig(text: string): ConfigResult {
  const result = new ConfigResult();
  const parsed = parseJson(text.length == 0 ? "{}" : text);
  if (!parsed.ok) {
    result.error = "not valid JSON: " + parsed.describe();
    return result;
  }
  const reader = new ConfigReader();
  const config = readConfig(reader, parsed.value!);
  if (reader.failed) result.error = reader.error;
  else result.config = config;
  return result;
}

function readConfig(r: ConfigReader, root: JsonValue): RetryHeadersConfig {
  const c = new RetryHeadersConfig();
  if (!r.checkObject(root, "", TOP_LEVEL_FIELDS)) return c;

  const caps = r.member(root, "caps", "", "object");
  if (caps !== null && r.checkObject(caps, "caps", CAPS_FIELDS)) {
    c.maxRetriesCap = r.integer(caps, "max_retries", "caps", 0, 1000, DEFAULT_MAX_RETRIES_CAP);
    c.timeoutCapMs = r.integer(caps, "timeout_ms", "caps", 1, MAX_U32, -1);
    c.perTryTimeoutCapMs = r.integer(caps, "per_try_timeout_ms", "caps", 1, MAX_U32, -1);
  }
  readTrust(r, root, c);
  c.stripUntrusted = r.bool(root, "strip_untrusted", "", true);

  const methods = r.stringArray(root, "idempotent_methods", "");
  c.idempotentMethods = readMethods(r, methods !== null ? methods : splitList(DEFAULT_IDEMPOTENT_METHODS), "idempotent_methods");
  const keyHeader = r.string(root, "idempotency_key_header", "", DEFAULT_IDEMPOTENCY_KEY_HEADER);
  if (keyHeader.length > 0) c.idempotencyKeyHeader = encode(readHeaderName(r, keyHeader, "idempotency_key_header"));
  const safeRetryOn = readTokenList(r, root, "non_idempotent_retry_on", "", RETRY_ON_TOKENS, true, DEFAULT_NON_IDEMPOTENT_RETRY_ON);
  const safeGrpcOn = readTokenList(r, root, "non_idempotent_retry_grpc_on", "", RETRY_GRPC_ON_TOKENS, true, "");
  c.maxRetryBodyBytes = r.integer(root, "max_retry_body_bytes", "", 0, MAX_U32, 0);

  c.exposeAttemptCount = r.bool(root, "expose_attempt_count", "", true);
  c.attemptCountHeader = encode(readHeaderName(r, r.string(root, "attempt_count_header", "", DEFAULT_ATTEMPT_COUNT_HEADER), "attempt_count_header"));
  readStripResponseHeaders(r, root, c);

  const rules = r.member(root, "rules", "", "array");
  if (rules !== null) {
    for (let i = 0; i < rules.length && !r.failed; i++) {
      c.rules.push(readRule(r, rules.at(i)!, itemPath("rules", i), c, safeRetryOn, safeGrpcOn));
    }
  }
  return c;
}

function readTrust(r: ConfigReader, root: JsonValue, c: RetryHeadersConfig): void {
  const trust = r.member(root, "trusted_sources", "", "object");
  if (trust === null || !r.checkObject(trust, "trusted_sources", TRUST_FIELDS)) return;
  const cidrs = r.stringArray(trust, "cidrs", "trusted_sources");
  if (cidrs !== null) {
    const set = new CidrSet();
    for (let i = 0; i < cidrs.length; i++) {
      const parsed = parseCidr(unchecked(cidrs[i]));
      if (!parsed.ok) {
        r.fail(itemPath("trusted_sources.cidrs", i), parsed.error);
        return;
      }
      set.add(parsed.range!);
    }
    c.trustedCidrs = set;
  }
  const header = r.member(trust, "header", "trusted_sources", "object");
  if (header !== null && r.checkObject(header, "trusted_sources.header", TRUSTED_HEADER_FIELDS)) {
    const path = "trusted_sources.header";
    const name = r.member(header, "name", path, "string");
    const value = r.member(header, "value", path, "string");
    if (name === null || value === null) {
      r.fail(path, "needs both \"name\" and \"value\" (the header and the value that marks a trusted request)");
      return;
    }
    if (value.asString().length == 0) r.fail(memberPath(path, "value"), "must not be empty");
    const headerName = readHeaderName(r, name.asString(), memberPath(path, "name"));
    c.trustedHeader = new TrustedHeader(encode(headerName), encode(value.asString()), r.bool(header, "remove", path, true));
  }
  if (c.trustedCidrs === null && c.trustedHeader === null) r.fail("trusted_sources", "must set \"cidrs\" or \"header\"");
}

/** A header name as Envoy stores it: an RFC 9110 token, lower-cased. */
function readHeaderName(r: ConfigReader, name: string, path: string): string {
  if (!isToken(name)) r.fail(path, "\"" + name + "\" is not a valid header name");
  return lowerAscii(name);
}

function readMethods(r: ConfigReader, methods: string[], path: string): ArrayBuffer[] {
  const out = new Array<ArrayBuffer>();
  for (let i = 0; i < methods.length; i++) {
    const m = unchecked(methods[i]);
    if (!isToken(m)) r.fail(itemPath(path, i), "\"" + m + "\" is not a valid HTTP method");
    out.push(encode(m));
  }
  return out;
}

/**
 * A retry condition list given as Envoy's comma-separated string or as an array of tokens; each
 * must be one Envoy knows. Returns the tokens without duplicates, in the order given.
 */
function readTokenList(
  r: ConfigReader, obj: JsonValue, key: string, path: string, allowed: string[], allowEmpty: bool, fallback: string,
): string[] {
  const at = memberPath(path, key);
  const value = obj.get(key);
  let items: string[];
  if (value === null) items = splitList(fallback);
  else if (value.isString()) items = splitList(value.asString());
  else if (value.isArray()) {
    items = new Array<string>();
    for (let i = 0; i < value.length; i++) {
      const item = value.at(i)!;
      if (!item.isString()) {
        r.fail(itemPath(at, i), "must be a string, got " + item.typeName());
        return [];
      }
      items.push(item.asString());
    }
  } else {
    r.fail(at, "must be a comma-separated string or an array of strings, got " + value.typeName());
    return [];
  }
  const out = new Array<string>();
  for (let i = 0; i < items.length; i++) {
    const token = unchecked(items[i]);
    if (indexOfToken(allowed, token) < 0) {
      r.fail(at, "unknown condition \"" + token + "\" (Envoy knows: " + allowed.join(", ") + ")");
      return [];
    }
    if (indexOfToken(out, token) < 0) out.push(token);
  }
  if (out.length == 0 && !allowEmpty && value !== null) r.fail(at, "must name at least one condition");
  return out;
}

function readStripResponseHeaders(r: ConfigReader, root: JsonValue, c: RetryHeadersConfig): void {
  const names = r.stringArray(root, "strip_response_headers", "");
  if (names === null) return;
  for (let i = 0; i < names.length; i++) {
    const name = unchecked(names[i]);
    const at = itemPath("strip_response_headers", i);
    if (name.endsWith("*")) {
      const prefix = name.substring(0, name.length - 1);
      c.stripResponsePrefixes.push(readHeaderName(r, prefix, at));
    } else {
      c.stripResponseHeaders.push(encode(readHeaderName(r, name, at)));
    }
  }
}

function readRule(
  r: ConfigReader, value: JsonValue, path: string, c: RetryHeadersConfig, safeRetryOn: string[], safeGrpcOn: string[],
): Rule {
  if (!r.checkObject(value, path, RULE_FIELDS)) return new Rule(path);
  const rule = new Rule(r.string(value, "name", path, path));
  const match = r.member(value, "match", path, "object");
  if (match !== null) rule.match = readMatch(r, match, memberPath(path, "match"));

  const retryOn = readTokenList(r, value, "retry_on", path, RETRY_ON_TOKENS, false, "");
  const retryGrpcOn = readTokenList(r, value, "retry_grpc_on", path, RETRY_GRPC_ON_TOKENS, false, "");
  const numRetries = readCapped(r, value, "num_retries", path, 0, 1000, c.maxRetriesCap, "caps.max_retries");
  const codes = readStatusCodes(r, value, path);
  const headerNames = readRetriableHeaderNames(r, value, path);
  rule.timeoutMs = readCapped(r, value, "timeout_ms", path, 0, MAX_U32, c.timeoutCapMs, "caps.timeout_ms");
  if (rule.timeoutMs == 0 && c.timeoutCapMs >= 0) {
    // 0 disables the router's timeout (router.cc), which no cap allows.
    r.fail(memberPath(path, "timeout_ms"), "0 (no timeout) exceeds caps.timeout_ms (" + c.timeoutCapMs.toString() + ")");
  }
  rule.perTryTimeoutMs = readCapped(r, value, "per_try_timeout_ms", path, 1, MAX_U32, c.perTryTimeoutCapMs, "caps.per_try_timeout_ms");
  if (rule.timeoutMs > 0 && rule.perTryTimeoutMs >= rule.timeoutMs) {
    // Envoy ignores a per-try timeout that is not below the global one (router.cc finalTimeout).
    r.fail(memberPath(path, "per_try_timeout_ms"), "must be less than timeout_ms (" + rule.timeoutMs.toString() + ")");
  }
  if (rule.timeoutMs >= 0) rule.timeout = encode(rule.timeoutMs.toString());
  if (rule.perTryTimeoutMs >= 0) rule.perTryTimeout = encode(rule.perTryTimeoutMs.toString());
  const hedge = r.member(value, "hedge_on_per_try_timeout", path, "boolean");
  const allowAny = r.bool(value, "allow_non_idempotent", path, false);

  if (r.failed) return rule;
  if (retryOn.length == 0 && retryGrpcOn.length == 0 && numRetries < 0 && codes === null && headerNames === null
    && rule.timeoutMs < 0 && rule.perTryTimeoutMs < 0 && hedge === null) {
    r.fail(path, "sets no header: give at least one of retry_on, retry_grpc_on, num_retries, retriable_status_codes, retriable_header_names, timeout_ms, per_try_timeout_ms, hedge_on_per_try_timeout");
    return rule;
  }
  fillHeaderSet(rule.idempotent, retryOn, retryGrpcOn, numRetries, codes, headerNames, hedge);
  if (allowAny) {
    rule.nonIdempotent = rule.idempotent;
  } else {
    // Only the safe conditions; a retry count, codes or header names only together with a safe
    // condition that uses them, so they cannot widen what the route's own policy retries.
    // Hedging retries on a per-try timeout whatever the conditions (retry_state_impl.cc
    // shouldHedgeRetryPerTryTimeout), so only "false" passes.
    const safeOn = intersect(retryOn, safeRetryOn);
    const safeGrpc = intersect(retryGrpcOn, safeGrpcOn);
    const anySafe = safeOn.length > 0 || safeGrpc.length > 0;
    fillHeaderSet(
      rule.nonIdempotent, safeOn, safeGrpc, anySafe ? numRetries : -1,
      safeOn.includes(RETRIABLE_STATUS_CODES_TOKEN) ? codes : null,
      safeOn.includes(RETRIABLE_HEADERS_TOKEN) ? headerNames : null,
      hedge !== null && !hedge.asBool() ? hedge : null,
    );
  }
  return rule;
}

/** Encodes the headers of one request class (null arguments: header not set). */
function fillHeaderSet(
  set: RetryHeaderSet, retryOn: string[], retryGrpcOn: string[], numRetries: i64, codes: string | null,
  headerNames: string | null, hedge: JsonValue | null,
): void {
  if (retryOn.length > 0) set.retryOn = encode(retryOn.join(","));
  if (retryGrpcOn.length > 0) set.retryGrpcOn = encode(retryGrpcOn.join(","));
  if (numRetries >= 0) set.maxRetries = encode(numRetries.toString());
  if (codes !== null) set.retriableStatusCodes = encode(codes);
  if (headerNames !== null) set.retriableHeaderNames = encode(headerNames);
  if (hedge !== null) set.hedgeOnPerTryTimeout = encode(hedge.asBool() ? "true" : "false");
}

/** An optional integer in [min, max] that must also stay within a cap (-1 = none) of the config. */
function readCapped(r: ConfigReader, obj: JsonValue, key: string, path: string, min: i64, max: i64, cap: i64, capName: string): i64 {
  const n = r.integer(obj, key, path, min, max, -1);
  if (cap >= 0 && n > cap) r.fail(memberPath(path, key), n.toString() + " exceeds " + capName + " (" + cap.toString() + ")");
  return n;
}

function intersect(tokens: string[], allowed: string[]): string[] {
  const out = new Array<string>();
  for (let i = 0; i < tokens.length; i++) if (indexOfToken(allowed, unchecked(tokens[i])) >= 0) out.push(unchecked(tokens[i]));
  return out;
}

/** retriable_status_codes: HTTP status codes 100-599, encoded as the header value. */
function readStatusCodes(r: ConfigReader, rule: JsonValue, path: string): string | null {
  const value = r.member(rule, "retriable_status_codes", path, "array");
  if (value === null) return null;
  const at = memberPath(path, "retriable_status_codes");
  if (value.length == 0) {
    r.fail(at, "must not be empty (leave it out instead)");
    return null;
  }
  const codes = new Array<string>();
  for (let i = 0; i < value.length; i++) codes.push(r.integerValue(value.at(i)!, itemPath(at, i), 100, 599, 0).toString());
  return codes.join(",");
}

function readRetriableHeaderNames(r: ConfigReader, rule: JsonValue, path: string): string | null {
  const names = r.stringArray(rule, "retriable_header_names", path);
  if (names === null) return null;
  const at = memberPath(path, "retriable_header_names");
  const out = new Array<string>();
  for (let i = 0; i < names.length; i++) out.push(readHeaderName(r, unchecked(names[i]), itemPath(at, i)));
  return out.join(",");
}

function readMatch(r: ConfigReader, value: JsonValue, path: string): RuleMatch {
  const m = new RuleMatch();
  if (!r.checkObject(value, path, MATCH_FIELDS)) return m;
  const routeName = r.member(value, "route_name", path, "string");
  if (routeName !== null) {
    if (routeName.asString().length == 0) r.fail(memberPath(path, "route_name"), "must not be empty");
    m.routeName = encode(routeName.asString());
  }
  const hosts = r.stringArray(value, "hosts", path);
  if (hosts !== null) {
    const patterns = new Array<HostPattern>();
    for (let i = 0; i < hosts.length; i++) patterns.push(readHostPattern(r, unchecked(hosts[i]), itemPath(memberPath(path, "hosts"), i)));
    m.hosts = patterns;
  }
  readPathMatch(r, value, path, m);
  const methods = r.stringArray(value, "methods", path);
  if (methods !== null) m.methods = readMethods(r, methods, memberPath(path, "methods"));
  const headers = r.member(value, "headers", path, "array");
  if (headers !== null) {
    const at = memberPath(path, "headers");
    if (headers.length == 0) r.fail(at, "must not be empty (leave it out instead)");
    const conditions = new Array<HeaderCondition>();
    for (let i = 0; i < headers.length; i++) conditions.push(readHeaderCondition(r, headers.at(i)!, itemPath(at, i)));
    m.headers = conditions;
  }
  const grpc = r.member(value, "grpc", path, "boolean");
  m.grpc = grpc === null ? GRPC_ANY : grpc.asBool() ? 1 : 0;
  return m;
}

function readPathMatch(r: ConfigReader, value: JsonValue, path: string, m: RuleMatch): void {
  const prefix = r.member(value, "path_prefix", path, "string");
  const exact = r.member(value, "path_exact", path, "string");
  const regex = r.member(value, "path_regex", path, "string");
  const given = (prefix !== null ? 1 : 0) + (exact !== null ? 1 : 0) + (regex !== null ? 1 : 0);
  if (given > 1) {
    r.fail(path, "give only one of path_prefix, path_exact, path_regex");
    return;
  }
  if (prefix !== null || exact !== null) {
    const key = prefix !== null ? "path_prefix" : "path_exact";
    const text = prefix !== null ? prefix.asString() : exact!.asString();
    if (!text.startsWith("/")) r.fail(memberPath(path, key), "must start with '/'");
    m.pathKind = prefix !== null ? PATH_PREFIX : PATH_EXACT;
    m.path = encode(text);
  } else if (regex !== null) {
    const compiled = compileRegex(regex.asString());
    if (!compiled.ok) {
      r.fail(memberPath(path, "path_regex"), compiled.describe() + " in \"" + regex.asString() + "\"");
      return;
    }
    m.pathKind = PATH_REGEX;
    m.pathRegex = compiled.regex;
  }
}

/** Envoy VirtualHost.domains syntax: "*", "host", "host:port", "*.suffix", "*-suffix", "prefix.*". */
function readHostPattern(r: ConfigReader, text: string, path: string): HostPattern {
  const lower = lowerAscii(text);
  if (lower == "*") return new HostPattern(HOST_ANY, new ArrayBuffer(0), false);
  const star = lower.indexOf("*");
  let kind = HOST_EXACT;
  let body = lower;
  if (star == 0) {
    kind = HOST_SUFFIX;
    body = lower.substring(1);
  } else if (star == lower.length - 1) {
    kind = HOST_PREFIX;
    body = lower.substring(0, lower.length - 1);
  }
  let valid = body.length > 0 && body.indexOf("*") < 0;
  for (let i = 0; i < body.length && valid; i++) {
    const ch = body.charCodeAt(i);
    valid = ch > 0x20 && ch < 0x7f && ch != 0x2f && ch != 0x3f && ch != 0x23 && ch != 0x40;
  }
  if (!valid) r.fail(path, "\"" + text + "\" is not a host, \"*\", or a host with one leading or trailing '*'");
  return new HostPattern(kind, encode(body), body.indexOf(":") >= 0 && !body.endsWith("]"));
}

function readHeaderCondition(r: ConfigReader, value: JsonValue, path: string): HeaderCondition {
  const none = new HeaderCondition(new ArrayBuffer(0), true, null);
  if (!r.checkObject(value, path, HEADER_CONDITION_FIELDS)) return none;
  const name = r.member(value, "name", path, "string");
  if (name === null) {
    r.fail(path, "needs a \"name\"");
    return none;
  }
  // Pseudo-headers (":authority", ":scheme", ...) are request headers too.
  const text = name.asString();
  const bare = text.startsWith(":") ? text.substring(1) : text;
  const lower = readHeaderName(r, bare, memberPath(path, "name"));
  const present = r.bool(value, "present", path, true);
  const exact = r.member(value, "exact", path, "string");
  if (exact !== null && !present) r.fail(path, "\"exact\" cannot be combined with \"present\": false");
  return new HeaderCondition(encode(text.startsWith(":") ? ":" + lower : lower), present, exact === null ? null : encode(exact.asString()));
}
