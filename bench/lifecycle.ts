// Guest cost per request: a module and its hand-written WAT floor (bench/floors/<name>.wat, the
// same host calls in the same order, no SDK) run through one minimal V8 host, in the same process
// and interleaved, so the host's own cost cancels out of the difference. Each request is the full
// HTTP lifecycle Envoy drives (proxy-wasm-abi.md §6.2, §6.3): context create → request headers →
// response headers → log → done → delete, each callback only if the module exports it (as Envoy
// does). Before timing, one traced pass checks that module and floor make exactly the same host
// calls, with the same header names and values.
//
//   node dist/bench/lifecycle.js add-header [--iterations N] [--runs R] [--module path.wasm] [--floor path.wat]
//   node dist/bench/lifecycle.js add-header --trace [N]    the module's host calls in its first N streams
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildDir, projectRoot } from "../host/build.js";
import { wat } from "../test/support/wat.js";
import { MinimalHost, type GuestExports, type HostSetup } from "./lifecycle-host.js";
import { configurationBytes, moduleSetup } from "./setups.js";
import { median } from "./median.js";

export interface LifecycleOptions {
  /** Requests per timed run (default 20 000). */
  iterations?: number;
  /** Timed runs per side; the median is reported (default 21). */
  runs?: number;
  /** Untimed requests per side first, so V8 has tiered up both (default 50 000). */
  warmup?: number;
  /** The module to measure (default build/<name>.wasm, the release build). */
  modulePath?: string;
  /** Its floor (default bench/floors/<name>.wat). */
  floorPath?: string;
}

export interface LifecycleResult {
  name: string;
  /** Median ns per request (CPU time) of the module and of its floor. */
  moduleNs: number;
  floorNs: number;
  /** Median of the run-by-run differences module − floor: the SDK's cost per request. */
  deltaNs: number;
  /** Median of the run-by-run ratios module ÷ floor (2 decimals). */
  ratio: number;
  /** Host calls the module makes per request once past its first streams (the floor makes the same ones). */
  hostCallsPerRequest: number;
  /** Host calls per import, per request. */
  hostCallsByImport: Record<string, number>;
  iterations: number;
  runs: number;
}

const ROOT_CONTEXT_ID = 1;
/** Stream ids start here and never repeat, as in Envoy. */
const FIRST_STREAM_ID = 2;
const REQUEST_HEADERS: [string, string][] = [
  [":method", "GET"], [":path", "/status/200"], [":authority", "example.com"], [":scheme", "http"],
  ["user-agent", "curl/8.5.0"], ["accept", "*/*"], ["x-request-id", "6f1a9b2c-1c1e-4a62-9d36-0c1b5f0e9a10"],
];
const RESPONSE_HEADERS: [string, string][] = [
  [":status", "200"], ["content-type", "text/plain"], ["content-length", "2"], ["date", "Fri, 21 Nov 2025 12:00:00 GMT"],
];

/** The minimal host's view of a module's bench setup (bench/setups.ts), shared by module and floor. */
function hostSetup(name: string): HostSetup {
  const setup = moduleSetup(name);
  return {
    rootId: setup.rootId,
    pluginName: name,
    configuration: configurationBytes(setup.configuration),
    requestHeaders: [...REQUEST_HEADERS, ...(setup.requestHeaders ?? [])],
    responseHeaders: [...RESPONSE_HEADERS, ...(setup.responseHeaders ?? [])],
    sharedData: setup.singletonState?.sharedData,
    sharedQueues: setup.singletonState?.sharedQueues,
    // An answering cluster says 200 with no body, as bench/emulated.ts's does.
    calloutResponseHeaders: setup.answeringCluster ? [[":status", "200"]] : undefined,
  };
}

interface Guest {
  host: MinimalHost;
  exports: GuestExports;
  /** Runs `count` request lifecycles starting at stream id `first`. */
  run(first: number, count: number): void;
}

/** Whether time passes before the first stream (the setup lets the plugin's timers fire). */
const settles = (name: string): boolean => (moduleSetup(name).settleMs ?? 0) > 0;

async function instantiate(bytes: Uint8Array, what: string, setup: HostSetup, settle: boolean): Promise<Guest> {
  const module = await WebAssembly.compile(bytes);
  const host = new MinimalHost(setup);
  const instance = new WebAssembly.Instance(module, host.imports(module));
  const exports = instance.exports as unknown as GuestExports;
  host.guest = exports;
  for (const name of ["memory", "malloc", "proxy_on_context_create", "proxy_on_delete"]) {
    if (!(name in exports)) throw new Error(`${what}: missing export ${name}`);
  }
  exports._initialize?.();
  // proxy-wasm-abi.md §6.1: the root context, then vm_start and configure on it.
  exports.proxy_on_context_create(ROOT_CONTEXT_ID, 0);
  if (!exports.proxy_on_vm_start(ROOT_CONTEXT_ID, 0)) throw new Error(`${what}: proxy_on_vm_start returned false`);
  if (!exports.proxy_on_configure(ROOT_CONTEXT_ID, setup.configuration.length)) throw new Error(`${what}: proxy_on_configure returned false`);
  // Time has passed before the first stream: the timer the plugin set at configure has fired once.
  if (settle) exports.proxy_on_tick?.(ROOT_CONTEXT_ID);
  // Each guest gets its own copy of the loop, so V8 optimizes it for that instance's exports alone
  // (one loop shared by both would see two targets at every call site). A callout made in the
  // request headers is answered before the response, as an auth service would be (proxy-wasm-abi.md
  // §2.7: to the root context, on a later turn). A callback the module does not export is skipped,
  // as Envoy skips it (§3).
  const step = (callback: LifecycleCallback, call: string): string => (typeof exports[callback] === "function" ? call : "");
  const loop = new Function("x", "host", "root", "requestHeaders", "responseHeaders", `
    return function run(first, count) {
      for (let id = first, end = first + count; id < end; id++) {
        host.beginStream();
        x.proxy_on_context_create(id, root);
        ${step("proxy_on_request_headers", "x.proxy_on_request_headers(id, requestHeaders, 1);")}
        if (host.calloutToken !== 0) {
          const token = host.calloutToken;
          host.calloutToken = 0;
          x.proxy_on_http_call_response(root, token, host.calloutHeaderCount, 0, 0);
        }
        ${step("proxy_on_response_headers", "x.proxy_on_response_headers(id, responseHeaders, 0);")}
        ${step("proxy_on_log", "x.proxy_on_log(id);")}
        ${step("proxy_on_done", "x.proxy_on_done(id);")}
        x.proxy_on_delete(id);
      }
    };`)(exports, host, ROOT_CONTEXT_ID, setup.requestHeaders.length, setup.responseHeaders.length) as Guest["run"];
  return { host, exports, run: loop };
}

/** The per-stream callbacks a module may leave out; module and floor must leave out the same ones. */
const LIFECYCLE_CALLBACKS = ["proxy_on_request_headers", "proxy_on_response_headers", "proxy_on_log", "proxy_on_done"] as const;
type LifecycleCallback = (typeof LIFECYCLE_CALLBACKS)[number];

const exportedCallbacks = (guest: Guest): string[] => LIFECYCLE_CALLBACKS.filter((c) => typeof guest.exports[c] === "function");

/** The host calls of `requests` streams, stream by stream. */
function traceOf(guest: Guest, first: number, requests: number): string[][] {
  const traces: string[][] = [];
  for (let id = first; id < first + requests; id++) {
    const trace: string[] = [];
    guest.host.trace = trace;
    guest.run(id, 1);
    traces.push(trace);
  }
  guest.host.trace = null;
  return traces;
}

function countByName(trace: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of trace) {
    const name = entry.replace(/\(.*$/, "");
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}


/**
 * ns per request, in CPU time rather than wall time: the machine running the bench may be busy
 * (tests, builds), and time spent descheduled is nobody's cost.
 */
function timeRun(guest: Guest, first: number, count: number): number {
  const start = process.cpuUsage();
  guest.run(first, count);
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / count;
}

/** Where a module's hand-written WAT floor lives. */
export function floorPath(name: string): string {
  return join(projectRoot, "bench", "floors", `${name}.wat`);
}

export async function measureLifecycle(name: string, options: LifecycleOptions = {}): Promise<LifecycleResult> {
  const iterations = options.iterations ?? 20_000;
  const runs = options.runs ?? 21;
  const warmup = options.warmup ?? 50_000;
  const modulePath = options.modulePath ?? join(buildDir, `${name}.wasm`);
  const floorFile = options.floorPath ?? floorPath(name);
  const setup = hostSetup(name);
  const settle = settles(name);
  const guest = await instantiate(readFileSync(modulePath), modulePath, setup, settle);
  const floor = await instantiate(await wat(readFileSync(floorFile, "utf8"), { names: false }), floorFile, setup, settle);

  // A hand-written module exports only the callbacks it uses, as the SDK's build does (host/optimize/
  // unused-callbacks.ts): the host then enters both for the same events, or the comparison is unfair.
  const moduleCallbacks = exportedCallbacks(guest).join(", ");
  const floorCallbacks = exportedCallbacks(floor).join(", ");
  if (moduleCallbacks !== floorCallbacks) {
    throw new Error(`${name}: the floor exports the stream callbacks [${floorCallbacks}], the module [${moduleCallbacks}]`);
  }

  // The same calls, in the same order, with the same arguments, or the comparison means nothing.
  // The first streams may do once what later ones do not (define metrics, resolve a queue), and
  // some calls come every so many streams (stats adds its cache hits in batches of 100): enough
  // streams are traced to see both, and the last one shows the calls of a stream in steady state.
  const tracedRequests = 128;
  let next = FIRST_STREAM_ID;
  const moduleTraces = traceOf(guest, next, tracedRequests);
  const moduleTrace = moduleTraces.flat();
  const floorTrace = traceOf(floor, next, tracedRequests).flat();
  next += tracedRequests;
  const mismatch = moduleTrace.findIndex((entry, i) => entry !== floorTrace[i]);
  if (mismatch >= 0 || moduleTrace.length !== floorTrace.length) {
    const at = mismatch >= 0 ? mismatch : Math.min(moduleTrace.length, floorTrace.length);
    throw new Error(
      `${name}: the floor does not make the module's host calls (first difference at call ${at}: ` +
      `module ${moduleTrace[at] ?? "(none)"}, floor ${floorTrace[at] ?? "(none)"}); ` +
      `calls per import: module ${JSON.stringify(countByName(moduleTrace))}, floor ${JSON.stringify(countByName(floorTrace))}`,
    );
  }

  guest.run(next, warmup);
  floor.run(next, warmup);
  next += warmup;
  const moduleNs: number[] = [];
  const floorNs: number[] = [];
  const differences: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < runs; r++) {
    // Alternate which side goes first, so drift (thermal, GC of the host) hits both alike.
    if (r % 2 === 0) {
      moduleNs.push(timeRun(guest, next, iterations));
      floorNs.push(timeRun(floor, next, iterations));
    } else {
      floorNs.push(timeRun(floor, next, iterations));
      moduleNs.push(timeRun(guest, next, iterations));
    }
    differences.push(moduleNs[r] - floorNs[r]);
    ratios.push(moduleNs[r] / floorNs[r]);
    next += iterations;
  }
  const steady = moduleTraces[tracedRequests - 1];
  return {
    // The difference is taken run by run, module and floor timed back to back, then its median:
    // a slower stretch of the machine then weighs on both sides of the same difference.
    name, moduleNs: round(median(moduleNs)), floorNs: round(median(floorNs)), deltaNs: round(median(differences)),
    ratio: Math.round(median(ratios) * 100) / 100,
    hostCallsPerRequest: steady.length, hostCallsByImport: countByName(steady), iterations, runs,
  };
}

/** The module's host calls in its first `requests` streams, one line each: what its floor must make. */
export async function traceModule(name: string, options: Pick<LifecycleOptions, "modulePath"> & { requests?: number } = {}): Promise<string[]> {
  const modulePath = options.modulePath ?? join(buildDir, `${name}.wasm`);
  const guest = await instantiate(readFileSync(modulePath), modulePath, hostSetup(name), settles(name));
  return traceOf(guest, FIRST_STREAM_ID, options.requests ?? 1).flat();
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const option = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const names = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && args[i - 1].startsWith("--")));
  const options: LifecycleOptions = {
    iterations: option("--iterations") ? Number(option("--iterations")) : undefined,
    runs: option("--runs") ? Number(option("--runs")) : undefined,
    modulePath: option("--module"),
    floorPath: option("--floor"),
  };
  (async () => {
    for (const name of names.length ? names : ["add-header"]) {
      if (args.includes("--trace")) console.log((await traceModule(name, { modulePath: options.modulePath, requests: Number(option("--trace") ?? 1) || 1 })).join("\n"));
      else console.log(JSON.stringify(await measureLifecycle(name, options)));
    }
  })().catch((e: Error) => {
    console.error(e.message);
    process.exitCode = 1;
  });
}
