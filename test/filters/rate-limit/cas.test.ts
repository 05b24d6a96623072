// The compare-and-swap path (proxy-wasm-abi.md §2.8) with real contention: the emulator makes
// another "worker" write the bucket between the filter's get and its CAS set. The filter must
// retry on top of the competitor's state (no token spent twice), give up after max_cas_attempts,
// count that, and apply failure_mode_deny.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Emulator } from "../../../host/emulator/index.js";
import { bucket, counters, loadRateLimit, request } from "./rl-kit.js";

const SECOND = 1_000_000_000n;

/** The only bucket key, its token level in whole tokens and the slot bytes. */
function onlyBucket(emu: Emulator, unitNs: bigint): { key: string; tokens: bigint; value: Buffer } {
  const keys = emu.shared.keys("");
  assert.equal(keys.length, 1);
  const value = emu.sharedData(keys[0]!)!.value;
  return { key: keys[0]!, tokens: value.readBigInt64LE(8) / unitNs, value };
}

/** A slot as another worker would have written it: `tokens` left, at the current monotonic time. */
function slot(owner: bigint, tokens: bigint, unitNs: bigint, emu: Emulator): Buffer {
  const b = Buffer.alloc(24);
  b.writeBigUInt64LE(owner, 0);
  b.writeBigInt64LE(tokens * unitNs, 8);
  b.writeBigInt64LE(emu.clock.monotonicTimeNs(), 16);
  return b;
}

describe("CAS contention", () => {
  it("retries after losing the race and spends on top of the other worker's write", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(10) });
    assert.equal(request(emu).status, 200);
    const before = onlyBucket(emu, SECOND);
    assert.equal(before.tokens, 9n);
    // Before each of our next 3 CAS writes, another worker has just taken tokens (down to 5).
    emu.injectCasContention(before.key, slot(1n, 5n, SECOND, emu), { times: 3 });
    assert.equal(request(emu).status, 200);
    assert.equal(onlyBucket(emu, SECOND).tokens, 4n, "the other worker's 5 tokens minus ours: nothing spent twice");
    assert.equal(counters(emu).cas_exhausted, 0);
  });

  it("gives up after max_cas_attempts, counts it and fails open by default", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(10), max_cas_attempts: 3, enable_x_ratelimit_headers: "DRAFT_VERSION_03" });
    request(emu);
    const { key } = onlyBucket(emu, SECOND);
    const competitor = slot(1n, 7n, SECOND, emu);
    emu.injectCasContention(key, competitor, { times: 3 });
    const r = request(emu);
    assert.equal(r.status, 200, "fail open");
    assert.equal(r.headers["x-ratelimit-remaining"], undefined, "no bucket state to report");
    assert.deepEqual(onlyBucket(emu, SECOND).value, competitor, "our write never landed");
    assert.deepEqual(counters(emu), { enabled: 2, ok: 2, rate_limited: 0, enforced: 0, cas_exhausted: 1, descriptor_overflow: 0 });
    assert.equal(request(emu).status, 200, "contention over: back to normal");
    assert.equal(onlyBucket(emu, SECOND).tokens, 6n);
  });

  it("fails closed with failure_mode_deny", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(10), max_cas_attempts: 2, failure_mode_deny: true });
    request(emu);
    const { key } = onlyBucket(emu, SECOND);
    emu.injectCasContention(key, slot(1n, 9n, SECOND, emu), { times: 2 });
    const r = request(emu);
    assert.equal(r.status, 429);
    assert.equal(r.body, "local_rate_limited");
    assert.equal(r.headers["retry-after"], "1");
    assert.deepEqual(counters(emu), { enabled: 2, ok: 1, rate_limited: 1, enforced: 1, cas_exhausted: 1, descriptor_overflow: 0 });
  });

  it("never admits more than the bucket holds while every request loses one race", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(5, 1, "3600s") }, { concurrency: 3 });
    request(emu);
    const { key } = onlyBucket(emu, 3600n * SECOND);
    let admitted = 1;
    for (let i = 0; i < 20; i++) {
      // The competitor re-writes the state it read (a lost race that takes no token).
      emu.injectCasContention(key, emu.sharedData(key)!.value, { times: 1 });
      if (request(emu, {}, { worker: i % 3 }).status === 200) admitted++;
    }
    assert.equal(admitted, 5);
  });
});
