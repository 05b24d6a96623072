// Throughput of the local proxy under load: autocannon (50 connections) through `proxy-wasm run`
// to a minimal HTTP upstream, with the router alone and with the filter suite (metadata-exchange,
// stats, retry-headers, rate-limit; those built in build/) before it, and optionally no-op modules
// or the suite's WAT floors in its place. Proxy and upstream run as their own processes, as they
// would in use. Next to req/s and latency, the proxy's own CPU time per request is reported.
// The machine's speed drifts by tens of percent within seconds (a shared 2-core VM), so the runs
// are interleaved: one proxy per configuration is started and warmed up first, then each round
// loads every proxy in turn for a short run, in reverse order every other round, so that the runs
// compared within a round are seconds apart and a trend in the machine's speed favours no
// configuration. The caller takes medians over rounds. A fixed offered rate (autocannon
// overallRate) measures all at the same load, which separates the suite's CPU cost from how a
// saturated proxy behaves.
// With `envoyBin` (the bench passes ENVOY_BIN) the proxy is real Envoy instead, run on the same
// bootstrap, filters, upstream and load, so that the suite's cost can be read where it is deployed.
// `npm run bench` calls proxyThroughput(); running this file directly prints the results
// (options: --duration S, --connections N, --concurrency N, --rounds N, --rate R, --noop, --floors,
// --suite-only, --cpu-prof DIR to write a V8 CPU profile of each proxy, --envoy BIN).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { buildDir } from "../host/build.js";
import { launchEnvoy } from "../test/envoy/runner.js";
import { bootstrap } from "../test/support/proxy.js";
import { freeLoopbackPort } from "../test/support/registry.js";
import { wat } from "../test/support/wat.js";
import { floorPath } from "./lifecycle.js";
import { noopPluginWat } from "./noop-plugin.js";
import { filterSuite } from "./suite.js";

/**
 * What a run puts before the router: nothing, no-op Wasm modules (the host's plumbing), the
 * suite's WAT floors (the host's plumbing and the suite's host calls), the suite.
 */
export type ThroughputRunKind = "router" | "noop" | "floors" | "suite";

export interface ThroughputResult {
  name: string;
  kind: ThroughputRunKind;
  /** Which round of the measurement (0-based); each round runs every configuration once. */
  round: number;
  /** The offered load in requests/s, when fixed; absent: as fast as the proxy answers. */
  offeredRate?: number;
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
  /**
   * CPU time (user + system) the proxy process spent per completed request during the load, in µs.
   * Unlike req/s it hardly depends on what else runs on the machine (autocannon and the upstream
   * share its 2 cores), so it is the number to compare between changes. Absent where /proc is not.
   */
  proxyCpuUsPerRequest?: number;
  /**
   * The same for the upstream process and for this process (autocannon, the load generator), which
   * share the machine's cores with the proxy: with the proxy's, the whole machine's CPU per request.
   */
  upstreamCpuUsPerRequest?: number;
  loadGeneratorCpuUsPerRequest?: number;
}

export interface ThroughputOptions {
  connections?: number;
  durationSec?: number;
  /** Proxy --concurrency (worker VMs per plugin). */
  concurrency?: number;
  /** Extra node flags for the proxy process (e.g. --cpu-prof --cpu-prof-dir=DIR to profile it). */
  proxyNodeArgs?: string[];
  /** Measure the filter suite only (skips the router-only run). */
  suiteOnly?: boolean;
  /** Rounds of (router only, [no-op filters,] [floors,] suite), interleaved; default 1. */
  rounds?: number;
  /**
   * Also run, in each round, as many no-op Wasm filters (bench/noop-plugin.ts, each its own VM) as
   * the suite has filters: what the host's per-filter plumbing costs before any filter work.
   */
  noopFilters?: boolean;
  /**
   * Also run, in each round, the suite's hand-written WAT floors (bench/floors/<name>.wat, each its
   * own VM): the same host calls per request as the suite with no SDK or filter logic around them,
   * so the share of the suite's cost that is the host's.
   */
  floorFilters?: boolean;
  /** A fixed offered load in requests/s over all connections; default: as fast as possible. */
  offeredRate?: number;
  /**
   * An Envoy binary to measure instead of the local proxy (started as test/envoy/runner.ts starts
   * it, with --concurrency and -l warning); proxyNodeArgs do not apply to it.
   */
  envoyBin?: string;
}

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
type Autocannon = (opts: { url: string; connections: number; duration: number; overallRate?: number }) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

const cli = new URL("../host/cli.js", import.meta.url).pathname;

/** Spawns a node process and resolves with the first stderr/stdout line matching `ready`. */
function spawnUntil(args: string[], ready: RegExp, nodeArgs: string[] = []): Promise<{ proc: ChildProcess; match: RegExpExecArray }> {
  const proc = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ["ignore", "pipe", "pipe"] });
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

/** utime + stime of a process in µs, from /proc/<pid>/stat (fields 14 and 15, in clock ticks). */
function processCpuUs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1e6) / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}
/** Seconds of load before each measured run. */
const warmUpSec = 2;

/** sysconf(_SC_CLK_TCK): 100 on every Linux Node runs on. */
const clockTicksPerSecond = 100;

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

/** A Wasm filter of a run: its name (also root and VM id), module file and configuration. */
interface BenchFilter {
  name: string;
  file: string;
  configuration: Record<string, unknown>;
}

function wasmFilters(filters: BenchFilter[]): unknown[] {
  return filters.map((f) => ({
    name: "envoy.filters.http.wasm",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
      config: {
        name: f.name,
        root_id: f.name,
        configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: JSON.stringify(f.configuration) },
        vm_config: { vm_id: f.name, runtime: "envoy.wasm.runtime.v8", code: { local: { filename: f.file } } },
      },
    },
  }));
}

/** A proxy process serving the bench's listener. */
interface Launched {
  proc: ChildProcess;
  /** Where the listener answers (host:port). */
  address: string;
  stop(): Promise<void>;
}

/** One configuration's proxy, started and warmed up, waiting for its runs. */
interface RunningProxy {
  name: string;
  kind: ThroughputRunKind;
  filters: BenchFilter[];
  proxy: Launched;
  url: string;
  dir: string;
}

/** The local proxy on the bootstrap (listener and admin on ports it picks and logs). */
async function launchLocal(config: Record<string, unknown>, dir: string, o: Options): Promise<Launched> {
  const file = join(dir, "bootstrap.yaml");
  writeFileSync(file, stringify(config));
  const { proc, match } = await spawnUntil(
    [cli, "run", "-c", file, "--concurrency", String(o.concurrency), "-l", "warning", "--component-log-level", "config:info"],
    /listener 'test' listening on (\S+)/,
    o.proxyNodeArgs,
  );
  return { proc, address: match[1]!, stop: () => stop(proc) };
}

/** Envoy on the same bootstrap, its listener and admin moved to free ports it is told. */
async function launchEnvoyProxy(bin: string, config: Record<string, unknown>, dir: string, o: Options): Promise<Launched> {
  const listenerPort = await freeLoopbackPort();
  const adminPort = await freeLoopbackPort();
  const withPorts = structuredClone(config) as { admin: SocketAddressHolder; static_resources: { listeners: SocketAddressHolder[] } };
  withPorts.admin.address.socket_address.port_value = adminPort;
  withPorts.static_resources.listeners[0]!.address.socket_address.port_value = listenerPort;
  const file = join(dir, "bootstrap.yaml");
  writeFileSync(file, stringify(withPorts));
  const envoy = await launchEnvoy(bin, file, adminPort, ["--concurrency", String(o.concurrency), "-l", "warning"]);
  return { proc: envoy.proc, address: `127.0.0.1:${listenerPort}`, stop: envoy.stop };
}
type SocketAddressHolder = { address: { socket_address: { port_value: number } } };

async function startProxy(name: string, kind: ThroughputRunKind, filters: BenchFilter[], upstreamPort: number, o: Options): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), "proxy-bench-"));
  const config = bootstrap(upstreamPort, { filters: wasmFilters(filters) });
  let proxy: Launched | undefined;
  try {
    proxy = o.envoyBin === undefined ? await launchLocal(config, dir, o) : await launchEnvoyProxy(o.envoyBin, config, dir, o);
    const url = `http://${proxy.address}/bench`;
    // A short unmeasured load first, so that no measured run pays for JIT warm-up.
    await autocannon({ url, connections: o.connections, duration: warmUpSec });
    return { name, kind, filters, proxy, url, dir };
  } catch (e) {
    if (proxy) await proxy.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function stopProxy(p: RunningProxy): Promise<void> {
  await p.proxy.stop();
  rmSync(p.dir, { recursive: true, force: true });
}

async function measure(p: RunningProxy, upstreamPid: number | undefined, round: number, o: Options): Promise<ThroughputResult> {
  const cpuBefore = processCpuUs(p.proxy.proc.pid);
  const upstreamBefore = processCpuUs(upstreamPid);
  const ownBefore = process.cpuUsage();
  const r = await autocannon({
    url: p.url,
    connections: o.connections,
    duration: o.durationSec,
    ...(o.offeredRate === undefined ? {} : { overallRate: o.offeredRate }),
  });
  const cpuAfter = processCpuUs(p.proxy.proc.pid);
  const upstreamAfter = processCpuUs(upstreamPid);
  const own = process.cpuUsage(ownBefore);
  const perRequest = (before: number | undefined, after: number | undefined): number | undefined =>
    before !== undefined && after !== undefined && r.requests.total > 0 ? (after - before) / r.requests.total : undefined;
  const proxyCpu = perRequest(cpuBefore, cpuAfter);
  const upstreamCpu = perRequest(upstreamBefore, upstreamAfter);
  const loadGeneratorCpu = perRequest(0, own.user + own.system);
  return {
    name: p.name,
    kind: p.kind,
    round,
    ...(o.offeredRate === undefined ? {} : { offeredRate: o.offeredRate }),
    filters: p.filters.map((f) => f.name),
    connections: o.connections,
    durationSec: o.durationSec,
    requests: r.requests.total,
    requestsPerSec: r.requests.average,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    ...(proxyCpu === undefined ? {} : { proxyCpuUsPerRequest: proxyCpu }),
    ...(upstreamCpu === undefined ? {} : { upstreamCpuUsPerRequest: upstreamCpu }),
    ...(loadGeneratorCpu === undefined ? {} : { loadGeneratorCpuUsPerRequest: loadGeneratorCpu }),
  };
}

type Options = Required<Omit<ThroughputOptions, "offeredRate" | "envoyBin">> & Pick<ThroughputOptions, "offeredRate" | "envoyBin">;

/**
 * Starts a proxy for each configuration (router only, [no-op filters,] [floors,] the filter suite:
 * the filters whose build output exists), then runs the load round after round, every proxy once
 * per round. Runs of one round are seconds apart, so compare them within a round.
 */
export async function proxyThroughput(options: ThroughputOptions = {}): Promise<ThroughputResult[]> {
  const o: Options = {
    connections: options.connections ?? 50,
    durationSec: options.durationSec ?? 10,
    concurrency: options.concurrency ?? 2,
    proxyNodeArgs: options.proxyNodeArgs ?? [],
    suiteOnly: options.suiteOnly ?? false,
    rounds: options.rounds ?? 1,
    noopFilters: options.noopFilters ?? false,
    floorFilters: options.floorFilters ?? false,
    ...(options.offeredRate === undefined ? {} : { offeredRate: options.offeredRate }),
    ...(options.envoyBin === undefined ? {} : { envoyBin: options.envoyBin }),
  };
  const suite: BenchFilter[] = filterSuite
    .map((f) => ({ ...f, file: join(buildDir, `${f.name}.wasm`) }))
    .filter((f) => existsSync(f.file));
  let modules: string | undefined;
  const proxies: RunningProxy[] = [];
  const { proc: upstream, match } = await spawnUntil(["-e", upstreamSource], /upstream port (\d+)/);
  try {
    // The comparison runs stand in for the suite, so they are made only when it runs beside them.
    const comparisons = !o.suiteOnly && suite.length > 0;
    const noop: BenchFilter[] = [];
    if (o.noopFilters && comparisons) {
      modules ??= mkdtempSync(join(tmpdir(), "proxy-bench-modules-"));
      const file = join(modules, "noop.wasm");
      writeFileSync(file, await wat(noopPluginWat));
      for (let i = 1; i <= suite.length; i++) noop.push({ name: `noop-${i}`, file, configuration: {} });
    }
    const floors: BenchFilter[] = [];
    if (o.floorFilters && comparisons) {
      modules ??= mkdtempSync(join(tmpdir(), "proxy-bench-modules-"));
      for (const f of suite) {
        const file = join(modules, `floor-${f.name}.wasm`);
        writeFileSync(file, await wat(readFileSync(floorPath(f.name), "utf8")));
        floors.push({ name: `floor-${f.name}`, file, configuration: {} });
      }
    }
    const port = Number(match[1]);
    const configurations: Array<[string, ThroughputRunKind, BenchFilter[]]> = [];
    if (!o.suiteOnly) configurations.push(["no filter (router only)", "router", []]);
    if (noop.length) configurations.push([`no-op Wasm filters ×${noop.length}`, "noop", noop]);
    if (floors.length) configurations.push(["suite's WAT floors", "floors", floors]);
    if (suite.length) configurations.push(["filter suite", "suite", suite]);
    for (const [name, kind, filters] of configurations) proxies.push(await startProxy(name, kind, filters, port, o));
    const results: ThroughputResult[] = [];
    for (let round = 0; round < o.rounds; round++) {
      // Every other round in reverse (ABBA): a steady drift in the machine's speed then favours
      // neither end of the list.
      const order = round % 2 === 0 ? proxies : [...proxies].reverse();
      for (const p of order) results.push(await measure(p, upstream.pid, round, o));
    }
    return results;
  } finally {
    for (const p of proxies) await stopProxy(p);
    await stop(upstream);
    if (modules) rmSync(modules, { recursive: true, force: true });
  }
}

/** Options of a direct run: --duration S, --connections N, --concurrency N, --rounds N, --rate R, --noop, --floors, --suite-only, --cpu-prof DIR, --envoy BIN. */
function commandLineOptions(args: string[]): ThroughputOptions {
  const o: ThroughputOptions = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const count = (): number => {
      const v = value();
      if (!/^[1-9]\d*$/.test(v)) throw new Error(`${a} needs a positive whole number, got "${v}"`);
      return Number(v);
    };
    if (a === "--duration") o.durationSec = count();
    else if (a === "--connections") o.connections = count();
    else if (a === "--concurrency") o.concurrency = count();
    else if (a === "--rounds") o.rounds = count();
    else if (a === "--rate") o.offeredRate = count();
    else if (a === "--noop") o.noopFilters = true;
    else if (a === "--floors") o.floorFilters = true;
    else if (a === "--suite-only") o.suiteOnly = true;
    else if (a === "--cpu-prof") o.proxyNodeArgs = ["--cpu-prof", `--cpu-prof-dir=${value()}`];
    else if (a === "--envoy") o.envoyBin = value();
    else throw new Error(`unknown option ${a} (options: --duration S, --connections N, --concurrency N, --rounds N, --rate R, --noop, --floors, --suite-only, --cpu-prof DIR, --envoy BIN)`);
  }
  return o;
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  Promise.resolve()
    .then(() => proxyThroughput(commandLineOptions(process.argv.slice(2))))
    .then(
      (results) => {
        for (const r of results) {
          console.log(
            `#${r.round} ${r.name.padEnd(24)} ${r.requestsPerSec.toFixed(0).padStart(7)} req/s  p50 ${r.latencyP50Ms} ms  p99 ${r.latencyP99Ms} ms  ` +
              `proxy CPU ${r.proxyCpuUsPerRequest?.toFixed(1) ?? "?"} µs/req (upstream ${r.upstreamCpuUsPerRequest?.toFixed(1) ?? "?"}, ` +
              `autocannon ${r.loadGeneratorCpuUsPerRequest?.toFixed(1) ?? "?"})  ` +
              (r.offeredRate === undefined ? "" : `offered ${r.offeredRate} req/s  `) +
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
