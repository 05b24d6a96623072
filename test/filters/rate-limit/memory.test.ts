// Memory stays bounded under random input: linear memory of the VMs stops growing after warm-up,
// and shared data holds max_buckets keys per templated descriptor however many keys clients send.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { bucket, loadRateLimit, request } from "./rl-kit.js";

const STREAMS = 50_000;
const WARM_UP = 5_000;

function randomHeader(): string {
  return randomBytes(1 + (randomBytes(1)[0]! % 48)).toString("base64");
}

describe("bounded memory", () => {
  it("keeps linear memory and shared data flat over random descriptors", async () => {
    const { emu, plugin } = await loadRateLimit({
      enable_x_ratelimit_headers: "IETF_DRAFT_10",
      xff_num_trusted_hops: 1,
      descriptors: [
        { name: "user", match: { headers: [{ name: "x-user", present: true }] }, key: "{header:x-user}|{path}", token_bucket: bucket(2, 1, "1s"), max_buckets: 256 },
        { name: "client", key: "{source_address}", token_bucket: bucket(3, 1, "1s"), max_buckets: 128 },
      ],
    });
    let before = [0, 0];
    const statuses = new Set<number>();
    for (let i = 0; i < STREAMS; i++) {
      if (i === WARM_UP) before = [plugin.memoryBytes(0), plugin.memoryBytes(1)];
      const headers: Record<string, string> = { ":path": `/${randomHeader()}?q=${i}`, "x-forwarded-for": `198.51.100.${i % 250}, 10.0.0.1` };
      if (i % 3 !== 0) headers["x-user"] = randomHeader();
      statuses.add(request(emu, headers, { worker: i % 2 }).status);
      if (i % 1000 === 999) emu.advance(250);
    }
    assert.deepEqual([...statuses].sort(), [200, 429], "both outcomes were exercised");
    assert.deepEqual([plugin.memoryBytes(0), plugin.memoryBytes(1)], before, "no growth after warm-up");
    const keys = emu.shared.keys("");
    assert.equal(keys.filter((k) => k.startsWith("rl:rl:user:")).length, 256);
    assert.equal(keys.filter((k) => k.startsWith("rl:rl:client:")).length, 128);
  });

  it("keeps per-connection buckets in bounded VM memory", async () => {
    const { emu, plugin } = await loadRateLimit({ local_rate_limit_per_downstream_connection: true, max_buckets: 512, token_bucket: bucket(1) });
    let before = 0;
    for (let i = 0; i < STREAMS; i++) {
      if (i === WARM_UP) before = plugin.memoryBytes(0);
      request(emu, {}, { connection: { id: BigInt(i) } });
      if (i % 500 === 499) emu.advance(1000);
    }
    assert.equal(plugin.memoryBytes(0), before);
    assert.equal(emu.shared.keys("").length, 0);
  });
});
