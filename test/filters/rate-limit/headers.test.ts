// Rate-limit response headers follow the bucket state (filters.md §4.1, §4.2): Envoy's
// DRAFT_VERSION_03 x-ratelimit-* fields on every response that consulted a bucket, or the IETF
// RateLimit-Policy / RateLimit structured fields.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bucket, loadRateLimit, request } from "./rl-kit.js";

describe("rate-limit response headers", () => {
  it("DRAFT_VERSION_03: limit, remaining and reset on every response, the 429 included", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(3, 1, "4s"), enable_x_ratelimit_headers: "DRAFT_VERSION_03" });
    const seen = [];
    for (let i = 0; i < 4; i++) {
      const r = request(emu);
      seen.push([r.status, r.headers["x-ratelimit-limit"], r.headers["x-ratelimit-remaining"], r.headers["x-ratelimit-reset"]]);
    }
    assert.deepEqual(seen, [
      [200, "3", "2", "0"],
      [200, "3", "1", "0"],
      [200, "3", "0", "4"],
      [429, "3", "0", "4"],
    ]);
    emu.advance(1000);
    const later = request(emu);
    assert.equal(later.status, 429);
    assert.equal(later.headers["x-ratelimit-reset"], "3", "a quarter of the way to the next token");
    assert.equal(later.headers["retry-after"], "3", "retry-after names the same moment");
    emu.advance(3000);
    const refilled = request(emu);
    assert.deepEqual([refilled.status, refilled.headers["x-ratelimit-remaining"], refilled.headers["x-ratelimit-reset"]], [200, "0", "4"]);
  });

  it("IETF_DRAFT_10: RateLimit-Policy and RateLimit named after the rule", async () => {
    const { emu } = await loadRateLimit({
      enable_x_ratelimit_headers: "IETF_DRAFT_10",
      descriptors: [{ name: "per-user", key: "{header:x-user}", token_bucket: bucket(10, 1, "1s") }],
    });
    const first = request(emu, { "x-user": "alice" });
    assert.equal(first.headers["ratelimit-policy"], '"per-user";q=10;w=10', "10 requests per the 10 s a drained bucket takes to refill");
    assert.equal(first.headers["ratelimit"], '"per-user";r=9;t=0');
    assert.equal(first.headers["x-ratelimit-limit"], undefined);
    for (let i = 0; i < 9; i++) request(emu, { "x-user": "alice" });
    const limited = request(emu, { "x-user": "alice" });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers["ratelimit"], '"per-user";r=0;t=1');
    assert.equal(limited.headers["retry-after"], "1");
  });

  it("adds nothing to responses whose request consulted no bucket", async () => {
    const { emu } = await loadRateLimit({
      enable_x_ratelimit_headers: "DRAFT_VERSION_03",
      descriptors: [{ name: "api", match: { prefix: "/api/" }, token_bucket: bucket(1) }],
    });
    const r = request(emu, { ":path": "/other" });
    assert.equal(r.status, 200);
    assert.equal(r.headers["x-ratelimit-limit"], undefined);
  });
});
