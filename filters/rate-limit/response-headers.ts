// The rate-limit response header values (filters.md §4.1, §4.2). Everything that depends only on
// the configuration is built at configure time; per response only numbers are filled in.
// - DRAFT_VERSION_03 (Envoy's enable_x_ratelimit_headers): x-ratelimit-limit = max_tokens,
//   x-ratelimit-remaining = whole tokens left, x-ratelimit-reset = seconds until the next token.
// - IETF_DRAFT_10 (draft-ietf-httpapi-ratelimit-headers, Structured Fields):
//   RateLimit-Policy: "<rule>";q=<max_tokens>;w=<seconds to refill an empty bucket>
//   RateLimit: "<rule>";r=<remaining>;t=<seconds until the next token>
//   A token bucket allows max_tokens at once and then tokens_per_fill per fill_interval, so
//   max_tokens per full-refill window is the one quota/window pair true of both its burst and its
//   sustained rate.
// Pure code: no host imports.
import { Header } from "proxy-wasm-as";
import { BucketParams } from "./token-bucket";

/** Receives response headers: the upstream response's map, or the list of a local reply. */
export interface HeaderSink {
  addHeader(name: string, value: string): void;
}

/** Collects headers for a local reply. */
export class HeaderList implements HeaderSink {
  readonly headers: Header[] = [];

  addHeader(name: string, value: string): void {
    this.headers.push(new Header(name, value));
  }
}

export const X_RATELIMIT_LIMIT = "x-ratelimit-limit";
export const X_RATELIMIT_REMAINING = "x-ratelimit-remaining";
export const X_RATELIMIT_RESET = "x-ratelimit-reset";
export const RATELIMIT_POLICY = "ratelimit-policy";
export const RATELIMIT = "ratelimit";
export const RETRY_AFTER = "retry-after";
export const X_ENVOY_RATELIMITED = "x-envoy-ratelimited";

export class RuleHeaderValues {
  /** x-ratelimit-limit. */
  limit: string;
  /** RateLimit-Policy. */
  policy: string;
  /** RateLimit up to the remaining count: "\"<rule>\";r=". */
  stateStart: string;

  constructor(name: string, params: BucketParams) {
    this.limit = params.maxTokens.toString();
    this.policy = "\"" + name + "\";q=" + params.maxTokens.toString() + ";w=" + params.fullRefillSeconds().toString();
    this.stateStart = "\"" + name + "\";r=";
  }

  /** The RateLimit field value. */
  state(remaining: u32, resetSeconds: i64): string {
    return this.stateStart + decimal(remaining) + ";t=" + decimal(resetSeconds);
  }
}

// Small numbers dominate remaining/reset values: keep their text instead of formatting each time.
const CACHED = 1024;
const decimals = new StaticArray<string | null>(CACHED);

/** Decimal text of a non-negative number. */
export function decimal(n: i64): string {
  if (n < 0 || n >= CACHED) return n.toString();
  let s = unchecked(decimals[<i32>n]);
  if (s === null) {
    s = n.toString();
    unchecked((decimals[<i32>n] = s));
  }
  return s;
}

/** Adds the x-ratelimit-* (ietf false) or RateLimit-Policy/RateLimit headers for a bucket at `level`. */
export function addRateLimitHeaders(
  out: HeaderSink, values: RuleHeaderValues, params: BucketParams, level: i64, ietf: bool,
): void {
  const remaining = params.tokens(level);
  const reset = params.secondsUntilNextToken(level);
  if (ietf) {
    out.addHeader(RATELIMIT_POLICY, values.policy);
    out.addHeader(RATELIMIT, values.state(remaining, reset));
  } else {
    out.addHeader(X_RATELIMIT_LIMIT, values.limit);
    out.addHeader(X_RATELIMIT_REMAINING, decimal(<i64>remaining));
    out.addHeader(X_RATELIMIT_RESET, decimal(reset));
  }
}
