// Acceptance of issue 7 through the local proxy (test/filters/retry-headers/envoy.yaml) to a real
// httpbin, with a counting forwarder in between as an independent witness of every upstream
// request: retries of GET /status/503 by the rule, none for POST, untrusted x-envoy-max-retries
// replaced, trusted ones capped, gRPC retried on grpc-status, retries on a named response header,
// the metrics in /stats and /stats/prometheus, and a bad configuration stopping startup with the
// filter's log line.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadBootstrap, parseConfigText } from "../../../host/config/bootstrap.js";
import { EnvoyLogger } from "../../../host/proxy/logger.js";
import { ProxyServer } from "../../../host/proxy/server.js";
import { httpbinUnavailable, startHttpbin, type Httpbin } from "../../support/httpbin.js";
import { localizeBootstrap, startProxy, type StartedProxy } from "../../support/proxy.js";
import { projectRoot } from "../../support/modules.js";
import { startCountingUpstream, type CountingUpstream } from "./counting-upstream.js";

const configFile = join(projectRoot, "test", "filters", "retry-headers", "envoy.yaml");
const why = httpbinUnavailable();

let httpbin: Httpbin;
let upstream: CountingUpstream;
let proxy: StartedProxy;

const cluster = (stats: Map<string, number>, name: string) => stats.get(`cluster.httpbin_service.${name}`) ?? 0;

describe("retry-headers through the local proxy to httpbin", { skip: why }, () => {
  before(async () => {
    httpbin = await startHttpbin();
    upstream = await startCountingUpstream(httpbin);
    proxy = await startProxy({ configFile, upstreams: { httpbin: { address: "127.0.0.1", port: upstream.port } } });
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.stop();
    await httpbin?.stop();
  });

  test("GET /status/503 under retry_on 5xx, num_retries 2 reaches httpbin 3 times; the client sees x-envoy-attempt-count: 3", async () => {
    const before = await proxy.stats();
    const res = await fetch(`${proxy.url()}/status/503`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("x-envoy-attempt-count"), "3");
    assert.equal(res.headers.get("x-envoy-upstream-service-time"), null, "stripped by strip_response_headers");
    assert.equal(upstream.count("GET", "/status/503"), 3, "httpbin received 3 requests");
    const after = await proxy.stats();
    assert.equal(cluster(after, "upstream_rq_retry") - cluster(before, "upstream_rq_retry"), 2);
    assert.equal(cluster(after, "upstream_rq_total") - cluster(before, "upstream_rq_total"), 3);
    assert.equal(cluster(after, "upstream_rq_retry_limit_exceeded") - cluster(before, "upstream_rq_retry_limit_exceeded"), 1);
  });

  test("the same request as a POST is not retried", async () => {
    const before = await proxy.stats();
    const res = await fetch(`${proxy.url()}/status/503`, { method: "POST", body: "x" });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("x-envoy-attempt-count"), "1");
    assert.equal(upstream.count("POST", "/status/503"), 1);
    const after = await proxy.stats();
    assert.equal(cluster(after, "upstream_rq_retry") - cluster(before, "upstream_rq_retry"), 0);
  });

  test("x-envoy-max-retries: 10 from an untrusted address gets the rule's value", async () => {
    const stripped = (await proxy.stats()).get("wasmcustom.retry_headers_stripped_total") ?? 0;
    const res = await fetch(`${proxy.url()}/status/502`, { headers: { "x-envoy-max-retries": "10" } });
    // The connection manager deems loopback internal here (envoy.yaml), so it was the filter that removed it.
    assert.equal((await proxy.stats()).get("wasmcustom.retry_headers_stripped_total"), stripped + 1);
    assert.equal(res.status, 502);
    assert.equal(res.headers.get("x-envoy-attempt-count"), "3");
    assert.equal(upstream.count("GET", "/status/502"), 3, "1 + the rule's 2 retries, not 1 + 10");
  });

  test("a trusted caller's x-envoy-max-retries is kept but lowered to caps.max_retries", async () => {
    const res = await fetch(`${proxy.url()}/status/500`, { headers: { "x-envoy-max-retries": "10", "x-internal-caller": "c7f1e0b2" } });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get("x-envoy-attempt-count"), "4");
    assert.equal(upstream.count("GET", "/status/500"), 4, "1 + caps.max_retries (3)");
  });

  test("a gRPC content-type gets x-envoy-retry-grpc-on: grpc-status 14 (unavailable) is retried", async () => {
    const path = "/response-headers?grpc-status=14";
    const res = await fetch(`${proxy.url()}${path}`, { method: "POST", headers: { "content-type": "application/grpc" }, body: "" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("grpc-status"), "14");
    assert.equal(res.headers.get("x-envoy-attempt-count"), "3");
    assert.equal(upstream.count("POST", path), 3);
    const json = await fetch(`${proxy.url()}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(json.headers.get("x-envoy-attempt-count"), "1", "not gRPC: no retry-grpc-on");
  });

  test("x-envoy-retriable-header-names: a response carrying the named header is retried", async () => {
    const retried = "/response-headers?x-upstream-retry=1";
    const res = await fetch(`${proxy.url()}${retried}`);
    assert.equal(res.headers.get("x-envoy-attempt-count"), "2");
    assert.equal(upstream.count("GET", retried), 2);
    const plain = "/response-headers?x-other=1";
    assert.equal((await fetch(`${proxy.url()}${plain}`)).headers.get("x-envoy-attempt-count"), "1");
    assert.equal(upstream.count("GET", plain), 1);
  });

  test("the filter's metrics show in /stats (wasmcustom.*) and /stats/prometheus (namespace stripped)", async () => {
    // Envoy strips the registered custom namespace only in the Prometheus output
    // (PrometheusStatsFormatter::metricName, CustomStatNamespaces::stripRegisteredPrefix).
    const stats = await proxy.stats();
    const stat = (name: string) => stats.get(`wasmcustom.retry_headers_${name}`);
    assert.ok((stat("injected_total") ?? 0) >= 4, "requests with rule headers");
    assert.ok((stat("stripped_total") ?? 0) >= 1, "the untrusted x-envoy-max-retries");
    assert.ok((stat("clamped_total") ?? 0) >= 1, "the trusted x-envoy-max-retries");
    assert.equal(stat("invalid_total"), 0);
    const text = await (await fetch(`${proxy.adminUrl}/stats`)).text();
    assert.match(text, /^wasmcustom\.retry_headers_upstream_attempts: P0\(/m);
    const prometheus = await (await fetch(`${proxy.adminUrl}/stats/prometheus`)).text();
    assert.match(prometheus, /^# TYPE retry_headers_injected_total counter$/m);
    assert.match(prometheus, /^retry_headers_injected_total\{\} \d+$/m);
    assert.match(prometheus, /^# TYPE retry_headers_upstream_attempts histogram$/m);
    assert.match(prometheus, /^retry_headers_upstream_attempts_count\{\} \d+$/m);
  });
});

describe("retry-headers configuration errors in the local proxy", () => {
  test("a bad configuration stops startup with the filter's log line naming the field", async () => {
    const json = parseConfigText(readFileSync(configFile, "utf8"), configFile, "yaml") as Record<string, any>;
    localizeBootstrap(json);
    const wasm = json.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config;
    wasm.configuration.value = JSON.stringify({ rules: [{ retry_on: "5xx,timeouts" }] });
    const lines: string[] = [];
    await assert.rejects(
      ProxyServer.start({ bootstrap: loadBootstrap({ config: { json, source: configFile } }), concurrency: 1, log: new EnvoyLogger("info", (l) => void lines.push(l)) }),
      /Unable to create Wasm HTTP filter retry_headers: Failed to configure base Wasm plugin/,
    );
    const line = lines.find((l) => l.includes("invalid plugin configuration"));
    assert.ok(line, lines.join("\n"));
    assert.match(line, /\[error\]\[wasm\] .*wasm log retry_headers: retry-headers: invalid plugin configuration: rules\[0\]\.retry_on: unknown condition "timeouts" \(Envoy knows: 5xx, /);
  });
});
