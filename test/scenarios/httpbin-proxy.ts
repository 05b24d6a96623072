// envoy-scenarios.md S3 (proxy through Envoy to httpbin) and S5 (admin API), plus the add-header
// example loaded in the same chain. Observables are the ones the reference records for Envoy;
// values that vary between runs (request ids, ports, timings) are checked by shape only.
import assert from "node:assert/strict";
import { echoedHeader, type Scenario, type ScenarioTarget } from "./target.js";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The add-header example's contract in envoy/add-header.yaml: it adds `header: value` to responses. */
export const addHeaderExample = { config: "add-header.yaml", header: "x-proxy-wasm-as", value: "add-header" };

async function get(url: string, init?: RequestInit): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export const s3ProxyHeaders: Scenario = {
  name: "S3: GET /headers through Envoy shows the headers Envoy adds",
  config: addHeaderExample.config,
  async run(t: ScenarioTarget) {
    const res = await get(`${t.baseUrl}/headers`);
    assert.equal(res.status, 200, res.text);
    const body = JSON.parse(res.text);
    assert.equal(echoedHeader(body, "host"), t.upstreamHost, "auto_host_rewrite with a LOGICAL_DNS cluster");
    assert.equal(echoedHeader(body, "x-envoy-expected-rq-timeout-ms"), "15000", "default route timeout 15 s");
    assert.equal(echoedHeader(body, "x-forwarded-proto"), "http");
    assert.match(echoedHeader(body, "x-request-id") ?? "", uuid);
    assert.equal(res.headers.get("server"), "envoy");
    assert.match(res.headers.get("x-envoy-upstream-service-time") ?? "", /^\d+$/);
  },
};

export const s5Admin: Scenario = {
  name: "S5: the admin API answers as Envoy's does",
  config: addHeaderExample.config,
  async run(t: ScenarioTarget) {
    const stats = await t.stats();
    for (const name of ["upstream_rq_retry", "upstream_rq_retry_success", "upstream_rq_retry_limit_exceeded", "upstream_rq_retry_overflow", "retry_or_shadow_abandoned"]) {
      assert.equal(stats.get(`cluster.httpbin_service.${name}`), 0, `cluster.httpbin_service.${name} before any retry`);
    }
    assert.equal(stats.get("vhost.httpbin_local_service.vcluster.other.upstream_rq_retry"), 0);
    assert.match((await get(`${t.adminUrl}/listeners`)).text, /^httpbin-demo::\S+:\d+$/m);
    assert.match((await get(`${t.adminUrl}/clusters`)).text, /^httpbin_service::/m);
    assert.deepEqual(JSON.parse((await get(`${t.adminUrl}/certs`)).text), { certificates: [] });
    const dump = JSON.parse((await get(`${t.adminUrl}/config_dump`)).text) as { configs: { "@type": string }[] };
    assert.ok(dump.configs.some((c) => c["@type"].endsWith("BootstrapConfigDump")));
    const loggers = await get(`${t.adminUrl}/logging`, { method: "POST" });
    assert.match(loggers.text, /active loggers:/);
    assert.match(loggers.text, /^\s*wasm: \w+$/m, "the wasm logger exists (POST /logging?wasm=debug)");
    const prom = (await get(`${t.adminUrl}/stats/prometheus`)).text;
    assert.match(prom, /^# TYPE envoy_cluster_\w+ counter$/m);
    assert.match(prom, /envoy_cluster_name="httpbin_service"/);
    assert.equal((await get(`${t.adminUrl}/ready`)).text.trim(), "LIVE");
  },
};

export const addHeaderResponse: Scenario = {
  name: "add-header: the Wasm filter runs before the router and adds its response header",
  config: addHeaderExample.config,
  async run(t: ScenarioTarget) {
    const res = await get(`${t.baseUrl}/status/200`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get(addHeaderExample.header), addHeaderExample.value);
    const dump = (await get(`${t.adminUrl}/config_dump`)).text;
    assert.match(dump, /"root_id": "add_header"/);
    const stats = await t.stats();
    // proxy-wasm-abi.md §7.1: Envoy's own Wasm stats, wasm.<runtime>.created/active
    assert.ok((stats.get("wasm.envoy.wasm.runtime.v8.created") ?? 0) >= 1, "a V8 Wasm VM was created");
  },
};

export const httpbinProxyScenarios: Scenario[] = [s3ProxyHeaders, s5Admin, addHeaderResponse];
