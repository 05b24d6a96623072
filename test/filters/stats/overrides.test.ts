// Istio's stats PluginConfig customizations (filters.md §2.5; istio/proxy extensions/stats/plugin.cc
// initializeDimensions): metrics[] dimensions, tags_to_remove, drop and name, custom definitions,
// and the supported expression forms, through the emulator with the real module.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { STANDARD_LABELS, counters, defaultRequest, exchange, histograms, istioNode, loadStats, peerState, workloadMetadata } from "./stats-kit.js";

const node = istioNode("reviews-v2", "bookinfo", {}, { CLUSTER_ID: "east-1", ZONE: { name: "a" } });
const inbound = { rootId: "stats_inbound", node };

async function requestLabels(configuration: Record<string, unknown>, x: Parameters<typeof exchange>[1] = {}) {
  const { emu } = await loadStats({ ...inbound, configuration });
  exchange(emu, x);
  return counters(emu, "istio_requests_total");
}

describe("metrics[].dimensions", () => {
  it("appends new tags after the standard ones, sorted by tag name", async () => {
    const [s] = await requestLabels({ metrics: [{ dimensions: { request_host: "request.host", request_method: "request.method", api: "'v1'" } }] });
    assert.deepEqual(s!.order, [...STANDARD_LABELS, "api", "request_host", "request_method"]);
    assert.equal(s!.labels["api"], "v1");
    assert.equal(s!.labels["request_host"], defaultRequest[":authority"]);
    assert.equal(s!.labels["request_method"], "GET");
  });

  it("replaces a standard tag's value in place (Istio's inbound defaults: clusters from node and peer)", async () => {
    const peer = workloadMetadata("productpage-v1", "bookinfo", {}, { CLUSTER_ID: "west-2" });
    const [s] = await requestLabels(
      { metrics: [{ dimensions: { destination_cluster: "node.metadata['CLUSTER_ID']", source_cluster: "downstream_peer.cluster_id" } }] },
      { streamInfo: { filterState: peerState({ downstream_peer: peer }) } },
    );
    assert.deepEqual(s!.order, STANDARD_LABELS);
    assert.equal(s!.labels["destination_cluster"], "east-1");
    assert.equal(s!.labels["source_cluster"], "west-2");
  });

  it("reads headers, integer, boolean and filter-state attributes", async () => {
    const [s] = await requestLabels(
      {
        metrics: [{
          dimensions: {
            user_agent: "request.headers['User-Agent']",
            port: "destination.port",
            mtls: "connection.mtls",
            operation: "filter_state['wasm.istio_operationId']",
            attempts: "upstream.request_attempt_count",
            plugin: "plugin_root_id",
          },
        }],
      },
      {
        request: { ...defaultRequest, "user-agent": "curl/8.5" },
        streamInfo: { filterState: peerState({ istio_operationId: Buffer.from("GetReviews") }) },
      },
    );
    assert.equal(s!.labels["user_agent"], "curl/8.5");
    assert.equal(s!.labels["port"], "10000");
    assert.equal(s!.labels["mtls"], "false");
    assert.equal(s!.labels["operation"], "GetReviews");
    assert.equal(s!.labels["attempts"], "1");
    assert.equal(s!.labels["plugin"], "stats_inbound");
  });

  it("reads peer fields by their Wasm-era and newer names, labels included", async () => {
    const peer = workloadMetadata("productpage-v1", "bookinfo", { team: "books" });
    const [s] = await requestLabels(
      { metrics: [{ dimensions: { a: "downstream_peer.workload_name", b: "downstream_peer.workload", c: "downstream_peer.labels['team']", d: "downstream_peer.namespace", e: "upstream_peer.app" } }] },
      { streamInfo: { filterState: peerState({ downstream_peer: peer }) } },
    );
    assert.deepEqual([s!.labels["a"], s!.labels["b"], s!.labels["c"], s!.labels["d"], s!.labels["e"]], ["productpage-v1", "productpage-v1", "books", "bookinfo", "unknown"]);
  });

  it("evaluates to unknown what is absent", async () => {
    const [s] = await requestLabels({ metrics: [{ dimensions: { h: "request.headers['x-missing']", n: "node.metadata['NOPE']", p: "downstream_peer.mesh_id" } }] });
    assert.deepEqual([s!.labels["h"], s!.labels["n"], s!.labels["p"]], ["unknown", "unknown", "unknown"]);
  });

  it("applies to the named metric only", async () => {
    const { emu } = await loadStats({ ...inbound, configuration: { metrics: [{ name: "request_bytes", dimensions: { method: "request.method" } }] } });
    exchange(emu);
    assert.equal(histograms(emu, "istio_request_bytes")[0]!.labels["method"], "GET");
    assert.equal(counters(emu, "istio_requests_total")[0]!.labels["method"], undefined);
  });

  it("splits series by the new dimension", async () => {
    const { emu } = await loadStats({ ...inbound, configuration: { metrics: [{ dimensions: { method: "request.method" } }] } });
    for (const m of ["GET", "POST", "GET"]) exchange(emu, { request: { ...defaultRequest, ":method": m } });
    assert.deepEqual(Object.fromEntries(counters(emu, "istio_requests_total").map((s) => [s.labels["method"], s.value])), { GET: 2n, POST: 1n });
  });
});

describe("metrics[].tags_to_remove, drop and order", () => {
  it("removes standard tags (all metrics, or the named one)", async () => {
    const { emu } = await loadStats({ ...inbound, configuration: { metrics: [{ tags_to_remove: ["source_principal", "grpc_response_status"] }, { name: "requests_total", tags_to_remove: ["response_flags"] }] } });
    exchange(emu);
    const [c] = counters(emu, "istio_requests_total");
    const [h] = histograms(emu, "istio_request_bytes");
    assert.deepEqual(c!.order, STANDARD_LABELS.filter((t) => !["source_principal", "grpc_response_status", "response_flags"].includes(t)));
    assert.deepEqual(h!.order, STANDARD_LABELS.filter((t) => !["source_principal", "grpc_response_status"].includes(t)));
  });

  it("removing a label merges the series that differed only by it", async () => {
    const { emu } = await loadStats({ ...inbound, configuration: { metrics: [{ tags_to_remove: ["response_code"] }] } });
    for (const status of [200, 404, 503]) exchange(emu, { response: { status } });
    const series = counters(emu, "istio_requests_total");
    assert.equal(series.length, 1);
    assert.equal(series[0]!.value, 3n);
  });

  it("a later entry can put back a removed tag, in its standard place", async () => {
    const { emu } = await loadStats({ ...inbound, configuration: { metrics: [{ tags_to_remove: ["request_protocol"] }, { dimensions: { request_protocol: "request.protocol" } }] } });
    exchange(emu);
    const [c] = counters(emu, "istio_requests_total");
    assert.deepEqual(c!.order, STANDARD_LABELS);
    assert.equal(c!.labels["request_protocol"], "HTTP/1.1");
  });

  it("drop stops the named metric", async () => {
    const { emu } = await loadStats({ ...inbound, configuration: { metrics: [{ name: "request_duration_milliseconds", drop: true }, { name: "tcp_sent_bytes_total", drop: true }] } });
    exchange(emu);
    assert.equal(histograms(emu, "istio_request_duration_milliseconds").length, 0);
    assert.equal(histograms(emu, "istio_request_bytes").length, 1);
    assert.equal(counters(emu, "istio_requests_total").length, 1);
  });
});

describe("definitions[]", () => {
  it("defines a counter with an integer value and no standard tags; dimensions add tags to it", async () => {
    const { emu } = await loadStats({
      ...inbound,
      configuration: {
        definitions: [{ name: "response_body_bytes_total", value: "response.size" }, { name: "requests_again", value: "1", type: "COUNTER" }],
        metrics: [{ name: "response_body_bytes_total", dimensions: { code: "response.code" } }],
      },
    });
    exchange(emu, { response: { status: 200, body: "12345" } });
    exchange(emu, { response: { status: 200, body: "123" } });
    const [bytes] = counters(emu, "istio_response_body_bytes_total");
    assert.deepEqual(bytes!.order, ["code"]);
    assert.equal(bytes!.labels["code"], "200");
    assert.equal(bytes!.value, 8n);
    const [again] = counters(emu, "istio_requests_again");
    assert.deepEqual(again!.order, []);
    assert.equal(again!.value, 2n);
  });

  it("defines gauges (set to the value) and histograms (record it)", async () => {
    const { emu } = await loadStats({
      ...inbound,
      configuration: { definitions: [{ name: "last_attempts", value: "upstream.request_attempt_count", type: "GAUGE" }, { name: "path_len", value: "request.headers['x-len']", type: "HISTOGRAM" }] },
    });
    exchange(emu, { request: { ...defaultRequest, "x-len": "42" } });
    assert.equal(emu.gauge("istio_last_attempts"), 1n);
    const h = emu.histogram("istio_path_len");
    assert.equal(h!.count, 1);
    assert.equal(h!.sum, 42);
  });

  it("skips a request whose value is absent or not an integer, and never increments a counter by 0", async () => {
    const { emu } = await loadStats({ ...inbound, configuration: { definitions: [{ name: "sized", value: "request.headers['x-size']" }] } });
    exchange(emu, { request: { ...defaultRequest, "x-size": "abc" } });
    exchange(emu);
    exchange(emu, { request: { ...defaultRequest, "x-size": "0" } });
    exchange(emu, { request: { ...defaultRequest, "x-size": "5" } });
    assert.equal(emu.counter("istio_sized"), 5n);
  });

  it("counts with a value taken from the local node or a peer", async () => {
    const peer = workloadMetadata("productpage-v1", "bookinfo");
    const { emu } = await loadStats({
      ...inbound,
      node: istioNode("reviews-v2", "bookinfo", {}, { SHARDS: "4" }),
      configuration: { definitions: [{ name: "shards", value: "node.metadata['SHARDS']" }, { name: "weight", value: "downstream_peer.labels['w']" }] },
    });
    exchange(emu, { streamInfo: { filterState: peerState({ downstream_peer: { ...peer, LABELS: { w: "7" } } }) } });
    assert.equal(emu.counter("istio_shards"), 4n);
    assert.equal(emu.counter("istio_weight"), 7n);
  });
});
