// Tag extraction with Envoy's default extractors and bootstrap stats_tags, and the /stats and
// /stats/prometheus formats (Envoy tag_producer_impl.cc, well_known_names.cc, prometheus_stats.cc).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatG32, prometheusMetricName, renderPrometheus, renderStatsText } from "../../host/stats/render.js";
import { MemoryStatsStore } from "../../host/stats/store.js";
import { TagProducer } from "../../host/stats/tag-extractor.js";

const istioTags = ["reporter", "source_workload", "response_code"].map((name) => ({ name, regex: `(${name}=\\.=(.*?);\\.;)` }));

describe("tag extraction", () => {
  const p = new TagProducer(istioTags);
  const cases: Array<[string, string, Array<[string, string]>]> = [
    ["cluster.httpbin_service.upstream_rq_500", "cluster.upstream_rq", [["envoy.response_code", "500"], ["envoy.cluster_name", "httpbin_service"]]],
    ["cluster.httpbin_service.retry.upstream_rq_5xx", "cluster.retry.upstream_rq_xx", [["envoy.response_code_class", "5"], ["envoy.cluster_name", "httpbin_service"]]],
    ["http.ingress_http.downstream_rq_2xx", "http.downstream_rq_xx", [["envoy.response_code_class", "2"], ["envoy.http_conn_manager_prefix", "ingress_http"]]],
    ["listener.0.0.0.0_15001.downstream_cx_total", "listener.downstream_cx_total", [["envoy.listener_address", "0.0.0.0_15001"]]],
    ["listener.0.0.0.0_15001.worker_1.downstream_cx_total", "listener.worker_downstream_cx_total", [["envoy.worker_id", "1"], ["envoy.listener_address", "0.0.0.0_15001"]]],
    ["listener.admin.downstream_cx_total", "listener.admin.downstream_cx_total", []],
    ["vhost.httpbin_local_service.vcluster.other.upstream_rq_retry", "vhost.vcluster.upstream_rq_retry", [["envoy.virtual_cluster", "other"], ["envoy.virtual_host", "httpbin_local_service"]]],
    [
      "wasmcustom.reporter=.=destination;.;source_workload=.=productpage-v1;.;response_code=.=200;.;istio_requests_total",
      "wasmcustom.istio_requests_total",
      [["reporter", "destination"], ["source_workload", "productpage-v1"], ["response_code", "200"]],
    ],
  ];
  for (const [name, extracted, tags] of cases) {
    test(name, () => {
      const r = p.produceTags(name);
      assert.equal(r.tagExtractedName, extracted);
      assert.deepEqual(r.tags.map((t) => [t.name, t.value]), tags);
    });
  }

  test("fixed_value tags and use_all_default_tags: false", () => {
    const fixed = new TagProducer([{ name: "mesh", fixedValue: "m1" }], false);
    assert.deepEqual(fixed.produceTags("cluster.a.upstream_rq_200"), { tagExtractedName: "cluster.a.upstream_rq_200", tags: [{ name: "mesh", value: "m1" }] });
    const onlyCluster = new TagProducer([{ name: "envoy.cluster_name" }], false);
    assert.equal(onlyCluster.produceTags("cluster.a.upstream_rq_200").tagExtractedName, "cluster.upstream_rq_200");
  });
});

describe("rendering", () => {
  function store(): MemoryStatsStore {
    const s = new MemoryStatsStore();
    s.counter("cluster.c.upstream_rq_200").inc(3n);
    s.counter("cluster.c.upstream_rq_503").inc();
    s.counter("cluster.c.upstream_rq_retry");
    s.gauge("server.live").set(1n);
    s.counter("wasmcustom.reporter=.=source;.;istio_requests_total").inc(2n);
    s.counter("wasmcustom.9starts_with_digit").inc();
    const h = s.histogram("cluster.c.upstream_rq_time", "milliseconds");
    h.record(3);
    h.record(3.05);
    s.histogram("http.x.downstream_rq_time", "milliseconds");
    return s;
  }

  test("/stats: counters and gauges by name, then histograms with quantiles or 'No recorded values'", () => {
    const text = renderStatsText(store());
    const lines = text.trimEnd().split("\n");
    assert.deepEqual(lines.slice(0, 4), ["cluster.c.upstream_rq_200: 3", "cluster.c.upstream_rq_503: 1", "cluster.c.upstream_rq_retry: 0", "server.live: 1"]);
    assert.match(text, /^cluster\.c\.upstream_rq_time: P0\(nan,3\.0\) P25\(nan,[\d.]+\) .* P99\.5\(nan,[\d.]+\) P99\.9\(nan,[\d.]+\) P100\(nan,3\.05\)$/m);
    assert.match(text, /^http\.x\.downstream_rq_time: No recorded values$/m);
    assert.match(text, /^wasmcustom\.reporter=\.=source;\.;istio_requests_total: 2$/m, "/stats keeps the custom namespace");
    assert.equal(renderStatsText(store(), { filter: /retry/ }), "cluster.c.upstream_rq_retry: 0\n");
    assert.doesNotMatch(renderStatsText(store(), { usedOnly: true }), /upstream_rq_retry|No recorded values/);
  });

  test("/stats/prometheus: TYPE lines, tags as labels, wasmcustom stripped without envoy_, histogram buckets", () => {
    const text = renderPrometheus(store(), new TagProducer(istioTags));
    assert.match(text, /^# TYPE envoy_cluster_upstream_rq counter\nenvoy_cluster_upstream_rq\{envoy_response_code="200",envoy_cluster_name="c"\} 3\nenvoy_cluster_upstream_rq\{envoy_response_code="503",envoy_cluster_name="c"\} 1$/m);
    assert.match(text, /^# TYPE istio_requests_total counter\nistio_requests_total\{reporter="source"\} 2$/m);
    assert.doesNotMatch(text, /starts_with_digit/, "a custom metric that is not a valid Prometheus name is left out");
    assert.match(text, /^# TYPE envoy_server_live gauge\nenvoy_server_live\{\} 1$/m);
    assert.match(text, /^# TYPE envoy_cluster_upstream_rq_time histogram$/m);
    assert.match(text, /^envoy_cluster_upstream_rq_time_bucket\{envoy_cluster_name="c",le="0\.5"\} 0$/m);
    assert.match(text, /^envoy_cluster_upstream_rq_time_bucket\{envoy_cluster_name="c",le="5"\} 2$/m);
    assert.match(text, /^envoy_cluster_upstream_rq_time_bucket\{envoy_cluster_name="c",le="3600000"\} 2$/m);
    assert.match(text, /^envoy_cluster_upstream_rq_time_bucket\{envoy_cluster_name="c",le="\+Inf"\} 2$/m);
    assert.match(text, /^envoy_cluster_upstream_rq_time_sum\{envoy_cluster_name="c"\} 6\.049999999999999822364316059975$/m);
    assert.match(text, /^envoy_cluster_upstream_rq_time_count\{envoy_cluster_name="c"\} 2$/m);
    const counters = text.indexOf("counter"), gauges = text.indexOf("gauge"), histograms = text.indexOf("histogram");
    assert.ok(counters < gauges && gauges < histograms, "counters, then gauges, then histograms");
  });

  test("metric names and {:.32g} numbers", () => {
    assert.equal(prometheusMetricName("cluster.upstream_rq"), "envoy_cluster_upstream_rq");
    assert.equal(prometheusMetricName("wasmcustom.a.b-c"), "a_b_c");
    assert.equal(formatG32(15), "15");
    assert.equal(formatG32(0.5), "0.5");
    assert.equal(formatG32(0), "0");
  });
});
