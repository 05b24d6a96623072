// The minimal proxy-wasm host of bench/lifecycle.ts: the smallest host that still does the real
// work of each call a filter makes per request (header maps kept as lists, names and values decoded
// from guest memory, returned values copied in through the guest's malloc, shared data with CAS,
// metrics by id), so that a module and its WAT floor pay the same host cost and the difference is
// guest code alone. Every call can be traced with its arguments, to check that module and floor make
// exactly the same calls. Semantics follow proxy-wasm-abi.md §2 (what Envoy's cpp-host does).
import { BufferType, MapType, MetricType, WasmResult } from "../host/wasm/types.js";

const OK = WasmResult.Ok;
const NOT_FOUND = WasmResult.NotFound;
/** The virtual clock advances this much per stream, so traces (and bucket levels) repeat exactly. */
const NS_PER_STREAM = 1000n;
const START_NS = 1_763_726_400_000_000_000n; // 2025-11-21T12:00:00Z
/** The monotonic clock (WASI clock 1) reads as time since boot: an hour before the first stream. */
const UPTIME_NS = 3_600_000_000_000n;

const int64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return b;
};

/**
 * The stream attributes Envoy has at on_log for the bench's request (proxy-wasm-abi.md §5.3, §7):
 * a 200 without response flags, 1 ms, the sizes of its headers. Everything else reads as NotFound.
 */
const STREAM_PROPERTIES: [string, Buffer][] = [
  ["response\0code", int64(200n)],
  ["response\0flags", int64(0n)],
  ["request\0duration", int64(1_000_000n)],
  ["request\0total_size", int64(212n)],
  ["response\0total_size", int64(98n)],
];

/** What a lifecycle host knows of its plugin and the state other VMs left in its vm_id. */
export interface HostSetup {
  /** plugin_root_id and plugin_name (proxy-wasm-abi.md §7 attributes). */
  rootId: string;
  pluginName: string;
  /** BufferType.PluginConfiguration (the plugin's configuration bytes). */
  configuration: Uint8Array;
  /** Request headers of every stream. */
  requestHeaders: [string, string][];
  responseHeaders: [string, string][];
  /** Shared data present before the plugin starts (written by another plugin of the vm_id). */
  sharedData?: Record<string, string>;
  /** Shared queues registered before the plugin starts (by another plugin of the vm_id). */
  sharedQueues?: string[];
  /** The answer to every HTTP callout: its headers (the body is empty). */
  calloutResponseHeaders?: [string, string][];
}

export interface GuestExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  _initialize?(): void;
  proxy_on_context_create(id: number, parent: number): void;
  proxy_on_vm_start(id: number, size: number): number;
  proxy_on_configure(id: number, size: number): number;
  proxy_on_tick?(id: number): void;
  // Optional, as in Envoy (proxy-wasm-abi.md §3): a module leaves out the callbacks it has no use
  // for, and the host skips them.
  proxy_on_request_headers?(id: number, headers: number, endOfStream: number): number;
  proxy_on_response_headers?(id: number, headers: number, endOfStream: number): number;
  proxy_on_http_call_response?(id: number, token: number, headers: number, bodySize: number, trailers: number): void;
  proxy_on_log?(id: number): void;
  proxy_on_done?(id: number): number;
  proxy_on_delete(id: number): void;
}

/**
 * A header map as Envoy keeps one: entries in insertion order, looked up by a linear scan (HeaderMap
 * is a list). Each stream starts again from `initial`.
 */
class HeaderList {
  private keys: string[] = [];
  private values: string[] = [];
  count = 0;

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

  /** proxy-wasm-abi.md §5.1: u32 N, N × (u32 key size, u32 value size), then each key\0value\0. */
  serialize(): Buffer {
    let size = 4;
    for (let i = 0; i < this.count; i++) size += 8 + this.keys[i].length + 1 + this.values[i].length + 1;
    const out = Buffer.alloc(size);
    out.writeUInt32LE(this.count, 0);
    let at = 4 + 8 * this.count;
    for (let i = 0; i < this.count; i++) {
      out.writeUInt32LE(this.keys[i].length, 4 + 8 * i);
      out.writeUInt32LE(this.values[i].length, 8 + 8 * i);
      at += out.write(this.keys[i], at, "latin1") + 1;
      at += out.write(this.values[i], at, "latin1") + 1;
    }
    return out;
  }
}

/** Buffer#latin1Slice: what toString("latin1", ...) calls, without its argument checks. */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

/** Parses a pairs buffer (§5.1) from the guest; malformed input reads as no pairs, as in cpp-host. */
function parsePairs(bytes: Buffer): [string, string][] {
  if (bytes.length < 4) return [];
  const n = bytes.readUInt32LE(0);
  let at = 4 + 8 * n;
  if (n > 1024 || at > bytes.length) return [];
  const pairs: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    const ks = bytes.readUInt32LE(4 + 8 * i);
    const vs = bytes.readUInt32LE(8 + 8 * i);
    if (at + ks + vs + 2 > bytes.length || bytes[at + ks] !== 0 || bytes[at + ks + 1 + vs] !== 0) return [];
    const b = bytes as Latin1Buffer;
    pairs.push([b.latin1Slice(at, at + ks), b.latin1Slice(at + ks + 1, at + ks + 1 + vs)]);
    at += ks + vs + 2;
  }
  return at === bytes.length ? pairs : [];
}

const pairsText = (pairs: [string, string][]): string => pairs.map(([k, v]) => `${k}: ${v}`).join("; ");

type HostFunction = (...args: never[]) => number;

export class MinimalHost {
  guest!: GuestExports;
  trace: string[] | null = null;
  /** Token of an HTTP callout made during the current callback and not answered yet (0: none). */
  calloutToken = 0;
  private readonly maps: HeaderList[];
  private view = Buffer.alloc(0);
  private readonly configuration: Buffer;
  private readonly properties: Map<string, Buffer>;
  private readonly shared = new Map<string, { value: Buffer; cas: number }>();
  private nextCas = 1;
  private readonly queues = new Map<string, number>();
  private readonly metricIds = new Map<string, number>();
  private readonly metricValues = new Map<number, bigint>();
  private nextCalloutToken = 4;
  /** Streams begun: the virtual clock, kept as a plain number so that a stream allocates nothing. */
  private streams = 0;

  constructor(setup: HostSetup) {
    const initial: [string, string][][] = Array.from({ length: MapType.HttpCallResponseTrailers + 1 }, () => []);
    initial[MapType.HttpRequestHeaders] = setup.requestHeaders;
    initial[MapType.HttpResponseHeaders] = setup.responseHeaders;
    initial[MapType.HttpCallResponseHeaders] = setup.calloutResponseHeaders ?? [];
    this.maps = initial.map((entries) => new HeaderList(entries));
    this.configuration = Buffer.from(setup.configuration);
    this.properties = new Map([
      ...STREAM_PROPERTIES,
      ["plugin_root_id", Buffer.from(setup.rootId)],
      ["plugin_name", Buffer.from(setup.pluginName)],
    ]);
    for (const [key, value] of Object.entries(setup.sharedData ?? {})) this.shared.set(key, { value: Buffer.from(value), cas: this.nextCas++ });
    for (const name of setup.sharedQueues ?? []) this.queues.set(name, this.queues.size + 1);
  }

  beginStream(): void {
    for (const map of this.maps) map.reset();
    this.streams++;
  }

  /** Wall-clock time now, ns since the epoch. */
  private get nowNs(): bigint {
    return START_NS + BigInt(this.streams) * NS_PER_STREAM;
  }

  /** Headers of the callout answer, as the count proxy_on_http_call_response passes. */
  get calloutHeaderCount(): number {
    return this.maps[MapType.HttpCallResponseHeaders].count;
  }

  /** A view of guest memory, made again only when growth detached the old one (it reads as empty). */
  private memory(): Buffer {
    if (this.view.length === 0) this.view = Buffer.from(this.guest.memory.buffer);
    return this.view;
  }

  private text(ptr: number, size: number): string {
    return (this.memory() as Latin1Buffer).latin1Slice(ptr, ptr + size);
  }

  /** Copies `value` into a block from the guest's malloc and writes its address and size (§2.1). */
  private give(value: string, ptrPtr: number, sizePtr: number): void {
    const p = this.guest.malloc(value.length);
    const memory = this.memory();
    memory.write(value, p, "latin1");
    memory.writeUInt32LE(p, ptrPtr);
    memory.writeUInt32LE(value.length, sizePtr);
  }

  /** The same for bytes; an empty value is written as 0, 0 without calling malloc (§2.1). */
  private giveBytes(value: Buffer, ptrPtr: number, sizePtr: number): void {
    const p = value.length === 0 ? 0 : this.guest.malloc(value.length);
    const memory = this.memory();
    if (p !== 0) value.copy(memory, p);
    memory.writeUInt32LE(p, ptrPtr);
    memory.writeUInt32LE(value.length, sizePtr);
  }

  /** Guest bytes, copied out (the host keeps what it is given, as Envoy does). */
  private bytes(ptr: number, size: number): Buffer {
    return Buffer.from(this.memory().subarray(ptr, ptr + size));
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

  private headerCalls(): Record<string, HostFunction> {
    return {
      proxy_get_header_map_value: (type: number, kp: number, ks: number, outPtr: number, outSize: number) => {
        const key = this.text(kp, ks);
        this.record("proxy_get_header_map_value", () => `${type}, ${key}`);
        const value = this.maps[type]?.get(key);
        if (value === undefined) return NOT_FOUND;
        this.give(value, outPtr, outSize);
        return OK;
      },
      proxy_replace_header_map_value: this.headerWrite("proxy_replace_header_map_value", (map, k, v) => map.replace(k, v)),
      proxy_add_header_map_value: this.headerWrite("proxy_add_header_map_value", (map, k, v) => map.add(k, v)),
      proxy_remove_header_map_value: (type: number, kp: number, ks: number) => {
        const key = this.text(kp, ks);
        this.record("proxy_remove_header_map_value", () => `${type}, ${key}`);
        this.maps[type]?.remove(key);
        return OK;
      },
      proxy_get_header_map_pairs: (type: number, outPtr: number, outSize: number) => {
        this.record("proxy_get_header_map_pairs", () => String(type));
        const map = this.maps[type];
        // §2.5: an absent or empty map is OK with 0, 0.
        this.giveBytes(map === undefined || map.count === 0 ? Buffer.alloc(0) : map.serialize(), outPtr, outSize);
        return OK;
      },
      proxy_get_header_map_size: (type: number, outSize: number) => {
        this.record("proxy_get_header_map_size", () => String(type));
        this.memory().writeUInt32LE(this.maps[type]?.serialize().length ?? 0, outSize);
        return OK;
      },
    };
  }

  private streamCalls(): Record<string, HostFunction> {
    return {
      proxy_continue_stream: (stream: number) => (this.record("proxy_continue_stream", () => String(stream)), OK),
      proxy_send_local_response: (status: number, dp: number, ds: number, bp: number, bs: number, hp: number, hs: number, grpc: number) => {
        const details = this.text(dp, ds);
        const body = this.text(bp, bs);
        const headers = parsePairs(this.bytes(hp, hs));
        this.record("proxy_send_local_response", () => `${status}, ${details}, ${body}, ${pairsText(headers)}, ${grpc}`);
        return OK;
      },
      proxy_http_call: (up: number, us: number, hp: number, hs: number, bp: number, bs: number, tp: number, ts: number, timeout: number, outToken: number) => {
        const upstream = this.text(up, us);
        const headers = parsePairs(this.bytes(hp, hs));
        const body = this.text(bp, bs);
        const trailers = parsePairs(this.bytes(tp, ts));
        this.record("proxy_http_call", () => `${upstream}, ${pairsText(headers)}, ${body}, ${pairsText(trailers)}, ${timeout}`);
        // §2.7: tokens 4, 8, 12, …; the answer comes on a later turn to the root context.
        const token = this.nextCalloutToken;
        this.nextCalloutToken += 4;
        this.memory().writeUInt32LE(token, outToken);
        this.calloutToken = token;
        return OK;
      },
    };
  }

  private sharedCalls(): Record<string, HostFunction> {
    return {
      proxy_get_shared_data: (kp: number, ks: number, outPtr: number, outSize: number, outCas: number) => {
        const key = this.text(kp, ks);
        this.record("proxy_get_shared_data", () => key);
        const entry = this.shared.get(key);
        if (entry === undefined) return NOT_FOUND;
        this.giveBytes(entry.value, outPtr, outSize);
        this.memory().writeUInt32LE(entry.cas, outCas);
        return OK;
      },
      proxy_set_shared_data: (kp: number, ks: number, vp: number, vs: number, cas: number) => {
        const key = this.text(kp, ks);
        const value = this.bytes(vp, vs);
        this.record("proxy_set_shared_data", () => `${key}, ${value.toString("hex")}, ${cas}`);
        // §2.8: a missing key is stored whatever the CAS; cas 0 is unconditional.
        const entry = this.shared.get(key);
        if (entry !== undefined && cas !== 0 && cas !== entry.cas) return WasmResult.CasMismatch;
        this.shared.set(key, { value, cas: this.nextCas++ });
        return OK;
      },
      proxy_register_shared_queue: (np: number, ns: number, outToken: number) => {
        const name = this.text(np, ns);
        this.record("proxy_register_shared_queue", () => name);
        if (!this.queues.has(name)) this.queues.set(name, this.queues.size + 1);
        this.memory().writeUInt32LE(this.queues.get(name)!, outToken);
        return OK;
      },
      proxy_resolve_shared_queue: (vp: number, vs: number, np: number, ns: number, outToken: number) => {
        const vmId = this.text(vp, vs);
        const name = this.text(np, ns);
        this.record("proxy_resolve_shared_queue", () => `${vmId}, ${name}`);
        const token = this.queues.get(name);
        if (token === undefined) return NOT_FOUND;
        this.memory().writeUInt32LE(token, outToken);
        return OK;
      },
      proxy_enqueue_shared_queue: (token: number, dp: number, ds: number) => {
        // The item is copied as the host would queue it, then dropped: nobody dequeues here.
        const item = this.bytes(dp, ds);
        this.record("proxy_enqueue_shared_queue", () => `${token}, ${item.toString("latin1")}`);
        return token > 0 && token <= this.queues.size ? OK : NOT_FOUND;
      },
    };
  }

  private metricCalls(): Record<string, HostFunction> {
    return {
      proxy_define_metric: (type: number, np: number, ns: number, outId: number) => {
        const name = this.text(np, ns);
        this.record("proxy_define_metric", () => `${type}, ${name}`);
        if (type > MetricType.Histogram) return WasmResult.BadArgument;
        // §2.9: ids step by 4 with the type in the low 2 bits; a name keeps its stat.
        const key = `${type}:${name}`;
        let id = this.metricIds.get(key);
        if (id === undefined) this.metricIds.set(key, (id = (this.metricIds.size + 1) * 4 + type));
        this.memory().writeUInt32LE(id, outId);
        return OK;
      },
      proxy_increment_metric: ((id: number, offset: bigint) => {
        this.record("proxy_increment_metric", () => `${id}, ${offset}`);
        this.metricValues.set(id, (this.metricValues.get(id) ?? 0n) + offset);
        return OK;
      }) as HostFunction,
      proxy_record_metric: ((id: number, value: bigint) => {
        this.record("proxy_record_metric", () => `${id}, ${value}`);
        this.metricValues.set(id, (id & 3) === MetricType.Histogram ? (this.metricValues.get(id) ?? 0n) + 1n : value);
        return OK;
      }) as HostFunction,
    };
  }

  private miscCalls(): Record<string, HostFunction> {
    return {
      proxy_log: (level: number, mp: number, ms: number) => (this.record("proxy_log", () => `${level}, ${this.text(mp, ms)}`), OK),
      proxy_get_log_level: (out: number) => (this.record("proxy_get_log_level"), this.memory().writeUInt32LE(2 /* info */, out), OK),
      proxy_set_effective_context: (id: number) => (this.record("proxy_set_effective_context", () => String(id)), OK),
      proxy_set_tick_period_milliseconds: (ms: number) => (this.record("proxy_set_tick_period_milliseconds", () => String(ms)), OK),
      proxy_get_property: (pp: number, ps: number, outPtr: number, outSize: number) => {
        const path = this.text(pp, ps);
        this.record("proxy_get_property", () => path);
        const value = this.properties.get(path);
        if (value === undefined) return NOT_FOUND;
        this.giveBytes(value, outPtr, outSize);
        return OK;
      },
      proxy_get_buffer_bytes: (type: number, start: number, max: number, outPtr: number, outSize: number) => {
        this.record("proxy_get_buffer_bytes", () => `${type}, ${start}, ${max}`);
        // §2.4: only the configurations and an (empty) callout body exist in this host.
        const buffer = type === BufferType.PluginConfiguration ? this.configuration : type === BufferType.VmConfiguration || type === BufferType.HttpCallResponseBody ? Buffer.alloc(0) : undefined;
        if (buffer === undefined) return NOT_FOUND;
        const from = Math.min(start, buffer.length);
        this.giveBytes(buffer.subarray(from, Math.min(buffer.length, from + max)), outPtr, outSize);
        return OK;
      },
      proxy_get_buffer_status: (type: number, outLength: number, outFlags: number) => {
        this.record("proxy_get_buffer_status", () => String(type));
        const memory = this.memory();
        memory.writeUInt32LE(type === BufferType.PluginConfiguration ? this.configuration.length : 0, outLength);
        memory.writeUInt32LE(0, outFlags);
        return OK;
      },
      // A virtual clock: the same in every run, so traces and rate-limit levels repeat exactly.
      proxy_get_current_time_nanoseconds: (out: number) => (this.record("proxy_get_current_time_nanoseconds"), this.memory().writeBigUInt64LE(this.nowNs, out), OK),
      clock_time_get: ((clock: number, precision: bigint, out: number) => {
        this.record("clock_time_get", () => String(clock));
        this.memory().writeBigUInt64LE(clock === 0 ? this.nowNs : this.nowNs - START_NS + UPTIME_NS, out);
        return 0;
      }) as HostFunction,
    };
  }

  /** The import object for `module`: every import it declares, unknown ones as no-ops returning Ok. */
  imports(module: WebAssembly.Module): WebAssembly.Imports {
    const known: Record<string, HostFunction> = {
      ...this.headerCalls(), ...this.streamCalls(), ...this.sharedCalls(), ...this.metricCalls(), ...this.miscCalls(),
    };
    const env: Record<string, HostFunction> = {};
    const wasi: Record<string, HostFunction> = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind !== "function") throw new Error(`${imp.module}.${imp.name}: the lifecycle host links functions only`);
      (imp.module === "env" ? env : wasi)[imp.name] = known[imp.name] ?? (() => (this.record(imp.name), OK));
    }
    return { env, wasi_snapshot_preview1: wasi };
  }
}
