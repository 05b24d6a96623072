// `npm run bench` (`-- --quick` for a short run): for every filter and example in build/, the
// release size; the guest cost per request next to its hand-written WAT floor in one minimal host
// (bench/lifecycle.ts) with the host calls per request; the cost per stream and the linear memory
// after warm-up and after 100 000 streams in the real host (bench/emulated.ts); instructions per
// request under callgrind (bench/callgrind.ts); then the local proxy's throughput and p99 with no
// filter and with the suite (bench/proxy-throughput.ts), and the same for real Envoy when ENVOY_BIN
// names an envoy binary (skipped with the reason otherwise). Prints tables, checks the targets of
// docs/architecture.md and the benchmark issue (reported, never enforced: the exit code is 0
// unless the bench itself fails), and writes bench/results.json.
//
// Options: --quick, --only name,name, --skip-throughput, --skip-callgrind.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { buildDir, findModules, projectRoot } from "../host/build.js";
import { measureInstructions, type CallgrindOutcome } from "./callgrind.js";
import { measureEmulated, type EmulatedResult } from "./emulated.js";
import { detectEnvoy } from "../test/envoy/runner.js";
import { floorPath, measureLifecycle, type LifecycleResult } from "./lifecycle.js";
import { proxyThroughput, type ThroughputResult, type ThroughputRunKind } from "./proxy-throughput.js";
import { printReport } from "./report.js";
import { moduleSetup } from "./setups.js";
import { checkTargets, type TargetCheck } from "./targets.js";
import { median } from "./median.js";

type NotMeasured = { notMeasured: string };
const notMeasured = (e: unknown): NotMeasured => ({ notMeasured: e instanceof Error ? e.message.split("\n")[0]! : String(e) });

export interface ModuleResult {
  name: string;
  kind: "filter" | "example";
  sizeBytes: number;
  lifecycle: LifecycleResult | NotMeasured;
  emulated: EmulatedResult | NotMeasured;
  instructions: CallgrindOutcome;
}

export interface ThroughputComparison {
  /**
   * Every run, round by round (router only, no-op filters, WAT floors and the suite in each round,
   * every other round in reverse order), then the equal-load rounds (router and suite).
   */
  runs: ThroughputResult[];
  /**
   * Suite requests/s ÷ router-only requests/s: the median over rounds of each round's ratio (the
   * runs of a round are seconds apart, so drift in the machine's speed cancels), and the
   * share of throughput the suite costs (1 − ratio).
   */
  ratio: number;
  cost: number;
  /** Each round's ratio, to show the spread. */
  roundRatios: number[];
  /**
   * The same for as many no-op Wasm filters as the suite has (median of rounds): the share of the
   * throughput the host's per-filter plumbing takes before any filter does anything.
   */
  noopRatio?: number;
  /**
   * The same for the suite's hand-written WAT floors (median of rounds): the host's plumbing plus
   * the suite's own host calls, with no SDK or filter logic; the part of the suite's cost that no
   * guest can remove.
   */
  floorRatio?: number;
  /**
   * Proxy CPU per request of both at the same offered load (60% of the suite's throughput; median
   * over interleaved rounds): the suite's CPU cost per request without the effects of running a
   * saturated proxy. The machine figures add the upstream's and the load generator's CPU: the
   * proxy runs all its workers on one thread, so its throughput is bound by that thread, where
   * Envoy's workers each have a thread; bare ÷ suite of the machine figures is the ratio a proxy
   * bound by the whole machine's CPU instead would measure here.
   */
  equalLoad?: {
    offeredRate: number;
    bareCpuUsPerRequest: number;
    suiteCpuUsPerRequest: number;
    bareMachineCpuUsPerRequest?: number;
    suiteMachineCpuUsPerRequest?: number;
  };
}

export interface BenchResults {
  generatedAt: string;
  quick: boolean;
  machine: { node: string; cpus: number; model: string; loadAverage: number[] };
  modules: ModuleResult[];
  throughput: ThroughputComparison | NotMeasured;
  /** The same comparison with real Envoy (ENVOY_BIN) as the proxy. */
  envoyThroughput: ThroughputComparison | NotMeasured;
  targets: TargetCheck[];
}

interface Options {
  quick: boolean;
  only: string[];
  skipThroughput: boolean;
  skipCallgrind: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, only: [], skipThroughput: false, skipCallgrind: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") o.quick = true;
    else if (a === "--skip-throughput") o.skipThroughput = true;
    else if (a === "--skip-callgrind") o.skipCallgrind = true;
    else if (a === "--only") o.only = (argv[++i] ?? "").split(",").filter(Boolean);
    else throw new Error(`unknown option ${a} (options: --quick, --only a,b, --skip-throughput, --skip-callgrind)`);
  }
  return o;
}

const hasFloor = (name: string): boolean => existsSync(floorPath(name));

/** `path` is a snapshot of the module taken when the bench started (build/ may be rebuilt meanwhile). */
async function measureModule(name: string, kind: ModuleResult["kind"], path: string, o: Options): Promise<ModuleResult> {
  const wasm = readFileSync(path);
  process.stderr.write(`bench: ${name}\n`);
  const lifecycle = hasFloor(name)
    ? await measureLifecycle(name, { modulePath: path, ...(o.quick ? { iterations: 20_000, runs: 5, warmup: 10_000 } : {}) }).catch(notMeasured)
    : { notMeasured: `no floor (bench/floors/${name}.wat)` };
  const setup = moduleSetup(name);
  const emulated = setup.skip
    ? { notMeasured: setup.skip }
    : await measureEmulated(name, wasm, { streams: o.quick ? 20_000 : 100_000, warmup: o.quick ? 5_000 : 10_000, ...setup }).catch(notMeasured);
  let instructions: CallgrindOutcome;
  if (o.skipCallgrind) instructions = { notMeasured: "skipped (--skip-callgrind)" };
  else if (!hasFloor(name)) instructions = { notMeasured: "no floor to compare with" };
  else if (o.quick && name !== "add-header") instructions = { notMeasured: "add-header only in --quick runs" };
  else instructions = await measureInstructions(name, { modulePath: path });
  return { name, kind, sizeBytes: wasm.length, lifecycle, emulated, instructions };
}

/** The suite's throughput comparison through the local proxy, or through Envoy when envoyBin is given. */
async function measureThroughput(o: Options, envoyBin?: string): Promise<ThroughputComparison | NotMeasured> {
  if (o.skipThroughput) return { notMeasured: "skipped (--skip-throughput)" };
  process.stderr.write(envoyBin === undefined ? "bench: local proxy throughput\n" : `bench: Envoy throughput (${envoyBin})\n`);
  const proxy = envoyBin === undefined ? {} : { envoyBin };
  try {
    // Many short interleaved runs (proxy-throughput.ts): the machine's speed drifts within
    // seconds, so a median over many close pairs says more than a few long runs far apart.
    const rounds = o.quick ? 2 : 12;
    const durationSec = 2;
    const runs = await proxyThroughput({ durationSec, connections: 50, rounds, noopFilters: true, floorFilters: true, ...proxy });
    const roundRatios: number[] = [];
    const noopRatios: number[] = [];
    const floorRatios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const run = (kind: ThroughputRunKind): ThroughputResult | undefined => runs.find((r) => r.round === round && r.kind === kind);
      const bare = run("router");
      const suite = run("suite");
      const noop = run("noop");
      const floors = run("floors");
      if (!bare || !suite) return { notMeasured: "no filter of the suite is built" };
      roundRatios.push(round3(suite.requestsPerSec / bare.requestsPerSec));
      if (noop) noopRatios.push(round3(noop.requestsPerSec / bare.requestsPerSec));
      if (floors) floorRatios.push(round3(floors.requestsPerSec / bare.requestsPerSec));
    }
    const ratio = round3(median(roundRatios));
    const comparison: ThroughputComparison = {
      runs,
      ratio,
      cost: round3(1 - ratio),
      roundRatios,
      ...(noopRatios.length ? { noopRatio: round3(median(noopRatios)) } : {}),
      ...(floorRatios.length ? { floorRatio: round3(median(floorRatios)) } : {}),
    };
    const suiteRate = median(runs.filter((r) => r.kind === "suite").map((r) => r.requestsPerSec));
    const offeredRate = Math.max(100, Math.round((suiteRate * 0.6) / 100) * 100);
    const equalRuns = await proxyThroughput({ durationSec, connections: 50, offeredRate, rounds: o.quick ? 2 : 6, ...proxy });
    runs.push(...equalRuns);
    // A figure of each run of one kind that has it (undefined where a process's /proc was unreadable).
    const figures = (kind: ThroughputRunKind, figure: (r: ThroughputResult) => number | undefined): number[] =>
      equalRuns.filter((r) => r.kind === kind).flatMap((r) => figure(r) ?? []);
    const proxyCpu = (r: ThroughputResult): number | undefined => r.proxyCpuUsPerRequest;
    const machineCpu = ({ proxyCpuUsPerRequest: p, upstreamCpuUsPerRequest: u, loadGeneratorCpuUsPerRequest: l }: ThroughputResult): number | undefined =>
      p === undefined || u === undefined || l === undefined ? undefined : p + u + l;
    const [bareCpu, suiteCpu] = [figures("router", proxyCpu), figures("suite", proxyCpu)];
    const [bareMachine, suiteMachine] = [figures("router", machineCpu), figures("suite", machineCpu)];
    if (bareCpu.length && suiteCpu.length) {
      comparison.equalLoad = {
        offeredRate,
        bareCpuUsPerRequest: median(bareCpu),
        suiteCpuUsPerRequest: median(suiteCpu),
        ...(bareMachine.length && suiteMachine.length
          ? { bareMachineCpuUsPerRequest: median(bareMachine), suiteMachineCpuUsPerRequest: median(suiteMachine) }
          : {}),
      };
    }
    return comparison;
  } catch (e) {
    return notMeasured(e);
  }
}

/**
 * The comparison through real Envoy: only with ENVOY_BIN (compose.yaml's Envoy runs in a container
 * behind Docker's port publishing, where neither its CPU nor its loopback path compare).
 */
async function measureEnvoyThroughput(o: Options): Promise<ThroughputComparison | NotMeasured> {
  if (o.skipThroughput) return { notMeasured: "skipped (--skip-throughput)" };
  if (!process.env.ENVOY_BIN) return { notMeasured: "ENVOY_BIN is not set (the path of an envoy binary with the V8 Wasm runtime)" };
  const envoy = await detectEnvoy();
  if (envoy.mode !== "binary") return { notMeasured: envoy.mode === "skip" ? envoy.reason : "ENVOY_BIN is not usable" };
  return measureThroughput(o, envoy.bin);
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const built = findModules().filter((m) => !m.testOnly && existsSync(join(buildDir, `${m.name}.wasm`)));
  const unknown = o.only.filter((n) => !built.some((m) => m.name === n));
  if (unknown.length) throw new Error(`--only: no built filter or example named ${unknown.join(", ")} (built: ${built.map((m) => m.name).join(", ")})`);
  const modules = built.filter((m) => !o.only.length || o.only.includes(m.name));
  // Every measurement of a module uses the same bytes, even if someone rebuilds build/ meanwhile.
  const snapshot = mkdtempSync(join(tmpdir(), "bench-modules-"));
  const results: ModuleResult[] = [];
  try {
    for (const m of modules) copyFileSync(join(buildDir, `${m.name}.wasm`), join(snapshot, `${m.name}.wasm`));
    for (const m of modules) {
      const kind = m.dir.includes(join("filters", "examples")) ? "example" : "filter";
      results.push(await measureModule(m.name, kind, join(snapshot, `${m.name}.wasm`), o));
    }
  } finally {
    rmSync(snapshot, { recursive: true, force: true });
  }
  const throughput = await measureThroughput(o);
  const envoyThroughput = await measureEnvoyThroughput(o);
  const report: BenchResults = {
    generatedAt: new Date().toISOString(),
    quick: o.quick,
    machine: { node: process.version, cpus: cpus().length, model: cpus()[0]?.model ?? "", loadAverage: loadavg().map((l) => Math.round(l * 100) / 100) },
    modules: results,
    throughput,
    envoyThroughput,
    targets: checkTargets(results, throughput, envoyThroughput),
  };
  const out = join(projectRoot, "bench", "results.json");
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  printReport(report);
  console.log(`\nwritten to ${out}`);
}

main().catch((e: Error) => {
  console.error(`bench: ${e.stack ?? e.message}`);
  process.exitCode = 1;
});
