// Acceptance through the local proxy in front of a real httpbin: curl sees the 429s and the rate
// limit headers; the stats show in /stats and /stats/prometheus; and with 4 worker VMs, exactly 10
// of 100 simultaneous requests on 100 connections pass, 20 times in a row.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test, type TestContext } from "node:test";
import { Client } from "undici";
import { httpbinUnavailable, startHttpbin, type Httpbin } from "../../support/httpbin.js";
import { modulePath, projectRoot } from "../../support/modules.js";
import { startProxy, type StartedProxy } from "../../support/proxy.js";

const run = promisify(execFile);
const configFile = join(projectRoot, "test", "filters", "rate-limit", "envoy.yaml");
const STAT = "http_local_rate_limiter.http_local_rate_limit";

type Json = Record<string, unknown>;

interface CurlResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function curl(url: string, args: string[] = []): Promise<CurlResponse> {
  const { stdout } = await run("curl", ["-s", "-i", "--max-time", "10", ...args, url]);
  const [head, ...rest] = stdout.split("\r\n\r\n");
  const lines = head!.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(lines[0]!.split(" ")[1]), headers, body: rest.join("\r\n\r\n") };
}

/** The plugin's configuration JSON in a bootstrap, replaced; and the probe put after it. */
function configure(configuration: Json, probe?: string) {
  return (bootstrap: Json): void => {
    const hcm = (((bootstrap.static_resources as Json).listeners as Json[])[0]!.filter_chains as Json[])[0]!.filters as Json[];
    const filters = ((hcm[0]!.typed_config as Json).http_filters as Json[]);
    const wasm = (filters[0]!.typed_config as Json).config as Json;
    (wasm.configuration as Json).value = JSON.stringify(configuration);
    if (probe) {
      filters.splice(1, 0, {
        name: "rl_worker_probe",
        typed_config: {
          "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
          config: { name: "rl_worker_probe", vm_config: { vm_id: "rl_worker_probe", runtime: "envoy.wasm.runtime.v8", code: { local: { filename: probe } } } },
        },
      });
    }
  };
}

describe("rate-limit through the local proxy to httpbin", () => {
  const skipped = httpbinUnavailable();
  let httpbin: Httpbin | undefined;
  const proxies: StartedProxy[] = [];

  before(async () => {
    if (skipped) return;
    await modulePath("rate-limit");
    httpbin = await startHttpbin();
  });

  after(async () => {
    for (const p of proxies) await p.stop();
    await httpbin?.stop();
  });

  const start = async (opts: { concurrency: number; edit?: (b: Json) => void }): Promise<StartedProxy> => {
    const proxy = await startProxy({ configFile, upstreams: { httpbin: httpbin! }, concurrency: opts.concurrency, edit: opts.edit });
    proxies.push(proxy);
    return proxy;
  };

  test("curl sees 200s counting down, then 429 local_rate_limited with the rate-limit headers", async (t: TestContext) => {
    if (skipped) return t.skip(skipped);
    const proxy = await start({ concurrency: 2 });
    const seen: CurlResponse[] = [];
    for (let i = 0; i < 12; i++) seen.push(await curl(`${proxy.url()}/get`));
    assert.deepEqual(seen.map((r) => r.status), [...Array(10).fill(200), 429, 429]);
    assert.deepEqual(seen.slice(0, 10).map((r) => r.headers["x-ratelimit-remaining"]), ["9", "8", "7", "6", "5", "4", "3", "2", "1", "0"]);
    assert.equal(JSON.parse(seen[0]!.body).url, "http://127.0.0.1:" + new URL(proxy.url()).port + "/get", "httpbin answered");
    const limited = seen[10]!;
    assert.equal(limited.body, "local_rate_limited");
    assert.equal(limited.headers["content-type"], "text/plain");
    assert.equal(limited.headers["x-envoy-ratelimited"], "true");
    assert.equal(limited.headers["x-ratelimit-limit"], "10");
    assert.equal(limited.headers["x-ratelimit-remaining"], "0");
    const retryAfter = Number(limited.headers["retry-after"]);
    assert.ok(retryAfter >= 5 && retryAfter <= 6, `retry-after ${retryAfter}: one token refills in 6 s`);
    assert.equal(limited.headers["x-ratelimit-reset"], limited.headers["retry-after"]);

    // The per-client rule: 2 tokens per client address on /status/418.
    const teapots = [];
    for (let i = 0; i < 3; i++) teapots.push((await curl(`${proxy.url()}/status/418`)).status);
    assert.deepEqual(teapots, [418, 418, 429]);

    const stats = await proxy.stats();
    assert.equal(stats.get(`wasmcustom.${STAT}.enabled`), 15);
    assert.equal(stats.get(`wasmcustom.${STAT}.ok`), 12);
    assert.equal(stats.get(`wasmcustom.${STAT}.rate_limited`), 3);
    assert.equal(stats.get(`wasmcustom.${STAT}.enforced`), 3);
    assert.equal(stats.get(`wasmcustom.${STAT}.cas_exhausted`), 0);
    const prometheus = await (await fetch(`${proxy.adminUrl}/stats/prometheus`)).text();
    assert.match(prometheus, /^# TYPE http_local_rate_limiter_http_local_rate_limit_rate_limited counter$/m);
    assert.match(prometheus, /^http_local_rate_limiter_http_local_rate_limit_rate_limited\{\} 3$/m);
    assert.match(prometheus, /^http_local_rate_limiter_http_local_rate_limit_enabled\{\} 15$/m);
  });

  test("100 simultaneous requests over 4 worker VMs: exactly 10 pass, 20 times", async (t: TestContext) => {
    if (skipped) return t.skip(skipped);
    const probe = await modulePath("rl-worker-probe");
    // One key per repetition gives each repetition a fresh bucket of 10; 1 token an hour refills
    // nothing during the test.
    const proxy = await start({
      concurrency: 4,
      edit: configure(
        { descriptors: [{ name: "run", key: "{header:x-run}", token_bucket: { max_tokens: 10, tokens_per_fill: 1, fill_interval: "3600s" } }] },
        probe,
      ),
    });
    const origin = proxy.url();
    for (let run = 0; run < 20; run++) {
      const clients = Array.from({ length: 100 }, () => new Client(origin, { pipelining: 1 }));
      try {
        const responses = await Promise.all(
          clients.map(async (client) => {
            const r = await client.request({ path: "/get", method: "GET", headers: { "x-run": String(run) } });
            await r.body.text();
            return { status: r.statusCode, worker: r.headers["x-worker-vm"] as string | undefined };
          }),
        );
        const passed = responses.filter((r) => r.status === 200);
        assert.equal(passed.length, 10, `run ${run}: ${passed.length} admitted`);
        assert.equal(responses.filter((r) => r.status === 429).length, 90, `run ${run}`);
        const workers = new Set(passed.map((r) => r.worker));
        assert.ok(!workers.has(undefined), "every admitted response names its worker VM");
        assert.ok(workers.size > 1, `run ${run}: the 10 admitted requests came from ${workers.size} worker VM(s)`);
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    }
    const stats = await proxy.stats();
    assert.equal(stats.get(`wasmcustom.${STAT}.ok`), 200);
    assert.equal(stats.get(`wasmcustom.${STAT}.rate_limited`), 1800);
    assert.equal(stats.get(`wasmcustom.${STAT}.cas_exhausted`), 0);
    // Envoy's per-worker listener stats (listener.<address>.worker_<n>.downstream_cx_total): the
    // 2000 connections were spread evenly over the 4 workers.
    const perWorker = [...stats].filter(([name]) => /^listener\..+\.worker_\d\.downstream_cx_total$/.test(name)).map(([, v]) => v);
    assert.deepEqual(perWorker, [500, 500, 500, 500]);
  });
});
