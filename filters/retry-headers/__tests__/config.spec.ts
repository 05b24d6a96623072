// The configuration parser (config.ts): every problem is refused with "<json path>: <what>", and
// accepted rules are pre-encoded as the header values the router will read.
import { parseConfig, RetryHeadersConfig } from "../config";

function error(json: string): string {
  return parseConfig(json).error;
}

function config(json: string): RetryHeadersConfig {
  const result = parseConfig(json);
  if (result.config === null) throw new Error(result.error);
  return result.config!;
}

function text(bytes: ArrayBuffer | null): string {
  return bytes === null ? "(none)" : String.UTF8.decode(bytes);
}

describe("parseConfig: defaults", () => {
  it("accepts an empty configuration", () => {
    const c = config("");
    expect(c.rules.length).toBe(0);
    expect(c.stripUntrusted).toBe(true);
    expect(c.maxRetriesCap).toBe(5);
    expect(c.timeoutCapMs).toBe(-1);
    expect(c.exposeAttemptCount).toBe(true);
    expect(text(c.attemptCountHeader)).toBe("x-envoy-attempt-count");
    expect(text(c.idempotencyKeyHeader)).toBe("idempotency-key");
    expect(c.idempotentMethods.length).toBe(6);
  });
});

describe("parseConfig: rules", () => {
  it("encodes the headers of idempotent and non-idempotent requests", () => {
    const c = config('{"rules":[{"retry_on":"5xx, connect-failure,retriable-status-codes","retry_grpc_on":["unavailable"],"num_retries":2,"retriable_status_codes":[503,504],"hedge_on_per_try_timeout":true,"timeout_ms":3000,"per_try_timeout_ms":800}]}');
    const rule = c.rules[0];
    expect(rule.name).toBe("rules[0]");
    expect(text(rule.idempotent.retryOn)).toBe("5xx,connect-failure,retriable-status-codes");
    expect(text(rule.idempotent.retryGrpcOn)).toBe("unavailable");
    expect(text(rule.idempotent.maxRetries)).toBe("2");
    expect(text(rule.idempotent.retriableStatusCodes)).toBe("503,504");
    expect(text(rule.idempotent.hedgeOnPerTryTimeout)).toBe("true");
    expect(text(rule.timeout)).toBe("3000");
    expect(text(rule.perTryTimeout)).toBe("800");
    // Non-idempotent: only the safe conditions; codes and hedging need unsafe ones.
    expect(text(rule.nonIdempotent.retryOn)).toBe("connect-failure");
    expect(text(rule.nonIdempotent.retryGrpcOn)).toBe("(none)");
    expect(text(rule.nonIdempotent.maxRetries)).toBe("2");
    expect(text(rule.nonIdempotent.retriableStatusCodes)).toBe("(none)");
    expect(text(rule.nonIdempotent.hedgeOnPerTryTimeout)).toBe("(none)");
  });

  it("gives non-idempotent requests no retry count when no safe condition remains", () => {
    const rule = config('{"rules":[{"retry_on":"5xx","num_retries":3}]}').rules[0];
    expect(text(rule.nonIdempotent.retryOn)).toBe("(none)");
    expect(text(rule.nonIdempotent.maxRetries)).toBe("(none)");
  });

  it("shares the idempotent headers when the rule allows any method", () => {
    const rule = config('{"rules":[{"retry_on":"5xx","allow_non_idempotent":true}]}').rules[0];
    expect(rule.nonIdempotent).toBe(rule.idempotent);
  });

  it("uses the configured safe conditions", () => {
    const rule = config('{"non_idempotent_retry_on":"connect-failure,retriable-status-codes","rules":[{"retry_on":"5xx,retriable-status-codes","retriable_status_codes":[503]}]}').rules[0];
    expect(text(rule.nonIdempotent.retryOn)).toBe("retriable-status-codes");
    expect(text(rule.nonIdempotent.retriableStatusCodes)).toBe("503");
  });
});

describe("parseConfig: errors name the field", () => {
  it("rejects malformed JSON and wrong types", () => {
    expect(error("{")).toBe("not valid JSON: line 1, column 2: unexpected end of input, expected a string key");
    expect(error("[]")).toBe("must be an object, got array");
    expect(error('{"rules":{}}')).toBe("rules: must be an array, got object");
    expect(error('{"strip_untrusted":"yes"}')).toBe("strip_untrusted: must be a boolean, got string");
  });

  it("rejects unknown fields (typos) instead of ignoring them", () => {
    expect(error('{"rule":[]}').startsWith("rule: unknown field (expected one of: rules, ")).toBe(true);
    expect(error('{"rules":[{"retryOn":"5xx"}]}').startsWith("rules[0].retryOn: unknown field")).toBe(true);
    expect(error('{"rules":[{"match":{"path":"/"},"retry_on":"5xx"}]}').startsWith("rules[0].match.path: unknown field")).toBe(true);
  });

  it("rejects retry conditions Envoy does not know", () => {
    expect(error('{"rules":[{"retry_on":"5xx,timeout"}]}')).toBe("rules[0].retry_on: unknown condition \"timeout\" (Envoy knows: 5xx, gateway-error, reset, reset-before-request, connect-failure, envoy-ratelimited, retriable-4xx, refused-stream, retriable-status-codes, retriable-headers, http3-post-connect-failure)");
    expect(error('{"rules":[{"retry_grpc_on":"5xx"}]}').startsWith("rules[0].retry_grpc_on: unknown condition \"5xx\"")).toBe(true);
    expect(error('{"rules":[{"retry_on":""}]}')).toBe("rules[0].retry_on: must name at least one condition");
    expect(error('{"non_idempotent_retry_on":"bogus"}').startsWith("non_idempotent_retry_on: unknown condition \"bogus\"")).toBe(true);
  });

  it("rejects numbers out of range and above the caps", () => {
    expect(error('{"rules":[{"num_retries":6}]}')).toBe("rules[0].num_retries: 6 exceeds caps.max_retries (5)");
    expect(error('{"rules":[{"num_retries":-1}]}')).toBe("rules[0].num_retries: must be an integer from 0 to 1000, got -1");
    expect(error('{"rules":[{"num_retries":1.5}]}')).toBe("rules[0].num_retries: must be an integer from 0 to 1000, got a fraction");
    expect(error('{"caps":{"timeout_ms":1000},"rules":[{"timeout_ms":2000}]}')).toBe("rules[0].timeout_ms: 2000 exceeds caps.timeout_ms (1000)");
    expect(error('{"caps":{"timeout_ms":1000},"rules":[{"timeout_ms":0}]}')).toBe("rules[0].timeout_ms: 0 (no timeout) exceeds caps.timeout_ms (1000)");
    expect(error('{"rules":[{"timeout_ms":500,"per_try_timeout_ms":500}]}')).toBe("rules[0].per_try_timeout_ms: must be less than timeout_ms (500)");
    expect(error('{"rules":[{"retriable_status_codes":[503,99]}]}')).toBe("rules[0].retriable_status_codes[1]: must be an integer from 100 to 599, got 99");
  });

  it("rejects rules that set nothing and matches that cannot work", () => {
    expect(error('{"rules":[{"match":{"path_prefix":"/"}}]}').startsWith("rules[0]: sets no header")).toBe(true);
    expect(error('{"rules":[{"match":{"path_prefix":"api"},"retry_on":"5xx"}]}')).toBe("rules[0].match.path_prefix: must start with '/'");
    expect(error('{"rules":[{"match":{"path_prefix":"/a","path_regex":"/b"},"retry_on":"5xx"}]}')).toBe("rules[0].match: give only one of path_prefix, path_exact, path_regex");
    expect(error('{"rules":[{"match":{"path_regex":"/(a"},"retry_on":"5xx"}]}')).toBe("rules[0].match.path_regex: missing closing ) at offset 1 in \"/(a\"");
    expect(error('{"rules":[{"match":{"hosts":["a.*.com"]},"retry_on":"5xx"}]}')).toBe("rules[0].match.hosts[0]: \"a.*.com\" is not a host, \"*\", or a host with one leading or trailing '*'");
    expect(error('{"rules":[{"match":{"methods":["GE T"]},"retry_on":"5xx"}]}')).toBe("rules[0].match.methods[0]: \"GE T\" is not a valid HTTP method");
    expect(error('{"rules":[{"match":{"headers":[{"name":"x","present":false,"exact":"1"}]},"retry_on":"5xx"}]}')).toBe("rules[0].match.headers[0]: \"exact\" cannot be combined with \"present\": false");
    expect(error('{"rules":[{"match":{"route_name":""},"retry_on":"5xx"}]}')).toBe("rules[0].match.route_name: must not be empty");
  });

  it("rejects trust settings that cannot be applied", () => {
    expect(error('{"trusted_sources":{}}')).toBe("trusted_sources: must set \"cidrs\" or \"header\"");
    expect(error('{"trusted_sources":{"cidrs":["10.0.0.0/40"]}}')).toBe("trusted_sources.cidrs[0]: prefix length \"40\" must be a number from 0 to 32");
    expect(error('{"trusted_sources":{"header":{"name":"x-internal"}}}')).toBe("trusted_sources.header: needs both \"name\" and \"value\" (the header and the value that marks a trusted request)");
    expect(error('{"trusted_sources":{"header":{"name":"x internal","value":"s"}}}')).toBe("trusted_sources.header.name: \"x internal\" is not a valid header name");
  });
});
