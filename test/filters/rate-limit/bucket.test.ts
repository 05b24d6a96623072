// The token bucket shared by every worker VM (filters.md §4.1, §4.4): it starts full, allows
// exactly max_tokens, and refills continuously at tokens_per_fill per fill_interval, as Envoy's
// AtomicTokenBucketImpl does — checked on the emulator's controlled clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { moduleBytes } from "../../support/modules.js";
import { bucket, count, counters, loadRateLimit, request, statuses } from "./rl-kit.js";

describe("shared token bucket", () => {
  it("lets exactly max_tokens through across workers, then exactly tokens_per_fill per interval", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(10, 4, "2s") }, { concurrency: 4 });
    const first = statuses(emu, 30, 4);
    assert.equal(count(first, 200), 10);
    assert.deepEqual(first.slice(0, 10), Array(10).fill(200), "the bucket starts full");
    assert.equal(count(first, 429), 20);
    emu.advance(2000);
    assert.equal(count(statuses(emu, 10, 4), 200), 4, "one fill interval adds exactly tokens_per_fill");
    emu.advance(4000);
    assert.equal(count(statuses(emu, 20, 4), 200), 8, "two intervals add twice as many");
    emu.advance(3_600_000);
    assert.equal(count(statuses(emu, 20, 4), 200), 10, "never more than max_tokens, however long the wait");
  });

  it("refills continuously, not in steps of a whole interval", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(5, 5, "1s") });
    assert.equal(count(statuses(emu, 6), 200), 5);
    emu.advance(599);
    assert.equal(count(statuses(emu, 5), 200), 2, "0.599 s of 5 tokens/s is 2.995 tokens: 2 whole ones");
    emu.advance(1);
    assert.equal(count(statuses(emu, 5), 200), 1, "the fraction carried over: 0.995 + 0.005 = 1 token");
  });

  it("counts what it decides in Envoy's stats", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(2) });
    assert.deepEqual(counters(emu), { enabled: 0, ok: 0, rate_limited: 0, enforced: 0, cas_exhausted: 0, descriptor_overflow: 0 },
      "defined at configure time, like Envoy's");
    statuses(emu, 5, 2);
    assert.deepEqual(counters(emu), { enabled: 5, ok: 2, rate_limited: 3, enforced: 3, cas_exhausted: 0, descriptor_overflow: 0 });
  });

  it("keeps its bucket in shared data under a key named by the plugin", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(3) }, { name: "ns.limiter" });
    const keys = emu.shared.keys("");
    assert.equal(keys.length, 1, "created at configure time, before any request");
    assert.match(keys[0]!, /^rl:ns\.limiter:default:\d+:0$/);
    const created = emu.sharedData(keys[0]!)!;
    request(emu);
    const value = emu.sharedData(keys[0]!)!;
    assert.equal(value.value.length, 24, "owner, level and time in one value, updated by one CAS");
    assert.notEqual(value.cas, created.cas);
  });

  it("gives plugins with different names their own buckets even when they share a vm_id", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(1) }, { name: "a" });
    await emu.loadPlugin({ wasm: await moduleBytes("rate-limit"), name: "b", rootId: "rate_limit", configuration: { token_bucket: bucket(1) } });
    // Both plugins are in the chain: with one shared bucket the second would refuse the first request.
    assert.equal(request(emu).status, 200);
    assert.equal(request(emu).status, 429);
    assert.deepEqual(emu.shared.keys("").map((k) => k.split(":")[1]).sort(), ["a", "b"]);
  });

  it("numbers the slots of a bucket table with a fixed width", async () => {
    const { emu } = await loadRateLimit({ descriptors: [{ name: "user", key: "{header:x-user}", max_buckets: 1000, token_bucket: bucket(1) }] });
    const slots = emu.shared.keys("").map((k) => k.split(":")[4]!);
    assert.equal(slots.length, 1000);
    assert.deepEqual([slots[0], slots[7], slots[999]], ["000", "007", "999"]);
  });
});
