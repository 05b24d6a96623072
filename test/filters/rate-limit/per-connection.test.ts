// local_rate_limit_per_downstream_connection (Envoy: a bucket per connection): the buckets live in
// the worker VM that serves the connection, since Envoy pins a connection to one worker; they use
// no shared data, and a full bucket's slot is reused, so memory stays bounded.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bucket, loadRateLimit, request } from "./rl-kit.js";

describe("per-connection buckets", () => {
  it("gives every downstream connection its own bucket", async () => {
    const { emu } = await loadRateLimit({ local_rate_limit_per_downstream_connection: true, token_bucket: bucket(2) });
    const on = (id: number) => ({ connection: { id: BigInt(id) } });
    assert.deepEqual([1, 1, 1].map(() => request(emu, {}, on(1)).status), [200, 200, 429]);
    assert.deepEqual([1, 1, 1].map(() => request(emu, {}, on(2)).status), [200, 200, 429]);
    emu.advance(1000);
    assert.equal(request(emu, {}, on(1)).status, 200, "refills like a shared bucket");
    assert.equal(emu.shared.keys("").length, 0, "nothing in shared data");
  });

  it("keys per connection and descriptor", async () => {
    const { emu } = await loadRateLimit({
      local_rate_limit_per_downstream_connection: true,
      descriptors: [{ name: "user", key: "{header:x-user}", token_bucket: bucket(1) }],
    });
    const conn = { connection: { id: 7n } };
    assert.equal(request(emu, { "x-user": "a" }, conn).status, 200);
    assert.equal(request(emu, { "x-user": "a" }, conn).status, 429);
    assert.equal(request(emu, { "x-user": "b" }, conn).status, 200);
    assert.equal(request(emu, { "x-user": "a" }, { connection: { id: 8n } }).status, 200);
  });

  it("reuses the slots of refilled buckets when connections come and go", async () => {
    const { emu } = await loadRateLimit({ local_rate_limit_per_downstream_connection: true, max_buckets: 16, token_bucket: bucket(1, 1, "1s") });
    // 16 live connections fill the table; the 17th finds no slot (default: fail open, counted).
    for (let id = 1; id <= 17; id++) request(emu, {}, { connection: { id: BigInt(id) } });
    assert.ok(Number(emu.counter("http_local_rate_limiter.http_local_rate_limit.descriptor_overflow")) >= 1);
    // A second later those buckets are full again: their slots serve new connections, each limited
    // (8, the probe window: one of them always has a reusable slot in its window).
    emu.advance(1000);
    for (let id = 100; id < 108; id++) {
      assert.equal(request(emu, {}, { connection: { id: BigInt(id) } }).status, 200);
      assert.equal(request(emu, {}, { connection: { id: BigInt(id) } }).status, 429, `connection ${id} has its own bucket`);
    }
  });
});
