// The plugin configuration: every field, its default, and an error naming the field for each
// kind of mistake.
import { parseDuration } from "../config-fields";
import { ConfigResult, RateLimitConfig, RateLimitHeaders, parseConfig } from "../config";
import { HeaderMatchKind } from "../matcher";

const SECOND: i64 = 1_000_000_000;

function valid(text: string): RateLimitConfig {
  const r = parseConfig(text);
  if (r.config === null) abort("unexpected configuration error: " + r.error);
  return r.config!;
}

function errorOf(text: string): string {
  const r: ConfigResult = parseConfig(text);
  return r.config === null ? r.error : "(valid)";
}

const FULL = `{
  "stat_prefix": "edge.api_limits",
  "status": 503,
  "shadow_mode": false,
  "request_headers_to_add_when_not_enforced": [{"key": "x-would-limit", "value": "yes"}],
  "response_headers_to_add": [{"key": "X-Limited-By", "value": "wasm"}],
  "disable_x_envoy_ratelimited_header": true,
  "enable_x_ratelimit_headers": "IETF_DRAFT_10",
  "rate_limited_as_resource_exhausted": true,
  "failure_mode_deny": true,
  "max_cas_attempts": 5,
  "xff_num_trusted_hops": 1,
  "token_bucket": {"max_tokens": 100, "tokens_per_fill": 10, "fill_interval": "0.5s"},
  "descriptors": [
    {
      "name": "per-user",
      "match": {
        "prefix": "/api/", "methods": ["GET", "POST"], "hosts": ["API.example.com"],
        "headers": [{"name": "X-Tier", "exact": "free"}, {"name": "x-debug", "present": true, "invert_match": true}],
        "source_cidrs": ["10.0.0.0/8", "2001:db8::/32"], "route_names": ["api"]
      },
      "key": "{header:x-user}",
      "token_bucket": {"max_tokens": 5, "fill_interval": "60s"},
      "max_buckets": 4096,
      "shadow_mode": true
    },
    {"name": "login", "match": {"path": "/login"}, "token_bucket": {"max_tokens": 1, "fill_interval": "1s"}}
  ]
}`;

describe("rate-limit configuration", () => {
  it("reads every field", () => {
    const c = valid(FULL);
    expect(c.statPrefix).toBe("edge.api_limits");
    expect(c.status).toBe(503);
    expect(c.requestHeadersToAddWhenNotEnforced.length).toBe(1);
    expect(c.requestHeadersToAddWhenNotEnforced[0].name).toBe("x-would-limit");
    expect(c.responseHeadersToAdd[0].name).toBe("X-Limited-By");
    expect(c.disableXEnvoyRatelimitedHeader).toBe(true);
    expect(c.rateLimitHeaders).toBe(RateLimitHeaders.IetfDraft10);
    expect(c.rateLimitedAsResourceExhausted).toBe(true);
    expect(c.failureModeDeny).toBe(true);
    expect(c.maxCasAttempts).toBe(5);
    expect(c.xffNumTrustedHops).toBe(1);
    expect(c.rules.length).toBe(3, "two descriptors, then the default bucket");
    const user = c.rules[0];
    expect(user.name).toBe("per-user");
    expect(user.shadowMode).toBe(true);
    expect(user.buckets).toBe(4096);
    expect(user.params.maxTokens).toBe(5);
    expect(user.params.tokensPerFill).toBe(1);
    expect(user.params.fillIntervalNs).toBe(60 * SECOND);
    expect(user.template.isVariable).toBe(true);
    const m = user.matcher!;
    expect(m.prefix).not.toBeNull();
    expect(m.methods.length).toBe(2);
    expect(String.UTF8.decode(m.hosts[0])).toBe("api.example.com");
    expect(m.headers.length).toBe(2);
    expect(String.UTF8.decode(m.headers[0].name)).toBe("x-tier");
    expect(m.headers[0].kind).toBe(HeaderMatchKind.Exact);
    expect(m.headers[1].kind).toBe(HeaderMatchKind.Present);
    expect(m.headers[1].invert).toBe(true);
    expect(m.sourceCidrs.size).toBe(2);
    expect(m.routeNames.length).toBe(1);
    const login = c.rules[1];
    expect(login.buckets).toBe(1, "a constant key has a single bucket");
    expect(login.shadowMode).toBe(false);
    const fallback = c.rules[2];
    expect(fallback.name).toBe("default");
    expect(fallback.matcher).toBeNull();
    expect(fallback.params.fillIntervalNs).toBe(SECOND / 2);
  });

  it("has Envoy's defaults", () => {
    const c = valid('{"token_bucket": {"max_tokens": 10, "fill_interval": "1s"}}');
    expect(c.statPrefix).toBe("http_local_rate_limiter");
    expect(c.status).toBe(429);
    expect(c.rateLimitHeaders).toBe(RateLimitHeaders.Off);
    expect(c.disableXEnvoyRatelimitedHeader).toBe(false);
    expect(c.rateLimitedAsResourceExhausted).toBe(false);
    expect(c.perConnection).toBe(false);
    expect(c.failureModeDeny).toBe(false);
    expect(c.maxCasAttempts).toBe(20);
    expect(c.xffNumTrustedHops).toBe(-1);
    expect(c.requestHeadersToAddWhenNotEnforced[0].name).toBe("x-local-rate-limit-shadow");
    expect(c.rules[0].buckets).toBe(1);
    expect(c.rules[0].params.tokensPerFill).toBe(1);
    expect(valid('{"enable_x_ratelimit_headers": "DRAFT_VERSION_03", "token_bucket": {"max_tokens": 1, "fill_interval": "1s"}}')
      .rateLimitHeaders).toBe(RateLimitHeaders.DraftVersion03);
  });

  it("gives per-connection and templated rules a bucket table", () => {
    const c = valid('{"local_rate_limit_per_downstream_connection": true, "max_buckets": 8, ' +
      '"token_bucket": {"max_tokens": 1, "fill_interval": "1s"}, ' +
      '"descriptors": [{"name": "a", "token_bucket": {"max_tokens": 1, "fill_interval": "1s"}}]}');
    expect(c.perConnection).toBe(true);
    expect(c.rules[0].buckets).toBe(1024);
    expect(c.rules[1].buckets).toBe(8);
  });

  it("rejects what is not a configuration", () => {
    expect(errorOf("")).toBe("the configuration is empty: set token_bucket and/or descriptors");
    expect(errorOf("{")).toBe("not valid JSON: line 1, column 2: unexpected end of input, expected a string key");
    expect(errorOf("[]")).toBe("configuration: must be an object, got array");
    expect(errorOf("{}")).toBe("configuration: nothing to rate limit: set token_bucket and/or descriptors");
  });

  it("names unknown fields and wrong types", () => {
    expect(errorOf('{"token_bucket": {"max_tokens": 1, "fill_interval": "1s"}, "stat-prefix": "x"}')).toBe(
      "stat-prefix: unknown field (expected one of: stat_prefix, token_bucket, descriptors, status, shadow_mode, " +
      "request_headers_to_add_when_not_enforced, response_headers_to_add, disable_x_envoy_ratelimited_header, " +
      "enable_x_ratelimit_headers, rate_limited_as_resource_exhausted, local_rate_limit_per_downstream_connection, " +
      "failure_mode_deny, max_cas_attempts, xff_num_trusted_hops, max_buckets)");
    expect(errorOf('{"token_bucket": {"max_tokens": "10", "fill_interval": "1s"}}')).toBe(
      "token_bucket.max_tokens: must be an integer, got string");
    expect(errorOf('{"shadow_mode": 1, "token_bucket": {"max_tokens": 1, "fill_interval": "1s"}}')).toBe(
      "shadow_mode: must be true or false, got number");
    expect(errorOf('{"descriptors": {}}')).toBe("descriptors: must be an array, got object");
    expect(errorOf('{"token_bucket": []}')).toBe("token_bucket: must be an object, got array");
  });

  it("checks ranges and required fields", () => {
    expect(errorOf('{"token_bucket": {"max_tokens": 0, "fill_interval": "1s"}}')).toBe(
      "token_bucket.max_tokens: must be an integer from 1 to 4294967295, got 0");
    expect(errorOf('{"token_bucket": {"max_tokens": 1.5, "fill_interval": "1s"}}')).toBe(
      "token_bucket.max_tokens: must be an integer from 1 to 4294967295, got a fraction");
    expect(errorOf('{"status": 200, "token_bucket": {"max_tokens": 1, "fill_interval": "1s"}}')).toBe(
      "status: must be an integer from 400 to 599, got 200");
    expect(errorOf('{"token_bucket": {"fill_interval": "1s"}}')).toBe("token_bucket.max_tokens: is required");
    expect(errorOf('{"token_bucket": {"max_tokens": 1}}')).toBe("token_bucket.fill_interval: is required");
    expect(errorOf('{"token_bucket": {"max_tokens": 1, "fill_interval": "1m"}}')).toBe(
      "token_bucket.fill_interval: must be a positive duration like \"1s\" or \"0.250s\" (seconds, at most 9 decimals, " +
      "up to 31536000s), got \"1m\"");
    expect(errorOf('{"token_bucket": {"max_tokens": 4294967295, "fill_interval": "31536000s"}}')).toBe(
      "token_bucket: max_tokens × fill_interval is too large to count exactly: lower max_tokens or fill_interval");
    expect(errorOf('{"enable_x_ratelimit_headers": "IETF", "token_bucket": {"max_tokens": 1, "fill_interval": "1s"}}')).toBe(
      "enable_x_ratelimit_headers: must be one of OFF, DRAFT_VERSION_03, IETF_DRAFT_10, got \"IETF\"");
    expect(errorOf('{"max_cas_attempts": 0, "token_bucket": {"max_tokens": 1, "fill_interval": "1s"}}')).toBe(
      "max_cas_attempts: must be an integer from 1 to 1000, got 0");
  });

  it("checks descriptors", () => {
    const bucket = '"token_bucket": {"max_tokens": 1, "fill_interval": "1s"}';
    expect(errorOf('{"descriptors": [{' + bucket + '}]}')).toBe("descriptors[0].name: is required");
    expect(errorOf('{"descriptors": [{"name": "a b", ' + bucket + '}]}')).toBe(
      "descriptors[0].name: must be 1 to 64 letters, digits, \"_\", \"-\" or \".\" (and not \"default\")");
    expect(errorOf('{"descriptors": [{"name": "a", ' + bucket + '}, {"name": "a", ' + bucket + '}]}')).toBe(
      "descriptors[1].name: \"a\" is also the name of descriptors[0]");
    expect(errorOf('{"descriptors": [{"name": "a"}]}')).toBe("descriptors[0].token_bucket: is required");
    expect(errorOf('{"descriptors": [{"name": "a", "key": "{who}", ' + bucket + '}]}')).toBe(
      "descriptors[0].key: unknown placeholder \"{who}\" (expected {header:<name>}, {path}, {method}, {host}, " +
      "{source_address} or {route_name})");
    expect(errorOf('{"descriptors": [{"name": "a", "max_buckets": 10, ' + bucket + '}]}')).toBe(
      "descriptors[0].max_buckets: applies only when requests map to several buckets " +
      "(a key with placeholders, or local_rate_limit_per_downstream_connection)");
    expect(errorOf('{"max_buckets": 10, "descriptors": [{"name": "a", ' + bucket + '}]}')).toBe(
      "max_buckets: applies to the top-level token_bucket, which is not set");
  });

  it("checks match conditions", () => {
    const rule = (match: string): string =>
      '{"descriptors": [{"name": "r", "match": ' + match + ', "token_bucket": {"max_tokens": 1, "fill_interval": "1s"}}]}';
    expect(errorOf(rule('{"path": "/a", "prefix": "/b"}'))).toBe("descriptors[0].match: set path or prefix, not both");
    expect(errorOf(rule('{"prefix": "api"}'))).toBe("descriptors[0].match.prefix: must start with \"/\"");
    expect(errorOf(rule('{"methods": ["GET", ""]}'))).toBe("descriptors[0].match.methods[1]: must be a non-empty string");
    expect(errorOf(rule('{"source_cidrs": ["10.0.0.0/33"]}'))).toBe(
      "descriptors[0].match.source_cidrs[0]: prefix length \"33\" must be a number from 0 to 32");
    expect(errorOf(rule('{"headers": [{"name": "x", "exact": "a", "prefix": "b"}]}'))).toBe(
      "descriptors[0].match.headers[0]: set exactly one of exact, prefix and present");
    expect(errorOf(rule('{"headers": [{"name": ":path", "exact": "/"}]}'))).toBe(
      "descriptors[0].match.headers[0].name: is not a valid header name (match pseudo-headers with path, prefix, methods and hosts)");
    expect(errorOf(rule('{"headers": [{"name": "x", "regex": "a.*"}]}'))).toBe(
      "descriptors[0].match.headers[0].regex: unknown field (expected one of: name, exact, prefix, present, invert_match)");
  });

  it("checks the headers to add", () => {
    const bucket = ', "token_bucket": {"max_tokens": 1, "fill_interval": "1s"}}';
    expect(errorOf('{"response_headers_to_add": [{"key": "bad key", "value": "v"}]' + bucket)).toBe(
      "response_headers_to_add[0].key: \"bad key\" is not a valid header name");
    expect(errorOf('{"response_headers_to_add": [{"key": "x", "value": "a\\r\\nb"}]' + bucket)).toBe(
      "response_headers_to_add[0].value: must not contain control characters (CR, LF, NUL, ...)");
    expect(errorOf('{"request_headers_to_add_when_not_enforced": [{"key": "x"}]' + bucket)).toBe(
      "request_headers_to_add_when_not_enforced[0].value: is required");
    let eleven = "";
    for (let i = 0; i < 11; i++) eleven += (i > 0 ? "," : "") + '{"key": "x", "value": "v"}';
    expect(errorOf('{"response_headers_to_add": [' + eleven + "]" + bucket)).toBe(
      "response_headers_to_add: has 11 entries; at most 10 are allowed");
    expect(errorOf('{"stat_prefix": "a..b"' + bucket)).toBe(
      "stat_prefix: must be dot-separated names of letters, digits, \"_\" and \"-\"");
  });
});

describe("parseDuration", () => {
  it("reads protobuf JSON durations", () => {
    expect(parseDuration("1s")).toBe(SECOND);
    expect(parseDuration("0.5s")).toBe(SECOND / 2);
    expect(parseDuration("1.000000001s")).toBe(SECOND + 1);
    expect(parseDuration("31536000s")).toBe(31_536_000 * SECOND);
  });
  it("rejects everything else", () => {
    expect(parseDuration("31536001s")).toBe(-1);
    expect(parseDuration("1.0000000001s")).toBe(-1);
    expect(parseDuration("-1s")).toBe(-1);
    expect(parseDuration(".5s")).toBe(-1);
    expect(parseDuration("1.s")).toBe(-1);
    expect(parseDuration("1")).toBe(-1);
    expect(parseDuration("1ms")).toBe(-1);
    expect(parseDuration("s")).toBe(-1);
    expect(parseDuration("0s")).toBe(0, "zero parses; the configuration rejects it as not positive");
  });
});
