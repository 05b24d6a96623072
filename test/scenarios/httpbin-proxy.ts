// envoy-scenarios.md S5 (admin API) and S3 (proxy through Envoy to httpbin), for every shipped
// config: each keeps the book's fixture names (listener httpbin-demo, vhost httpbin_local_service,
// cluster httpbin_service) and Envoy's default behaviour must survive its filters (§5 item 3).
// Observables are the ones the reference records for Envoy; values that vary between runs
// (request ids, ports, timings) are checked by shape only.
import assert from "node:assert/strict";
import { echo, send } from "./observe.js";
import type { Scenario } from "./target.js";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Must run first on its target: it expects the retry counters untouched. */
export function s5Admin(config: string): Scenario {
  return {
    name: "S5: the admin API answers as Envoy's does",
    config,
    async run(t) {
      const stats = await t.stats();
      for (const name of ["upstream_rq_retry", "upstream_rq_retry_success", "upstream_rq_retry_limit_exceeded", "upstream_rq_retry_overflow", "retry_or_shadow_abandoned"]) {
        assert.equal(stats.get(`cluster.httpbin_service.${name}`), 0, `cluster.httpbin_service.${name} before any retry`);
      }
      assert.equal(stats.get("vhost.httpbin_local_service.vcluster.other.upstream_rq_retry"), 0);
      // proxy-wasm-abi.md §7.1: Envoy's own Wasm stats, wasm.<runtime>.created/active
      assert.ok((stats.get("wasm.envoy.wasm.runtime.v8.created") ?? 0) >= 1, "a V8 Wasm VM was created");
      assert.match((await send(`${t.adminUrl}/listeners`)).text, /^httpbin-demo::\S+:\d+$/m);
      assert.match((await send(`${t.adminUrl}/clusters`)).text, /^httpbin_service::/m);
      assert.deepEqual(JSON.parse((await send(`${t.adminUrl}/certs`)).text), { certificates: [] });
      const dump = JSON.parse((await send(`${t.adminUrl}/config_dump`)).text) as { configs: { "@type": string }[] };
      assert.ok(dump.configs.some((c) => c["@type"].endsWith("BootstrapConfigDump")));
      const loggers = await send(`${t.adminUrl}/logging`, { method: "POST" });
      assert.match(loggers.text, /active loggers:/);
      assert.match(loggers.text, /^\s*wasm: \w+$/m, "the wasm logger exists (POST /logging?wasm=debug)");
      const prom = (await send(`${t.adminUrl}/stats/prometheus`)).text;
      assert.match(prom, /^# TYPE envoy_cluster_\w+ counter$/m);
      assert.match(prom, /envoy_cluster_name="httpbin_service"/);
      assert.equal((await send(`${t.adminUrl}/ready`)).text.trim(), "LIVE");
    },
  };
}

export function s3ProxyHeaders(config: string): Scenario {
  return {
    name: "S3: GET /headers through Envoy shows the headers Envoy adds",
    config,
    async run(t) {
      const { reply, header } = await echo(t);
      // auto_host_rewrite writes the endpoint's hostname, "httpbin" in every config (the book's
      // Host with a LOGICAL_DNS cluster named httpbin).
      assert.equal(header("host"), "httpbin");
      assert.equal(header("x-envoy-expected-rq-timeout-ms"), "15000", "default route timeout 15 s");
      assert.equal(header("x-forwarded-proto"), "http");
      assert.match(header("x-request-id") ?? "", uuid);
      assert.equal(reply.headers.get("server"), "envoy");
      assert.match(reply.headers.get("x-envoy-upstream-service-time") ?? "", /^\d+$/);
    },
  };
}

/** S5 then S3: what every shipped config must pass before its own scenarios. */
export function envoyDefaults(config: string): Scenario[] {
  return [s5Admin(config), s3ProxyHeaders(config)];
}
