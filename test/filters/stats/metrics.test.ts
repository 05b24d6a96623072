// The four metrics, their values, their encoded names and the label-tuple cache (filters.md §2.1,
// §2.3, §2.4, §2.6), through the emulator with the real module.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Buffer } from "node:buffer";
import { HeaderMap } from "../../../host/http/header-map.js";
import { counters, defaultRequest, exchange, histograms, loadStats } from "./stats-kit.js";

const inbound = { rootId: "stats_inbound" };

/** Envoy's HeaderMap::byteSize(): the sum of key and value lengths (proxy-wasm-abi.md §2.5). */
const byteSize = (h: Record<string, string>): number => {
  const m = new HeaderMap();
  for (const [k, v] of Object.entries(h)) m.add(k, v);
  return m.byteSize();
};

describe("istio_requests_total and the histograms", () => {
  it("counts every request under its label tuple, one series per tuple", async () => {
    const { emu } = await loadStats(inbound);
    for (const status of [200, 200, 404, 200, 503, 404]) exchange(emu, { response: { status } });
    const byCode = Object.fromEntries(counters(emu, "istio_requests_total").map((s) => [s.labels["response_code"], s.value]));
    assert.deepEqual(byCode, { "200": 3n, "404": 2n, "503": 1n });
  });

  it("records the duration in whole milliseconds (request.duration truncated)", async () => {
    const { emu } = await loadStats(inbound);
    const s = emu.newStream();
    s.sendRequestHeaders(defaultRequest, { endStream: true });
    emu.advance(12.7);
    s.respond({ status: 200 });
    s.complete();
    const [h] = histograms(emu, "istio_request_duration_milliseconds");
    assert.equal(h!.count, 1);
    assert.equal(h!.sum, 12);
  });

  it("records request and response sizes as request.total_size / response.total_size (headers + body + trailers)", async () => {
    const { emu } = await loadStats(inbound);
    const request = { ...defaultRequest, ":method": "POST", "content-type": "text/plain", "content-length": "11" };
    const response = { status: 201, headers: { "content-type": "text/plain" }, body: "created!", trailers: { "x-checksum": "abc" } };
    exchange(emu, { request, requestBody: "hello world", response });
    const [req] = histograms(emu, "istio_request_bytes");
    const [res] = histograms(emu, "istio_response_bytes");
    assert.equal(req!.sum, byteSize(request) + 11);
    assert.equal(res!.sum, byteSize({ ...response.headers, ":status": "201" }) + Buffer.byteLength("created!") + byteSize(response.trailers));
  });

  it("histograms carry the same 25 labels as the counter", async () => {
    const { emu } = await loadStats(inbound);
    exchange(emu);
    const [c] = counters(emu, "istio_requests_total");
    for (const metric of ["istio_request_duration_milliseconds", "istio_request_bytes", "istio_response_bytes"]) {
      const [h] = histograms(emu, metric);
      assert.deepEqual(h!.labels, c!.labels, metric);
    }
  });

  it("names metrics <stat_prefix>_<name>", async () => {
    const { emu } = await loadStats({ ...inbound, configuration: { stat_prefix: "mesh" } });
    exchange(emu);
    assert.equal(counters(emu, "mesh_requests_total").length, 1);
    assert.equal(histograms(emu, "mesh_request_bytes").length, 1);
    assert.equal(counters(emu, "istio_requests_total").length, 0);
  });

  it("uses the configured field and value separators", async () => {
    const { emu } = await loadStats({ ...inbound, configuration: { field_separator: "|", value_separator: ":" } });
    exchange(emu);
    const [series] = counters(emu, "istio_requests_total", [":", "|"]);
    assert.equal(series!.labels["reporter"], "destination");
    assert.match(series!.name, /^reporter:destination\|source_workload:unknown\|/);
  });

  it("replaces the field separator inside a value, so the name still splits into the right tags", async () => {
    const { emu } = await loadStats(inbound);
    exchange(emu, { request: { ...defaultRequest, ":authority": "evil;.;response_code=.=999;.;" } });
    const [series] = counters(emu, "istio_requests_total");
    assert.equal(series!.labels["destination_service"], "evil_response_code=.=999_");
    assert.equal(series!.labels["response_code"], "200");
  });

  it("publishes istio_build{component=proxy, tag=<ISTIO_VERSION>} = 1", async () => {
    const { emu } = await loadStats(inbound);
    assert.equal(emu.gauge("component.proxy.tag.1.18.2;.istio_build"), 1n);
    const { emu: bare } = await loadStats({ ...inbound, node: { id: "n", cluster: "c", metadata: {} } });
    assert.equal(bare.gauge("component.proxy.tag.unknown;.istio_build"), 1n);
  });
});

describe("metric id cache", () => {
  const miss = "wasm_filter.stats_filter.cache.miss.metric_cache_count";
  const hit = "wasm_filter.stats_filter.cache.hit.metric_cache_count";
  const evicted = "wasm_filter.stats_filter.cache.evicted.metric_cache_count";

  it("defines a tuple's metrics once and counts hits in batches of 100, as Istio's plugin did", async () => {
    const { emu } = await loadStats(inbound);
    for (let i = 0; i < 250; i++) exchange(emu);
    assert.equal(emu.counter(miss), 1n);
    assert.equal(emu.counter(hit), 200n, "249 hits, reported per 100");
    assert.equal(counters(emu, "istio_requests_total")[0]!.value, 250n);
  });

  it("evicts the oldest tuple when full, counts it, and counts exactly after re-defining", async () => {
    const { emu } = await loadStats({ ...inbound, configuration: { max_metric_cache_size: 2 } });
    for (const status of [200, 404, 503, 200, 404]) exchange(emu, { response: { status } });
    assert.equal(emu.counter(miss), 5n, "each tuple came back after it was evicted");
    assert.equal(emu.counter(evicted), 3n);
    const byCode = Object.fromEntries(counters(emu, "istio_requests_total").map((s) => [s.labels["response_code"], s.value]));
    assert.deepEqual(byCode, { "200": 2n, "404": 2n, "503": 1n });
  });

  it("keeps one cache per worker VM", async () => {
    const { emu } = await loadStats({ ...inbound, concurrency: 2 });
    for (const worker of [0, 1, 0, 1]) {
      const s = emu.newStream({ worker });
      s.sendRequestHeaders(defaultRequest, { endStream: true });
      s.respond({ status: 200 });
      s.complete();
    }
    assert.equal(emu.counter(miss), 2n);
    assert.equal(counters(emu, "istio_requests_total")[0]!.value, 4n);
  });

  it("reports nothing when every metric is dropped", async () => {
    const { emu } = await loadStats({ ...inbound, configuration: { metrics: [{ drop: true }] } });
    exchange(emu);
    assert.equal(emu.stats.counters().filter((c) => c.name.includes("istio_") || c.name.includes("cache")).length, 0);
    assert.equal(emu.stats.histograms().length, 0);
  });
});
