// Token-bucket arithmetic, exact and integer-only. Envoy's current local rate limiter uses
// AtomicTokenBucketImpl (envoy source/common/common/token_bucket_impl.cc; filters.md §4.1): the
// bucket starts full and refills continuously at tokens_per_fill / fill_interval, capped at
// max_tokens, with no timer. We mirror that continuous refill, but count in integer "level units"
// instead of Envoy's double, so that after exactly one fill_interval exactly tokens_per_fill tokens
// have been added, whatever the numbers (no float drift):
//
//   g           = gcd(fill_interval_ns, tokens_per_fill)
//   unit        = fill_interval_ns / g      level units per token
//   refillPerNs = tokens_per_fill / g       level units added per elapsed nanosecond
//   capacity    = max_tokens * unit
//
// so elapsed_ns * refillPerNs / unit = elapsed_ns * tokens_per_fill / fill_interval_ns tokens.
// Refill is a pure function of (level, elapsed): refilling in two steps equals refilling once,
// which is why a request that is denied never has to write the refilled level back.
// Pure code: no host imports.

/** Largest capacity we accept: keeps every intermediate sum far from i64 overflow. */
export const MAX_CAPACITY: i64 = 1 << 62;

const NS_PER_SECOND: i64 = 1_000_000_000;

export class BucketParams {
  /** Level units per token. */
  unit: i64 = 1;
  /** Level units added per elapsed nanosecond. */
  refillPerNs: i64 = 1;
  /** Level of a full bucket. */
  capacity: i64 = 1;

  constructor(public maxTokens: u32, public tokensPerFill: u32, public fillIntervalNs: i64) {
    const g = gcd(fillIntervalNs, <i64>tokensPerFill);
    this.unit = fillIntervalNs / g;
    this.refillPerNs = <i64>tokensPerFill / g;
    // The caller checks fitsExactly() first; this is only meaningful when it holds.
    this.capacity = <i64>maxTokens * this.unit;
  }

  /** False when max_tokens × fill_interval is too large to count exactly in 62 bits. */
  static fitsExactly(maxTokens: u32, tokensPerFill: u32, fillIntervalNs: i64): bool {
    if (maxTokens == 0 || tokensPerFill == 0 || fillIntervalNs <= 0) return false;
    const unit = fillIntervalNs / gcd(fillIntervalNs, <i64>tokensPerFill);
    return unit <= MAX_CAPACITY / <i64>maxTokens;
  }

  /** The level after `elapsedNs` of refill (no refill for a clock that went backwards). */
  refill(level: i64, elapsedNs: i64): i64 {
    const capacity = this.capacity;
    if (level >= capacity) return capacity;
    if (elapsedNs <= 0) return level;
    const missing = capacity - level;
    const rate = this.refillPerNs;
    // Compare against the time needed to fill up instead of multiplying first: no overflow.
    if (elapsedNs >= (missing + rate - 1) / rate) return capacity;
    return level + elapsedNs * rate;
  }

  /** Whole tokens available at `level` (Envoy floors its fractional token count). */
  tokens(level: i64): u32 {
    return <u32>(level / this.unit);
  }

  canConsume(level: i64): bool {
    return level >= this.unit;
  }

  /** Nanoseconds until the level holds one whole token; 0 if it already does. */
  nsUntilNextToken(level: i64): i64 {
    if (level >= this.unit) return 0;
    const rate = this.refillPerNs;
    return (this.unit - level + rate - 1) / rate;
  }

  /**
   * Whole seconds until one token is available, rounded up (0 if one is available now): the
   * value of retry-after, x-ratelimit-reset and the RateLimit "t" parameter. Envoy reports
   * floor(ms / 1000) of one token's full refill period; rounding up never tells a client to come
   * back before a token exists.
   */
  secondsUntilNextToken(level: i64): i64 {
    return ceilSeconds(this.nsUntilNextToken(level));
  }

  /** Whole seconds (rounded up, at least 1) for an empty bucket to become full: the policy window. */
  fullRefillSeconds(): i64 {
    const ns = (this.capacity + this.refillPerNs - 1) / this.refillPerNs;
    const s = ceilSeconds(ns);
    return s < 1 ? 1 : s;
  }
}

export function ceilSeconds(ns: i64): i64 {
  return (ns + NS_PER_SECOND - 1) / NS_PER_SECOND;
}

export function gcd(a: i64, b: i64): i64 {
  while (b != 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}
