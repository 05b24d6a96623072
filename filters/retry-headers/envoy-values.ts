// The router's retry vocabulary as Envoy defines it (filters.md §3.1, §3.2): the request headers it
// consumes, the x-envoy-retry-on / -retry-grpc-on tokens (headers.h EnvoyRetryOnValues,
// EnvoyRetryOnGrpcValues) and how it reads their values (retry_state_impl.cc, router.cc). Pure code.

export const RETRY_ON = "x-envoy-retry-on";
export const RETRY_GRPC_ON = "x-envoy-retry-grpc-on";
export const MAX_RETRIES = "x-envoy-max-retries";
export const RETRIABLE_STATUS_CODES = "x-envoy-retriable-status-codes";
export const RETRIABLE_HEADER_NAMES = "x-envoy-retriable-header-names";
export const UPSTREAM_RQ_TIMEOUT_MS = "x-envoy-upstream-rq-timeout-ms";
export const UPSTREAM_RQ_PER_TRY_TIMEOUT_MS = "x-envoy-upstream-rq-per-try-timeout-ms";
export const HEDGE_ON_PER_TRY_TIMEOUT = "x-envoy-hedge-on-per-try-timeout";
export const UPSTREAM_RQ_TIMEOUT_ALT_RESPONSE = "x-envoy-upstream-rq-timeout-alt-response";
export const EXPECTED_RQ_TIMEOUT_MS = "x-envoy-expected-rq-timeout-ms";

/**
 * The request headers that steer the router's retries and timeouts, in the order of the Control
 * bits below. Envoy's connection manager strips all of them from external requests
 * (conn_manager_utility.cc cleanInternalHeaders, filters.md §3.2); this filter does the same for
 * untrusted clients and validates them for trusted ones.
 */
export const CONTROL_HEADERS: string[] = [
  RETRY_ON,
  RETRY_GRPC_ON,
  MAX_RETRIES,
  RETRIABLE_STATUS_CODES,
  RETRIABLE_HEADER_NAMES,
  UPSTREAM_RQ_TIMEOUT_MS,
  UPSTREAM_RQ_PER_TRY_TIMEOUT_MS,
  HEDGE_ON_PER_TRY_TIMEOUT,
  UPSTREAM_RQ_TIMEOUT_ALT_RESPONSE,
  EXPECTED_RQ_TIMEOUT_MS,
];

/** Bit i stands for CONTROL_HEADERS[i]. */
export namespace Control {
  export const RetryOn: i32 = 1 << 0;
  export const RetryGrpcOn: i32 = 1 << 1;
  export const MaxRetries: i32 = 1 << 2;
  export const RetriableStatusCodes: i32 = 1 << 3;
  export const RetriableHeaderNames: i32 = 1 << 4;
  export const Timeout: i32 = 1 << 5;
  export const PerTryTimeout: i32 = 1 << 6;
  export const Hedge: i32 = 1 << 7;
  export const TimeoutAltResponse: i32 = 1 << 8;
  export const ExpectedTimeout: i32 = 1 << 9;
}

/** x-envoy-retry-on values (headers.h EnvoyRetryOnValues; reset-before-request since Envoy 1.27). */
export const RETRY_ON_TOKENS: string[] = [
  "5xx",
  "gateway-error",
  "reset",
  "reset-before-request",
  "connect-failure",
  "envoy-ratelimited",
  "retriable-4xx",
  "refused-stream",
  "retriable-status-codes",
  "retriable-headers",
  "http3-post-connect-failure",
];

/** x-envoy-retry-grpc-on values (headers.h EnvoyRetryOnGrpcValues). */
export const RETRY_GRPC_ON_TOKENS: string[] = ["cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable"];

/** The retry_on token that makes the router use retriable status codes / header names. */
export const RETRIABLE_STATUS_CODES_TOKEN = "retriable-status-codes";
export const RETRIABLE_HEADERS_TOKEN = "retriable-headers";

function isAsciiSpace(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0b || c == 0x0c || c == 0x0d;
}

/** absl::StripAsciiWhitespace. */
export function trimAscii(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isAsciiSpace(s.charCodeAt(start))) start++;
  while (end > start && isAsciiSpace(s.charCodeAt(end - 1))) end--;
  return start == 0 && end == s.length ? s : s.substring(start, end);
}

/**
 * Envoy StringUtil::splitToken(value, ",", keep_empty = false, trim_whitespace = true): the comma
 * separated items, trimmed, empty ones dropped — how the router reads every list header.
 */
export function splitList(value: string): string[] {
  const out = new Array<string>();
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i < value.length && value.charCodeAt(i) != 0x2c) continue;
    const item = trimAscii(value.substring(start, i));
    if (item.length > 0) out.push(item);
    start = i + 1;
  }
  return out;
}

/**
 * absl::SimpleAtoi into an unsigned 64-bit integer, as the router parses x-envoy-max-retries and
 * the timeout headers: optional surrounding ASCII whitespace, an optional '+', decimal digits, no
 * overflow. -1 if the router would ignore the value; values above i64 range read as i64.MAX_VALUE
 * (every cap is far below it).
 */
export function parseUnsigned(value: string): i64 {
  const s = trimAscii(value);
  let i = 0;
  if (s.length > 0 && s.charCodeAt(0) == 0x2b) i = 1;
  if (i >= s.length) return -1;
  let n: u64 = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    const digit = <u64>(c - 0x30);
    if (n > (u64.MAX_VALUE - digit) / 10) return -1;
    n = n * 10 + digit;
  }
  return n > <u64>i64.MAX_VALUE ? i64.MAX_VALUE : <i64>n;
}

/** Grpc::Common::hasGrpcContentType: "application/grpc" alone or followed by '+' or ';'. */
export function isGrpcContentType(bytes: ArrayBuffer | null): bool {
  if (bytes === null) return false;
  const prefix = "application/grpc";
  const n = bytes.byteLength;
  if (n < prefix.length) return false;
  const p = changetype<usize>(bytes);
  for (let i = 0; i < prefix.length; i++) if (<i32>load<u8>(p + <usize>i) != prefix.charCodeAt(i)) return false;
  if (n == prefix.length) return true;
  const next = load<u8>(p + <usize>prefix.length);
  return next == 0x2b || next == 0x3b;
}

/** An RFC 9110 token character (header names, methods). */
export function isTokenChar(c: i32): bool {
  if ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)) return true;
  return c == 0x21 || c == 0x23 || c == 0x24 || c == 0x25 || c == 0x26 || c == 0x27 || c == 0x2a || c == 0x2b || c == 0x2d || c == 0x2e || c == 0x5e || c == 0x5f || c == 0x60 || c == 0x7c || c == 0x7e;
}

export function isToken(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** ASCII lower case (header names and hosts are ASCII; String#toLowerCase would pull in Unicode tables). */
export function lowerAscii(s: string): string {
  let i = 0;
  while (i < s.length && !(s.charCodeAt(i) >= 0x41 && s.charCodeAt(i) <= 0x5a)) i++;
  if (i == s.length) return s;
  const codes = new Array<i32>(s.length);
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    unchecked((codes[k] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c));
  }
  return String.fromCharCodes(codes);
}

/** Index of `token` in `list`, or -1. */
export function indexOfToken(list: string[], token: string): i32 {
  for (let i = 0; i < list.length; i++) if (unchecked(list[i]) == token) return i;
  return -1;
}
