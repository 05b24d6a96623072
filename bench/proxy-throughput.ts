// Throughput of the local proxy under load: autocannon (50 connections, 10 s by default) through
// `proxy-wasm run` to a minimal HTTP upstream, first with the router alone, then with the filter
// suite (metadata-exchange, stats, retry-headers, rate-limit; those built in build/) before it.
// Proxy and upstream run as their own processes, as they would in use. `npm run bench` calls
// proxyThroughput(); running this file directly prints the results.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { buildDir } from "../host/build.js";
import { bootstrap } from "../test/support/proxy.js";

export interface ThroughputResult {
  name: string;
  filters: string[];
  connections: number;
  durationSec: number;
  requests: number;
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

export interface ThroughputOptions {
  connections?: number;
  durationSec?: number;
  /** Proxy --concurrency (worker VMs per plugin). */
  concurrency?: number;
}

/** The filter suite in chain order, with bench configurations that let every request through. */
export const filterSuite: Array<{ name: string; configuration: Record<string, unknown> }> = [
  { name: "metadata-exchange", configuration: {} },
  { name: "stats", configuration: {} },
  { name: "retry-headers", configuration: {} },
  // A bucket far larger than the load can drain, so the limiter runs on every request but never rejects.
  { name: "rate-limit", configuration: { token_bucket: { max_tokens: 100000000, tokens_per_fill: 100000000, fill_interval: "1s" } } },
];

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number }) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

const cli = new URL("../host/cli.js", import.meta.url).pathname;

/** Spawns a node process and resolves with the first stderr/stdout line matching `ready`. */
function spawnUntil(args: string[], ready: RegExp): Promise<{ proc: ChildProcess; match: RegExpExecArray }> {
  const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) resolve({ proc, match: m });
    };
    proc.stdout!.on("data", onData);
    proc.stderr!.on("data", onData);
    proc.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}:\n${out}`)));
  });
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await exited;
}

const upstreamSource = `
const http = require("node:http");
const s = http.createServer((req, res) => { req.resume(); req.on("end", () => { res.writeHead(200, { "content-type": "text/plain", "content-length": "2" }); res.end("ok"); }); });
s.keepAliveTimeout = 60000;
s.listen(0, "127.0.0.1", () => console.log("upstream port " + s.address().port));`;

function wasmFilters(filters: typeof filterSuite): unknown[] {
  return filters.map((f) => ({
    name: "envoy.filters.http.wasm",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
      config: {
        name: f.name,
        root_id: f.name,
        configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: JSON.stringify(f.configuration) },
        vm_config: { vm_id: f.name, runtime: "envoy.wasm.runtime.v8", code: { local: { filename: join(buildDir, `${f.name}.wasm`) } } },
      },
    },
  }));
}

async function measure(name: string, filters: typeof filterSuite, upstreamPort: number, o: Required<ThroughputOptions>): Promise<ThroughputResult> {
  const dir = mkdtempSync(join(tmpdir(), "proxy-bench-"));
  const config = join(dir, "bootstrap.yaml");
  writeFileSync(config, stringify(bootstrap(upstreamPort, { filters: wasmFilters(filters) })));
  const { proc, match } = await spawnUntil(
    [cli, "run", "-c", config, "--concurrency", String(o.concurrency), "-l", "warning", "--component-log-level", "config:info"],
    /listener 'test' listening on (\S+)/,
  );
  try {
    const r = await autocannon({ url: `http://${match[1]}/bench`, connections: o.connections, duration: o.durationSec });
    return {
      name,
      filters: filters.map((f) => f.name),
      connections: o.connections,
      durationSec: o.durationSec,
      requests: r.requests.total,
      requestsPerSec: r.requests.average,
      latencyP50Ms: r.latency.p50,
      latencyP99Ms: r.latency.p99,
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
    };
  } finally {
    await stop(proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the load: router only, then the filter suite (the filters whose build output exists). */
export async function proxyThroughput(options: ThroughputOptions = {}): Promise<ThroughputResult[]> {
  const o = { connections: options.connections ?? 50, durationSec: options.durationSec ?? 10, concurrency: options.concurrency ?? 2 };
  const { proc: upstream, match } = await spawnUntil(["-e", upstreamSource], /upstream port (\d+)/);
  try {
    const results = [await measure("no filter (router only)", [], Number(match[1]), o)];
    const suite = filterSuite.filter((f) => existsSync(join(buildDir, `${f.name}.wasm`)));
    if (suite.length) results.push(await measure("filter suite", suite, Number(match[1]), o));
    return results;
  } finally {
    await stop(upstream);
  }
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  proxyThroughput().then(
    (results) => {
      for (const r of results) {
        console.log(
          `${r.name.padEnd(24)} ${r.requestsPerSec.toFixed(0).padStart(7)} req/s  p50 ${r.latencyP50Ms} ms  p99 ${r.latencyP99Ms} ms  ` +
            `errors ${r.errors}  timeouts ${r.timeouts}  non-2xx ${r.non2xx}  [${r.filters.join(", ") || "-"}]`,
        );
      }
    },
    (e: Error) => {
      console.error(e.message);
      process.exitCode = 1;
    },
  );
}
