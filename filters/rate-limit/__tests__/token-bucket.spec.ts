// Exact token arithmetic: Envoy's continuous refill (AtomicTokenBucketImpl) in integer units.
import { BucketParams, MAX_CAPACITY, ceilSeconds, gcd } from "../token-bucket";

const SECOND: i64 = 1_000_000_000;

describe("BucketParams", () => {
  it("counts in units where one fill_interval adds exactly tokens_per_fill", () => {
    const p = new BucketParams(10, 3, SECOND);
    expect(p.unit).toBe(SECOND); // gcd(1e9, 3) = 1
    expect(p.refillPerNs).toBe(3);
    expect(p.capacity).toBe(10 * SECOND);
    expect(p.tokens(p.refill(0, SECOND))).toBe(3);
    // No float drift: a third of the interval is exactly one token.
    expect(p.tokens(p.refill(0, SECOND / 3))).toBe(0, "333333333 ns is a hair short of one token");
    expect(p.tokens(p.refill(0, SECOND / 3 + 1))).toBe(1);
  });

  it("reduces by the gcd so that large buckets stay exact", () => {
    const p = new BucketParams(1_000_000, 1_000_000, 86_400 * SECOND);
    expect(gcd(86_400 * SECOND, 1_000_000)).toBe(1_000_000);
    expect(p.unit).toBe(86_400_000);
    expect(p.refillPerNs).toBe(1);
    expect(p.capacity).toBe(86_400_000 * 1_000_000);
  });

  it("starts an empty bucket filling and caps it at max_tokens", () => {
    const p = new BucketParams(5, 1, SECOND);
    expect(p.refill(0, 2 * SECOND)).toBe(2 * SECOND);
    expect(p.refill(0, 100 * SECOND)).toBe(p.capacity);
    expect(p.refill(p.capacity, SECOND)).toBe(p.capacity);
    // Refilling in two steps is refilling once (denied requests never write back).
    const once = p.refill(SECOND / 2, 3 * SECOND);
    const twice = p.refill(p.refill(SECOND / 2, SECOND), 2 * SECOND);
    expect(twice).toBe(once);
  });

  it("does not refill when the clock did not move or went backwards", () => {
    const p = new BucketParams(5, 1, SECOND);
    expect(p.refill(SECOND, 0)).toBe(SECOND);
    expect(p.refill(SECOND, -5 * SECOND)).toBe(SECOND);
  });

  it("refills from an idle gap of any length without overflowing", () => {
    const p = new BucketParams(4294967295, 4294967295, 1);
    expect(p.refill(0, i64.MAX_VALUE)).toBe(p.capacity);
  });

  it("knows when the next whole token arrives", () => {
    const p = new BucketParams(2, 1, 10 * SECOND);
    expect(p.nsUntilNextToken(p.capacity)).toBe(0);
    expect(p.nsUntilNextToken(0)).toBe(10 * SECOND);
    expect(p.nsUntilNextToken(p.unit - 1)).toBe(1);
    expect(p.secondsUntilNextToken(0)).toBe(10);
    expect(p.secondsUntilNextToken(p.unit - 1)).toBe(1, "rounded up, never 0 while no token is there");
    expect(p.secondsUntilNextToken(p.unit)).toBe(0);
    expect(ceilSeconds(1)).toBe(1);
    expect(ceilSeconds(0)).toBe(0);
  });

  it("states the full-refill window in whole seconds", () => {
    expect(new BucketParams(10, 10, SECOND).fullRefillSeconds()).toBe(1);
    expect(new BucketParams(10, 1, SECOND).fullRefillSeconds()).toBe(10);
    expect(new BucketParams(3, 2, SECOND).fullRefillSeconds()).toBe(2, "1.5 s rounds up");
    expect(new BucketParams(1, 1, SECOND / 10).fullRefillSeconds()).toBe(1, "at least one second");
  });

  it("refuses settings it cannot count exactly", () => {
    expect(BucketParams.fitsExactly(10, 1, SECOND)).toBe(true);
    expect(BucketParams.fitsExactly(4294967295, 1, 31_536_000 * SECOND)).toBe(false);
    expect(BucketParams.fitsExactly(1, 1, MAX_CAPACITY)).toBe(true);
    expect(BucketParams.fitsExactly(2, 1, MAX_CAPACITY)).toBe(false);
    expect(BucketParams.fitsExactly(0, 1, SECOND)).toBe(false);
    expect(BucketParams.fitsExactly(1, 0, SECOND)).toBe(false);
    expect(BucketParams.fitsExactly(1, 1, 0)).toBe(false);
  });
});
