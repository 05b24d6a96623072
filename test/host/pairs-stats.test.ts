// The pairs encoding (proxy-wasm-abi.md §5.1, cpp-host PairsUtil) and the stats store
// (filters.md §2.3): exact bytes, every malformed-buffer rule, uint64 stats, Envoy's buckets.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultHistogramBuckets, MemoryStatsStore } from "../../host/stats/store.js";
import { decodePairs, encodePairs, pairsMaxCount } from "../../host/wasm/pairs.js";

describe("pairs encoding (§5.1)", () => {
  it("encodes the reference example byte for byte (⚠ the spec's own example is wrong)", () => {
    const bytes = encodePairs([["a", "1"], ["bc", "22"]]);
    assert.equal(Buffer.from(bytes).toString("hex"), "02000000" + "0100000001000000" + "0200000002000000" + "61003100" + "626300323200");
    assert.equal(bytes.length, 30);
    assert.deepEqual(decodePairs(bytes), [["a", "1"], ["bc", "22"]]);
    assert.deepEqual(decodePairs(encodePairs([])), []);
  });

  it("parses malformed buffers as an empty list, like cpp-host", () => {
    const good = Buffer.from(encodePairs([["k", "v"]]));
    const cases: Array<[string, Buffer]> = [
      ["shorter than the count", Buffer.from([1, 0])],
      ["size table past the end", good.subarray(0, 8)],
      ["string past the end", good.subarray(0, good.length - 1)],
      ["missing NUL terminator", Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([1])])],
      ["trailing bytes", Buffer.concat([good, Buffer.from([0])])],
      ["too many pairs", Buffer.from(Uint32Array.of(pairsMaxCount + 1).buffer)],
      ["larger than 1 MiB", Buffer.alloc(1024 * 1024 + 1)],
    ];
    for (const [why, buf] of cases) assert.deepEqual(decodePairs(buf), [], why);
    // Values are arbitrary bytes.
    assert.deepEqual(decodePairs(encodePairs([["k", "\u0000\u00ff"]])), [["k", "\u0000\u00ff"]]);
  });
});

describe("stats store", () => {
  it("keeps counters and gauges as uint64 (a gauge below zero wraps, as in Envoy)", () => {
    const s = new MemoryStatsStore();
    s.counter("c").inc();
    s.counter("c").inc(2n ** 40n);
    assert.equal(s.findCounter("c")?.value, 2n ** 40n + 1n);
    const g = s.gauge("g");
    g.add(5n);
    g.sub(7n);
    assert.equal(g.value, 2n ** 64n - 2n);
    assert.throws(() => s.counter(""), /must not be empty/);
  });

  it("buckets histograms with Envoy's defaults or configured bounds", () => {
    const s = new MemoryStatsStore({ histogramBuckets: [{ prefix: "wasmcustom.custom", buckets: [1, 10] }] });
    const h = s.histogram("wasmcustom.latency", "milliseconds");
    for (const v of [0.2, 3, 7, 400, 4000000]) h.record(v);
    assert.deepEqual(h.bounds, defaultHistogramBuckets);
    assert.deepEqual(
      h.cumulativeBuckets().filter((b) => [0.5, 5, 10, 500, 3600000].includes(b.upperBound)).map((b) => b.count),
      [1, 2, 3, 4, 4],
    );
    assert.equal(h.count, 5);
    assert.equal(h.sum, 4000410.2);
    assert.deepEqual(s.histogram("wasmcustom.custom_x").bounds, [1, 10]);
    assert.throws(() => h.record(Number.NaN), /cannot record/);
  });
});
