// The configuration parser and the plan of metrics and tags it builds (Istio's Wasm plugin rules).
import { MetricType } from "proxy-wasm-as";
import { DURATION_MS, EXPRESSION, PlannedMetric, StatsConfig, isDurationText, isPlainName, parseConfig } from "../config";
import { ExpressionContext } from "../expression";
import { Reporter, STANDARD_LABEL_COUNT } from "../labels";

const context = new ExpressionContext(null);

function config(text: string): StatsConfig {
  const p = parseConfig(text, context);
  if (p.error.length > 0) abort("unexpected error: " + p.error);
  return p.config;
}

function errorOf(text: string): string {
  return parseConfig(text, context).error;
}

function metric(c: StatsConfig, shortName: string): PlannedMetric {
  for (let i = 0; i < c.metrics.length; i++) if (c.metrics[i].shortName == shortName) return c.metrics[i];
  abort("no metric " + shortName);
  return c.metrics[0];
}

/** The metric's tags still emitted, as "tag=source" joined by commas. */
function tagsOf(m: PlannedMetric): string {
  const out = new Array<string>();
  for (let i = 0; i < m.tags.length; i++) if (m.sources[i] >= 0) out.push(m.tags[i] + "=" + m.sources[i].toString());
  return out.join(",");
}

describe("defaults", () => {
  it("are Istio's", () => {
    const c = config("");
    expect(c.statPrefix).toBe("istio");
    expect(c.fieldSeparator).toBe(";.;");
    expect(c.valueSeparator).toBe("=.=");
    expect(c.disableHostHeaderFallback).toBe(false);
    expect(c.reporter).toBe(-1);
    expect(c.maxMetricCacheSize).toBe(1000);
    expect(c.maxPeerCacheSize).toBe(500);
  });
  it("plan the four HTTP metrics with the 25 standard labels", () => {
    const c = config("{}");
    expect(c.metrics.length).toBe(4);
    expect(c.metrics[0].name).toBe("istio_requests_total");
    expect(c.metrics[0].type).toBe(MetricType.Counter);
    expect(c.metrics[1].name).toBe("istio_request_duration_milliseconds");
    expect(c.metrics[1].type).toBe(MetricType.Histogram);
    expect(c.metrics[1].measure).toBe(DURATION_MS);
    expect(c.metrics[3].name).toBe("istio_response_bytes");
    expect(c.metrics[2].tags.length).toBe(STANDARD_LABEL_COUNT);
    expect(c.metrics[2].sources[24]).toBe(24);
  });
});

describe("fields", () => {
  it("reads every top-level field", () => {
    const c = config('{"stat_prefix":"mesh","field_separator":"|","value_separator":":","disable_host_header_fallback":true,' +
      '"reporter":"SERVER_GATEWAY","max_metric_cache_size":7,"max_peer_cache_size":0,"debug":"true","tcp_reporting_duration":"5s"}');
    expect(c.statPrefix).toBe("mesh");
    expect(c.metrics[0].name).toBe("mesh_requests_total");
    expect(c.fieldSeparator).toBe("|");
    expect(c.valueSeparator).toBe(":");
    expect(c.disableHostHeaderFallback).toBe(true);
    expect(c.reporter).toBe(Reporter.ServerGateway);
    expect(c.maxMetricCacheSize).toBe(7);
    expect(c.maxPeerCacheSize).toBe(0);
  });
  it("reads reporters by name and number", () => {
    expect(config('{"reporter":"CLIENT_SIDECAR"}').reporter).toBe(Reporter.ClientSidecar);
    expect(config('{"reporter":"SERVER_SIDECAR"}').reporter).toBe(Reporter.ServerSidecar);
    expect(config('{"reporter":"UNSPECIFIED"}').reporter).toBe(-1);
    expect(config('{"reporter":0}').reporter).toBe(-1);
    expect(config('{"reporter":1}').reporter).toBe(Reporter.ServerGateway);
  });
  it("reports the first problem with its JSON path", () => {
    expect(errorOf("[1]")).toBe("must be an object");
    expect(errorOf('{"x":1}')).toBe("x: unknown field");
    expect(errorOf('{"metrics":[{"drop":true},{"dimensions":{"a":"b c"}}]}')).toBe(
      "metrics[1].dimensions.a: unsupported expression \"b c\": unexpected ' ' at offset 1 (only literals and attribute paths; no operators or functions)");
    expect(errorOf('{"definitions":[{"name":"x","value":"1","kind":"x"}]}')).toBe("definitions[0].kind: unknown field");
    expect(errorOf('{"max_peer_cache_size":null}')).toBe("max_peer_cache_size: must be an integer from 0 to 1000000");
  });
  it("names and durations", () => {
    expect(isPlainName("istio_1")).toBe(true);
    expect(isPlainName("_x")).toBe(true);
    expect(isPlainName("1x")).toBe(false);
    expect(isPlainName("a-b")).toBe(false);
    expect(isPlainName("")).toBe(false);
    expect(isDurationText("15s")).toBe(true);
    expect(isDurationText("0.25s")).toBe(true);
    expect(isDurationText("1.s")).toBe(false);
    expect(isDurationText(".5s")).toBe(false);
    expect(isDurationText("5m")).toBe(false);
  });
});

describe("metrics[] overrides", () => {
  it("replace a standard tag's source in place and append new tags sorted", () => {
    const c = config('{"metrics":[{"dimensions":{"zeta":"request.host","source_cluster":"\'x\'","alpha":"request.method"}}]}');
    const m = metric(c, "requests_total");
    expect(m.tags.length).toBe(STANDARD_LABEL_COUNT + 2);
    expect(m.tags[25]).toBe("alpha");
    expect(m.tags[26]).toBe("zeta");
    // Expressions in sorted tag order: alpha 0, source_cluster 1, zeta 2.
    expect(m.sources[25]).toBe(STANDARD_LABEL_COUNT + 0);
    expect(m.sources[8]).toBe(STANDARD_LABEL_COUNT + 1);
    expect(m.sources[26]).toBe(STANDARD_LABEL_COUNT + 2);
  });
  it("share one expression between tags with the same text", () => {
    const c = config('{"metrics":[{"dimensions":{"a":"request.host"}},{"dimensions":{"b":" request.host "}}]}');
    expect(c.expressions.length).toBe(1);
  });
  it("remove tags, and a later entry may put one back", () => {
    const c = config('{"metrics":[{"tags_to_remove":["reporter","response_code"]},{"name":"request_bytes","dimensions":{"reporter":"\'r\'"}}]}');
    const count = metric(c, "requests_total");
    expect(count.sources[0]).toBe(-1);
    expect(count.sources[23]).toBe(-1);
    const bytes = metric(c, "request_bytes");
    expect(bytes.sources[0]).toBe(STANDARD_LABEL_COUNT);
    expect(bytes.sources[23]).toBe(-1);
  });
  it("remove added tags by name", () => {
    const c = config('{"metrics":[{"dimensions":{"x":"request.host"}},{"tags_to_remove":["x"]}]}');
    expect(tagsOf(metric(c, "response_bytes")).includes("x=")).toBe(false);
  });
  it("drop the named metric, or all", () => {
    expect(metric(config('{"metrics":[{"name":"response_bytes","drop":true}]}'), "response_bytes").dropped).toBe(true);
    expect(metric(config('{"metrics":[{"name":"response_bytes","drop":true}]}'), "request_bytes").dropped).toBe(false);
    const all = config('{"metrics":[{"drop":true}]}');
    for (let i = 0; i < all.metrics.length; i++) expect(all.metrics[i].dropped).toBe(true);
  });
  it("accept Istio's other standard names as no-ops", () => {
    expect(config('{"metrics":[{"name":"tcp_sent_bytes_total","drop":true}]}').metrics.length).toBe(4);
  });
});

describe("definitions[]", () => {
  it("add metrics without tags, typed, recording their expression", () => {
    const c = config('{"definitions":[{"name":"a","value":"1"},{"name":"b","value":"response.size","type":"HISTOGRAM"},{"name":"g","value":"2","type":1}],' +
      '"metrics":[{"name":"b","dimensions":{"code":"response.code"}}]}');
    expect(c.metrics.length).toBe(7);
    const a = metric(c, "a");
    expect(a.name).toBe("istio_a");
    expect(a.type).toBe(MetricType.Counter);
    expect(a.tags.length).toBe(0);
    expect(a.measure).toBe(EXPRESSION + 0);
    const b = metric(c, "b");
    expect(b.type).toBe(MetricType.Histogram);
    expect(tagsOf(b)).toBe("code=" + (STANDARD_LABEL_COUNT + 3).toString()); // expressions: 1, response.size, 2, response.code
    expect(metric(c, "g").type).toBe(MetricType.Gauge);
  });
  it("refuse non-integer values", () => {
    expect(errorOf('{"definitions":[{"name":"a","value":"true"}]}')).toBe("definitions[0].value: \"true\" is not an integer expression");
    expect(errorOf('{"definitions":[{"name":"a","value":"request.time"}]}')).toBe("definitions[0].value: \"request.time\" is not an integer expression");
  });
});
