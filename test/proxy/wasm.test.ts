// Wasm filters in the local proxy (envoy.filters.http.wasm before the router): headers a filter
// sets drive the router (retries), local replies pass through the filter's response side, the
// "wasm" log level set by POST /logging reaches proxy_get_log_level, Wasm metrics show in /stats
// and /stats/prometheus, streams are pinned to one worker VM per connection, and a plugin whose
// on_configure fails stops startup. Filters are small WAT probes (test/host/wat-kit.ts).
import assert from "node:assert/strict";
import http from "node:http";
import { after, describe, test } from "node:test";
import { loadBootstrap } from "../../host/config/bootstrap.js";
import { ProxyServer } from "../../host/proxy/server.js";
import { EnvoyLogger } from "../../host/proxy/logger.js";
import { probe, type ProbeOptions } from "../host/wat-kit.js";
import { bootstrap, startProxy, type StartedProxy } from "../support/proxy.js";
import { startUpstream } from "./upstream.js";

const running: Array<{ stop(): Promise<void> } | { close(): Promise<void> }> = [];
after(async () => {
  for (const r of running.reverse()) await ("stop" in r ? r.stop() : r.close());
});

type Bootstrap = ReturnType<typeof bootstrap>;

/** Puts a Wasm filter (module inline, as vm_config.code.local.inline_bytes) before the router. */
async function withWasm(b: Bootstrap, module: ProbeOptions, config: Record<string, unknown> = {}): Promise<Bootstrap> {
  const bytes = await probe(module);
  const hcm = (b as any).static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  hcm.http_filters.unshift({
    name: "envoy.filters.http.wasm",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
      config: {
        name: "probe",
        root_id: "probe_root",
        vm_config: { vm_id: "probe_vm", runtime: "envoy.wasm.runtime.v8", code: { local: { inline_bytes: Buffer.from(bytes).toString("base64") } } },
        ...config,
      },
    },
  });
  return b;
}

async function start(b: Bootstrap, concurrency = 1): Promise<StartedProxy> {
  const p = await startProxy({ config: b, concurrency, logLevel: "info" });
  running.push(p);
  return p;
}

const requestHeaders = "proxy_on_request_headers";
const responseHeaders = "proxy_on_response_headers";

describe("Wasm filters in the local proxy", () => {
  test("retry headers set by a filter drive the router even on an edge request (they are set after sanitizing)", async () => {
    const up = await startUpstream((_r, res) => {
      res.statusCode = 503;
      res.end();
    });
    running.push(up);
    const b = await withWasm(bootstrap(up.port, { hcm: { use_remote_address: true } }), {
      imports: ["proxy_replace_header_map_value"],
      strings: { on: "x-envoy-retry-on", onv: "5xx", max: "x-envoy-max-retries", maxv: "2" },
      callbacks: {
        [requestHeaders]: "(drop (call $proxy_replace_header_map_value (i32.const 0) $S(on) $S(onv))) (drop (call $proxy_replace_header_map_value (i32.const 0) $S(max) $S(maxv))) (i32.const 0)",
      },
    });
    const p = await start(b);
    const res = await fetch(p.url(), { headers: { "x-envoy-max-retries": "9" } });
    assert.equal(res.status, 503);
    assert.equal(up.received.length, 3, "the filter's x-envoy-max-retries: 2 applies, the client's was stripped first");
    assert.equal(up.header(0, "x-envoy-retry-on"), undefined, "the router consumes the retry headers");
    const stats = await p.stats();
    assert.equal(stats.get("cluster.upstream.upstream_rq_retry"), 2);
  });

  test("properties a filter reads come from the connection manager and router: route, virtual host, cluster, upstream", async () => {
    const up = await startUpstream((_r, res) => void res.end("ok"));
    running.push(up);
    const props: Array<[string, string]> = [
      ["x-route", "xds\0route_name"],
      ["x-vhost", "xds\0virtual_host_name"],
      ["x-cluster", "xds\0cluster_name"],
      ["x-upstream", "upstream\0address"],
    ];
    const strings: Record<string, string> = {};
    let body = "";
    props.forEach(([header, path], i) => {
      strings[`h${i}`] = header;
      strings[`p${i}`] = path;
      body += `(if (i32.eqz (call $proxy_get_property $S(p${i}) (i32.const 2048) (i32.const 2052)))
        (then (drop (call $proxy_add_header_map_value (i32.const 2) $S(h${i}) (i32.load (i32.const 2048)) (i32.load (i32.const 2052))))))\n`;
    });
    const b = await withWasm(bootstrap(up.port, { routes: [{ name: "r1", match: { prefix: "/" }, route: { cluster: "upstream" } }] }), {
      imports: ["proxy_get_property", "proxy_add_header_map_value"],
      strings,
      callbacks: { [responseHeaders]: `${body} (i32.const 0)` },
    });
    const p = await start(b);
    const res = await fetch(p.url());
    assert.equal(res.headers.get("x-route"), "r1");
    assert.equal(res.headers.get("x-vhost"), "vh");
    assert.equal(res.headers.get("x-cluster"), "upstream");
    assert.equal(res.headers.get("x-upstream"), `127.0.0.1:${up.port}`);
  });

  test("the router's local replies (404 no route) go through the filter's response side", async () => {
    const b = await withWasm(bootstrap(1, { routes: [{ match: { path: "/only" }, route: { cluster: "upstream" } }] }), {
      imports: ["proxy_add_header_map_value"],
      strings: { k: "x-from-wasm", v: "yes" },
      callbacks: { [responseHeaders]: "(drop (call $proxy_add_header_map_value (i32.const 2) $S(k) $S(v))) (i32.const 0)" },
    });
    const p = await start(b);
    const res = await fetch(`${p.url()}/elsewhere`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("x-from-wasm"), "yes");
  });

  test("POST /logging?wasm=debug reaches proxy_get_log_level, and wasm log lines use Envoy's prefix", async () => {
    // On each response: if the wasm log level is debug or lower, add x-debug and log at debug.
    const b = await withWasm(bootstrap(1, { routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }), {
      imports: ["proxy_get_log_level", "proxy_add_header_map_value", "proxy_log"],
      strings: { k: "x-debug", v: "on", msg: "debugging" },
      callbacks: {
        [responseHeaders]: `(drop (call $proxy_get_log_level (i32.const 2048)))
          (if (i32.le_u (i32.load (i32.const 2048)) (i32.const 1))
            (then (drop (call $proxy_add_header_map_value (i32.const 2) $S(k) $S(v)))
                  (drop (call $proxy_log (i32.const 1) $S(msg)))))
          (i32.const 0)`,
      },
    });
    const p = await start(b);
    assert.equal((await fetch(p.url())).headers.get("x-debug"), null);
    const changed = await (await fetch(`${p.adminUrl}/logging?wasm=debug`, { method: "POST" })).text();
    assert.match(changed, /^ {2}wasm: debug$/m);
    assert.equal((await fetch(p.url())).headers.get("x-debug"), "on");
    assert.ok(p.logs.some((l) => /\]\[debug\]\[wasm\] wasm log probe probe_root probe_vm: debugging\n$/.test(l)), p.logs.join(""));
  });

  test("Wasm metrics: wasmcustom.* in /stats; in /stats/prometheus without the namespace, tags from stats_tags", async () => {
    const b = await withWasm(bootstrap(1, { routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }), {
      imports: ["proxy_define_metric", "proxy_increment_metric"],
      strings: { name: "reporter=.=proxy;.;probe_requests_total" },
      callbacks: {
        [requestHeaders]: "(drop (call $proxy_define_metric (i32.const 0) $S(name) (i32.const 2048))) (drop (call $proxy_increment_metric (i32.load (i32.const 2048)) (i64.const 1))) (i32.const 0)",
      },
    });
    (b as Record<string, unknown>).stats_config = { stats_tags: [{ tag_name: "reporter", regex: "(reporter=\\.=(.*?);\\.;)" }] };
    const p = await start(b);
    for (let i = 0; i < 3; i++) await (await fetch(p.url())).text();
    const stats = await p.stats();
    assert.equal(stats.get("wasmcustom.reporter=.=proxy;.;probe_requests_total"), 3);
    assert.ok((stats.get("wasm.envoy.wasm.runtime.v8.created") ?? 0) >= 1);
    const prom = await (await fetch(`${p.adminUrl}/stats/prometheus`)).text();
    assert.match(prom, /^# TYPE probe_requests_total counter\nprobe_requests_total\{reporter="proxy"\} 3$/m);
  });

  test("each downstream connection is pinned to one worker VM, round robin over --concurrency workers", async () => {
    // Every response carries how many requests this VM instance has seen (one digit).
    const b = await withWasm(bootstrap(1, { routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }), {
      imports: ["proxy_add_header_map_value"],
      strings: { k: "x-vm-count" },
      extra: "(global $n (mut i32) (i32.const 0))",
      callbacks: {
        [responseHeaders]: `(global.set $n (i32.add (global.get $n) (i32.const 1)))
          (i32.store8 (i32.const 3000) (i32.add (i32.const 48) (global.get $n)))
          (drop (call $proxy_add_header_map_value (i32.const 2) $S(k) (i32.const 3000) (i32.const 1)))
          (i32.const 0)`,
      },
    });
    const p = await start(b, 2);
    const connection = () => new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (agent: http.Agent) =>
      new Promise<string>((resolve, reject) => {
        http.get(p.url(), { agent }, (res) => {
          res.resume();
          res.on("end", () => resolve(String(res.headers["x-vm-count"])));
        }).on("error", reject);
      });
    const a = connection(), bAgent = connection(), c = connection();
    const seen = [await get(a), await get(a), await get(bAgent), await get(c)];
    for (const agent of [a, bAgent, c]) agent.destroy();
    // a → worker 0 (1, 2); b → worker 1 (1); c → worker 0 again (3).
    assert.deepEqual(seen, ["1", "2", "1", "3"]);
  });

  test("a plugin whose on_configure returns false stops startup with the reason", async () => {
    const b = await withWasm(bootstrap(1), { callbacks: { proxy_on_configure: "(i32.const 0)" } });
    const bootstrapModel = loadBootstrap({ config: { json: b, source: "t" } });
    const lines: string[] = [];
    await assert.rejects(
      ProxyServer.start({ bootstrap: bootstrapModel, concurrency: 1, log: new EnvoyLogger("info", (l) => void lines.push(l)) }),
      /http_filters\[0\] \(envoy\.filters\.http\.wasm\): Unable to create Wasm HTTP filter probe: Failed to configure base Wasm plugin/,
    );
    assert.ok(lines.some((l) => l.includes("[critical][wasm] Plugin probe failed to load")));
  });
});
