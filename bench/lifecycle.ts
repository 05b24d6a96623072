// Guest cost per request: a module and its hand-written WAT floor (bench/floors/<name>.wat, the
// same host calls in the same order, no SDK) run through one minimal V8 host, in the same process
// and interleaved, so the host's own cost cancels out of the difference. Each request is the full
// HTTP lifecycle Envoy drives (proxy-wasm-abi.md §6.2, §6.3): context create → request headers →
// response headers → log → done → delete. Before timing, one traced pass checks that module and
// floor make exactly the same host calls, with the same header names and values.
//
//   node dist/bench/lifecycle.js add-header [--iterations N] [--runs R] [--module path.wasm] [--floor path.wat]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildDir, projectRoot } from "../host/build.js";
import { wat } from "../test/support/wat.js";

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
  /** Host calls the module makes per request (the floor makes the same ones). */
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

// proxy-wasm-abi.md §4.1, §4.3
const OK = 0;
const NOT_FOUND = 1;
const MAP_TYPES = 5;

interface GuestExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  _initialize?(): void;
  proxy_on_context_create(id: number, parent: number): void;
  proxy_on_vm_start(id: number, size: number): number;
  proxy_on_configure(id: number, size: number): number;
  proxy_on_request_headers(id: number, headers: number, endOfStream: number): number;
  proxy_on_response_headers(id: number, headers: number, endOfStream: number): number;
  proxy_on_log(id: number): void;
  proxy_on_done(id: number): number;
  proxy_on_delete(id: number): void;
}

/**
 * A header map as Envoy keeps one: entries in insertion order, looked up by a linear scan (HeaderMap
 * is a list). Each stream starts again from `initial`.
 */
class HeaderList {
  private keys: string[] = [];
  private values: string[] = [];
  private count = 0;

  constructor(private readonly initial: [string, string][]) {
    this.reset();
  }

  reset(): void {
    const initial = this.initial;
    for (let i = 0; i < initial.length; i++) {
      this.keys[i] = initial[i][0];
      this.values[i] = initial[i][1];
    }
    this.count = initial.length;
  }

  private find(key: string, from = 0): number {
    for (let i = from; i < this.count; i++) if (this.keys[i] === key) return i;
    return -1;
  }

  get(key: string): string | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.values[i];
  }

  add(key: string, value: string): void {
    this.keys[this.count] = key;
    this.values[this.count++] = value;
  }

  replace(key: string, value: string): void {
    const i = this.find(key);
    if (i < 0) return this.add(key, value);
    this.values[i] = value;
    this.remove(key, i + 1);
  }

  remove(key: string, from = 0): void {
    let kept = from;
    for (let i = from; i < this.count; i++) {
      if (this.keys[i] === key) continue;
      this.keys[kept] = this.keys[i];
      this.values[kept++] = this.values[i];
    }
    this.count = kept;
  }
}

/**
 * The smallest host that still does the real work of each call: header maps kept as lists, names
 * and values decoded from guest memory, returned values copied in through the guest's malloc.
 * `trace`, when set, records every call.
 */
class MinimalHost {
  guest!: GuestExports;
  trace: string[] | null = null;
  private readonly maps: HeaderList[] = Array.from({ length: MAP_TYPES }, (_, type) =>
    new HeaderList(type === 0 ? REQUEST_HEADERS : type === 2 ? RESPONSE_HEADERS : []));
  private view = Buffer.alloc(0);

  beginStream(): void {
    for (const map of this.maps) map.reset();
  }

  /** A view of guest memory, made again only when growth detached the old one (it reads as empty). */
  private memory(): Buffer {
    if (this.view.length === 0) this.view = Buffer.from(this.guest.memory.buffer);
    return this.view;
  }

  private text(ptr: number, size: number): string {
    // Buffer#latin1Slice: what toString("latin1", ...) calls, without its argument checks.
    return (this.memory() as Buffer & { latin1Slice(start: number, end: number): string }).latin1Slice(ptr, ptr + size);
  }

  /** Copies `value` into a block from the guest's malloc and writes its address and size. */
  private give(value: string, ptrPtr: number, sizePtr: number): void {
    const p = this.guest.malloc(value.length);
    const memory = this.memory();
    memory.write(value, p, "latin1");
    memory.writeUInt32LE(p, ptrPtr);
    memory.writeUInt32LE(value.length, sizePtr);
  }

  /** Adds a call to the trace; `detail` is only evaluated while tracing. */
  private record(name: string, detail?: () => string): void {
    if (this.trace !== null) this.trace.push(detail ? `${name}(${detail()})` : name);
  }

  /** proxy_add/replace_header_map_value(type, key ptr, key size, value ptr, value size). */
  private headerWrite(name: string, write: (map: HeaderList, key: string, value: string) => void) {
    return (type: number, kp: number, ks: number, vp: number, vs: number): number => {
      const key = this.text(kp, ks);
      const value = this.text(vp, vs);
      this.record(name, () => `${type}, ${key}, ${value}`);
      const map = this.maps[type];
      if (map !== undefined) write(map, key, value);
      return OK;
    };
  }

  /** The import object for `module`: every import it declares, unknown ones as no-ops returning Ok. */
  imports(module: WebAssembly.Module): WebAssembly.Imports {
    const known: Record<string, (...args: number[]) => number> = {
      proxy_log: () => (this.record("proxy_log"), OK),
      proxy_get_log_level: (out) => (this.record("proxy_get_log_level"), this.memory().writeUInt32LE(2 /* info */, out), OK),
      proxy_set_effective_context: (id) => (this.record("proxy_set_effective_context"), OK),
      proxy_get_property: (pp, ps) => (this.record("proxy_get_property", () => this.text(pp, ps)), NOT_FOUND),
      proxy_get_header_map_value: (type, kp, ks, outPtr, outSize) => {
        const key = this.text(kp, ks);
        this.record("proxy_get_header_map_value", () => `${type}, ${key}`);
        const value = this.maps[type]?.get(key);
        if (value === undefined) return NOT_FOUND;
        this.give(value, outPtr, outSize);
        return OK;
      },
      proxy_replace_header_map_value: this.headerWrite("proxy_replace_header_map_value", (map, k, v) => map.replace(k, v)),
      proxy_add_header_map_value: this.headerWrite("proxy_add_header_map_value", (map, k, v) => map.add(k, v)),
      proxy_remove_header_map_value: (type, kp, ks) => {
        const key = this.text(kp, ks);
        this.record("proxy_remove_header_map_value", () => `${type}, ${key}`);
        this.maps[type]?.remove(key);
        return OK;
      },
    };
    const env: Record<string, (...args: number[]) => number> = {};
    const wasi: Record<string, (...args: number[]) => number> = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind !== "function") throw new Error(`${imp.module}.${imp.name}: the lifecycle host links functions only`);
      (imp.module === "env" ? env : wasi)[imp.name] = known[imp.name] ?? (() => (this.record(imp.name), OK));
    }
    return { env, wasi_snapshot_preview1: wasi };
  }
}

interface Guest {
  host: MinimalHost;
  exports: GuestExports;
  /** Runs `count` request lifecycles starting at stream id `first`. */
  run(first: number, count: number): void;
}

async function instantiate(bytes: Uint8Array, what: string): Promise<Guest> {
  const module = await WebAssembly.compile(bytes);
  const host = new MinimalHost();
  const instance = new WebAssembly.Instance(module, host.imports(module));
  const exports = instance.exports as unknown as GuestExports;
  host.guest = exports;
  for (const name of ["memory", "malloc", "proxy_on_context_create", "proxy_on_request_headers", "proxy_on_delete"]) {
    if (!(name in exports)) throw new Error(`${what}: missing export ${name}`);
  }
  exports._initialize?.();
  // proxy-wasm-abi.md §6.1: the root context, then vm_start and configure on it.
  exports.proxy_on_context_create(ROOT_CONTEXT_ID, 0);
  if (!exports.proxy_on_vm_start(ROOT_CONTEXT_ID, 0)) throw new Error(`${what}: proxy_on_vm_start returned false`);
  if (!exports.proxy_on_configure(ROOT_CONTEXT_ID, 0)) throw new Error(`${what}: proxy_on_configure returned false`);
  // Each guest gets its own copy of the loop, so V8 optimizes it for that instance's exports alone
  // (one loop shared by both would see two targets at every call site).
  const loop = new Function("x", "host", "root", "requestHeaders", "responseHeaders", `
    return function run(first, count) {
      for (let id = first, end = first + count; id < end; id++) {
        host.beginStream();
        x.proxy_on_context_create(id, root);
        x.proxy_on_request_headers(id, requestHeaders, 1);
        x.proxy_on_response_headers(id, responseHeaders, 0);
        x.proxy_on_log(id);
        x.proxy_on_done(id);
        x.proxy_on_delete(id);
      }
    };`)(exports, host, ROOT_CONTEXT_ID, REQUEST_HEADERS.length, RESPONSE_HEADERS.length) as Guest["run"];
  return { host, exports, run: loop };
}

function traceOf(guest: Guest, first: number, requests: number): string[] {
  const trace: string[] = [];
  guest.host.trace = trace;
  guest.run(first, requests);
  guest.host.trace = null;
  return trace;
}

function countByName(trace: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of trace) {
    const name = entry.replace(/\(.*$/, "");
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
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

export async function measureLifecycle(name: string, options: LifecycleOptions = {}): Promise<LifecycleResult> {
  const iterations = options.iterations ?? 20_000;
  const runs = options.runs ?? 21;
  const warmup = options.warmup ?? 50_000;
  const modulePath = options.modulePath ?? join(buildDir, `${name}.wasm`);
  const floorPath = options.floorPath ?? join(projectRoot, "bench", "floors", `${name}.wat`);
  const guest = await instantiate(readFileSync(modulePath), modulePath);
  const floor = await instantiate(await wat(readFileSync(floorPath, "utf8"), { names: false }), floorPath);

  // The same calls, in the same order, with the same arguments, or the comparison means nothing.
  const tracedRequests = 3;
  let next = FIRST_STREAM_ID;
  const moduleTrace = traceOf(guest, next, tracedRequests);
  const floorTrace = traceOf(floor, next, tracedRequests);
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
    next += iterations;
  }
  const perImport = countByName(moduleTrace);
  for (const k of Object.keys(perImport)) perImport[k] /= tracedRequests;
  return {
    // The difference is taken run by run, module and floor timed back to back, then its median:
    // a slower stretch of the machine then weighs on both sides of the same difference.
    name, moduleNs: round(median(moduleNs)), floorNs: round(median(floorNs)), deltaNs: round(median(differences)),
    hostCallsPerRequest: moduleTrace.length / tracedRequests, hostCallsByImport: perImport, iterations, runs,
  };
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
    for (const name of names.length ? names : ["add-header"]) console.log(JSON.stringify(await measureLifecycle(name, options)));
  })().catch((e: Error) => {
    console.error(e.message);
    process.exitCode = 1;
  });
}
