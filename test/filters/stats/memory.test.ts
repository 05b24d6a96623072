// Linear memory stays bounded however many requests, paths, label tuples and peers the traffic
// brings: the per-request path keeps nothing, and every cache has a bound (filters.md §2.6 item 5).
// Memory is read after a warm-up and must not grow afterwards.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { counters, defaultRequest, exchange, loadStats, peerState, workloadMetadata } from "./stats-kit.js";

const randomPath = (): string => `/items/${Math.random().toString(36).slice(2)}?q=${Math.random()}`;
const evicted = "wasm_filter.stats_filter.cache.evicted.metric_cache_count";
// Keeps the host's own stats store small: only the counter is emitted.
const countersOnly = [{ name: "request_duration_milliseconds", drop: true }, { name: "request_bytes", drop: true }, { name: "response_bytes", drop: true }];

describe("linear memory under random input", () => {
  it("100 000 requests with random paths: one tuple, memory flat after warm-up", async () => {
    const { emu, plugin } = await loadStats({ rootId: "stats_inbound" });
    for (let i = 0; i < 2000; i++) exchange(emu, { request: { ...defaultRequest, ":path": randomPath() } });
    const warm = plugin.memoryBytes(0);
    for (let i = 0; i < 98000; i++) exchange(emu, { request: { ...defaultRequest, ":path": randomPath() } });
    assert.equal(plugin.memoryBytes(0), warm);
    assert.equal(counters(emu, "istio_requests_total")[0]!.value, 100000n);
  });

  it("20 000 distinct label tuples (a url_path dimension): the metric cache evicts, memory stays flat", async () => {
    const { emu, plugin } = await loadStats({
      rootId: "stats_inbound",
      configuration: { max_metric_cache_size: 100, metrics: [...countersOnly, { dimensions: { path: "request.url_path" } }] },
    });
    for (let i = 0; i < 2000; i++) exchange(emu, { request: { ...defaultRequest, ":path": randomPath() } });
    const warm = plugin.memoryBytes(0);
    for (let i = 0; i < 18000; i++) exchange(emu, { request: { ...defaultRequest, ":path": randomPath() } });
    assert.equal(plugin.memoryBytes(0), warm);
    assert.equal(emu.counter(evicted), 19900n);
    assert.equal(counters(emu, "istio_requests_total").length, 20000);
  });

  it("20 000 distinct peers: the peer and metric caches evict, memory stays flat", async () => {
    const { emu, plugin } = await loadStats({ rootId: "stats_inbound", configuration: { max_peer_cache_size: 50, max_metric_cache_size: 50, metrics: countersOnly } });
    const peer = (i: number) => ({ filterState: peerState({ downstream_peer: workloadMetadata(`app${i}-v1`, `ns${i % 7}`, { team: Math.random().toString(36) }) }) });
    for (let i = 0; i < 2000; i++) exchange(emu, { streamInfo: peer(i) });
    const warm = plugin.memoryBytes(0);
    for (let i = 2000; i < 20000; i++) exchange(emu, { streamInfo: peer(i) });
    assert.equal(plugin.memoryBytes(0), warm);
    assert.equal(counters(emu, "istio_requests_total").length, 20000);
  });
});
