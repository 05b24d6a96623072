// The test emulator (Go's proxytest is the model, sdk-anchors.md §6.2): loads real compiled
// modules through the same createWasmPlugin, FilterManager and Wasm filter as the local proxy, on
// a virtual clock with a scripted cluster manager, an in-memory stats store and logger — so what a
// filter does here is what it does in the proxy, and both follow Envoy.
import { readFileSync } from "node:fs";
import type { NodeInfo, ServerContext } from "../envoy/server-context.js";
import type { LogLevel } from "../envoy/server-context.js";
import type { AnyStreamFilter } from "../http/filter-manager.js";
import { newStreamInfo, type ConnectionInfo, type StreamInfo } from "../http/stream-info.js";
import { MemoryStatsStore, type HistogramImpl } from "../stats/store.js";
import type { PluginRuntime } from "../wasm/lifecycle.js";
import { networkFilterFactory, type NetworkContext } from "../wasm/network-context.js";
import { createWasmPlugin, type FailurePolicy, type WasmPlugin } from "../wasm/plugin.js";
import type { RootContext } from "../wasm/root-context.js";
import { sharedStateOf, type SharedState } from "../wasm/shared-state.js";
import type { ForeignFunction } from "../wasm/vm.js";
import { VirtualClock } from "./clock.js";
import { ScriptedClusterManager, type HttpResponder, type PendingGrpcCall, type PendingHttpCall } from "./clusters.js";
import { EmulatedConnection } from "./connection.js";
import { MemoryLogger } from "./logger.js";
import { EmulatedStream } from "./stream.js";

export interface EmulatorOptions {
  /** Bootstrap `node` (the xds.node attribute). */
  node?: Partial<NodeInfo>;
  /** Level of the "wasm" logger (proxy_get_log_level); Envoy's default is info. */
  logLevel?: LogLevel;
  /** Wall-clock start of the virtual clock, ns since the epoch. */
  startTimeNs?: bigint;
  /** Cluster names available to callouts (more with addCluster). */
  clusters?: string[];
  /** Emulate Envoy < 1.33 legacy attribute names (see WasmHostOptions.legacyProperties). */
  legacyProperties?: boolean;
}

export interface PluginOptions {
  /** The module: bytes, or a path to a .wasm file. */
  wasm: Uint8Array | string;
  name?: string;
  rootId?: string;
  vmId?: string;
  /** PLUGIN_CONFIGURATION: a string (UTF-8), bytes, or an object (serialized as JSON, like Istio's StringValue). */
  configuration?: string | Uint8Array | object;
  /** VM_CONFIGURATION, same forms. */
  vmConfiguration?: string | Uint8Array | object;
  environment?: Record<string, string>;
  failurePolicy?: FailurePolicy;
  reloadBackoffMs?: number;
  allowOnHeadersStopIteration?: boolean;
  /** Worker VMs (Envoy --concurrency; default 2). */
  concurrency?: number;
  allowedCapabilities?: string[];
  /** Provide env.abort instead of failing to link (never for modules meant for Envoy). */
  lenientAbort?: boolean;
}

/** Per-stream settings: which plugins, which worker, and StreamInfo fields. */
export interface StreamOptions {
  /** Plugins in filter-chain order (default: every loaded plugin, in load order). */
  plugins?: EmulatedPlugin[];
  /** Worker (VM instance) serving the stream; default 0. */
  worker?: number;
  /** Connection fields (addresses, mTLS, SANs...); same `id` = same downstream connection. */
  connection?: Partial<ConnectionInfo>;
  /** Any other StreamInfo fields: routeName, clusterName, metadata, listenerDirection, ... */
  streamInfo?: Partial<Omit<StreamInfo, "connection">>;
  /** Filters to put before/after the plugins, e.g. native filters under test. */
  extraFilters?: { before?: AnyStreamFilter[]; after?: AnyStreamFilter[] };
  /** FilterManager buffer limit (default Envoy's 1 MiB). */
  bufferLimitBytes?: number;
}

/** Per-connection settings of a TCP connection (Emulator.newConnection). */
export interface ConnectionOptions {
  /** Plugins in network filter-chain order (default: every loaded plugin, in load order). */
  plugins?: EmulatedPlugin[];
  /** Worker (VM instance) serving the connection; default 0. */
  worker?: number;
  /** Connection fields (id, addresses, mTLS, SANs...). */
  connection?: Partial<ConnectionInfo>;
  /** Other StreamInfo fields of the connection (clusterName, upstream, dynamicMetadata, ...). */
  streamInfo?: Partial<Omit<StreamInfo, "connection">>;
}

const toBytes = (v: string | Uint8Array | object | undefined): Uint8Array =>
  v === undefined ? new Uint8Array(0) : v instanceof Uint8Array ? v : Buffer.from(typeof v === "string" ? v : JSON.stringify(v));

/** A loaded plugin and its per-worker VMs. */
export class EmulatedPlugin {
  /** @internal */
  constructor(
    readonly plugin: WasmPlugin,
    private readonly emulator: Emulator,
  ) {}

  get name(): string {
    return this.plugin.config.name;
  }
  get vmId(): string {
    return this.plugin.config.vmId;
  }

  private runtime(): PluginRuntime {
    return this.plugin as PluginRuntime;
  }

  /** Linear memory of a worker's VM, in bytes. */
  memoryBytes(worker = 0): number {
    return this.plugin.vm(worker).memoryBytes;
  }

  /** True once the worker's VM failed (trap) or could not start the plugin. */
  failed(worker = 0): boolean {
    return this.plugin.vm(worker).failed;
  }

  /** A copy of a worker VM's linear memory [ptr, ptr+len) (to read what a test module stored). */
  readMemory(ptr: number, len: number, worker = 0): Buffer {
    const m = this.runtime().workerState(worker).vm.getMemory(ptr, len);
    if (!m) throw new RangeError(`[${ptr}, ${ptr + len}) is outside the VM's memory`);
    return Buffer.from(m);
  }

  /** A little-endian u32 of a worker VM's memory. */
  readU32(ptr: number, worker = 0): number {
    return this.readMemory(ptr, 4, worker).readUInt32LE(0);
  }

  rootContextId(worker = 0): number {
    return this.plugin.vm(worker).rootContextId;
  }

  /** The tick period set by proxy_set_tick_period_milliseconds (0 = none). */
  tickPeriodMs(worker = 0): number {
    return this.root(worker)?.tickPeriod ?? 0;
  }

  /** Calls proxy_on_foreign_function(root, functionId, args) as a host extension would. */
  callOnForeignFunction(functionId: number, args: Uint8Array, worker = 0): void {
    this.root(worker)?.onForeignFunction(functionId, args);
    this.emulator.drain();
  }

  /** @internal */
  root(worker: number): RootContext | null {
    return this.runtime().workerState(worker).root;
  }

  /** Root shutdown (proxy_on_done / proxy_done / proxy_on_delete). */
  async shutdown(): Promise<void> {
    await this.plugin.shutdown();
    this.emulator.drain();
  }
}

export class Emulator {
  readonly clock: VirtualClock;
  readonly stats = new MemoryStatsStore();
  readonly log: MemoryLogger;
  readonly clusters: ScriptedClusterManager;
  readonly server: ServerContext;
  readonly plugins: EmulatedPlugin[] = [];
  private readonly foreignFunctions = new Map<string, ForeignFunction>();
  private readonly legacyProperties: boolean;
  private nextConnectionId = 1n;

  constructor(options: EmulatorOptions = {}) {
    this.clock = new VirtualClock(options.startTimeNs);
    this.log = new MemoryLogger("info");
    if (options.logLevel) this.log.setLevel("wasm", options.logLevel);
    this.clusters = new ScriptedClusterManager(this.clock);
    for (const c of options.clusters ?? []) this.clusters.addCluster(c);
    this.legacyProperties = options.legacyProperties ?? false;
    this.server = {
      node: { id: "emulator-node", cluster: "emulator-cluster", metadata: {}, ...options.node },
      stats: this.stats,
      log: this.log,
      dispatcher: this.clock,
      clusters: this.clusters,
    };
  }

  // ------------------------------------------------------------------ plugins and streams

  /**
   * Loads and starts a plugin (base VM, canary, worker VMs). Rejects with Envoy's message when the
   * module does not load or on_vm_start/on_configure fail.
   */
  async loadPlugin(options: PluginOptions): Promise<EmulatedPlugin> {
    const code = typeof options.wasm === "string" ? readFileSync(options.wasm) : options.wasm;
    const plugin = await createWasmPlugin(
      {
        name: options.name ?? `plugin${this.plugins.length}`,
        rootId: options.rootId ?? "",
        vmId: options.vmId ?? "",
        code,
        configuration: toBytes(options.configuration),
        vmConfiguration: toBytes(options.vmConfiguration),
        environment: options.environment ?? {},
        failurePolicy: options.failurePolicy ?? "FAIL_CLOSED",
        reloadBackoffMs: options.reloadBackoffMs,
        allowOnHeadersStopIteration: options.allowOnHeadersStopIteration,
        concurrency: options.concurrency ?? 2,
        allowedCapabilities: options.allowedCapabilities,
        codeSource: typeof options.wasm === "string" ? options.wasm : undefined,
      },
      this.server,
      { legacyProperties: this.legacyProperties, lenientAbort: options.lenientAbort, foreignFunctions: this.foreignFunctions },
    );
    const p = new EmulatedPlugin(plugin, this);
    this.plugins.push(p);
    this.drain();
    return p;
  }

  /** Opens a stream through the given plugins (default: all, in load order). */
  newStream(options: StreamOptions = {}): EmulatedStream {
    const worker = options.worker ?? 0;
    const plugins = options.plugins ?? this.plugins;
    const info = this.streamInfoFor(options);
    const filters = [
      ...(options.extraFilters?.before ?? []).map((f, i) => ({ name: `before${i}`, filter: f, plugin: false })),
      ...plugins.map((p) => ({ name: p.name, filter: p.plugin.filterFactory(worker)(info) as AnyStreamFilter, plugin: true })),
      ...(options.extraFilters?.after ?? []).map((f, i) => ({ name: `after${i}`, filter: f, plugin: false })),
    ];
    return new EmulatedStream(info, filters, this.clock, () => this.drain(), options.bufferLimitBytes);
  }

  /**
   * Opens a downstream TCP connection through the plugins as Wasm network filters
   * (envoy.filters.network.wasm), with tcp_proxy standing in for the upstream side.
   */
  newConnection(options: ConnectionOptions = {}): EmulatedConnection {
    const worker = options.worker ?? 0;
    const info = this.streamInfoFor(options);
    const filters: Array<{ name: string; filter: NetworkContext }> = [];
    for (const p of options.plugins ?? this.plugins) {
      // A fail-open plugin whose VM failed is left out of the chain (Envoy does not add it).
      const filter = networkFilterFactory(p.plugin, worker)();
      if (filter) filters.push({ name: p.name, filter });
    }
    return new EmulatedConnection(info, filters, () => this.drain(), (work) => this.clock.post(work));
  }

  /** StreamInfo of a new stream or connection: default loopback addresses, a fresh connection id. */
  private streamInfoFor(options: { connection?: Partial<ConnectionInfo>; streamInfo?: Partial<Omit<StreamInfo, "connection">> }): StreamInfo {
    const connection: ConnectionInfo = {
      id: options.connection?.id ?? this.nextConnectionId++,
      source: { ip: "127.0.0.1", port: 50000 },
      destination: { ip: "127.0.0.1", port: 10000 },
      mtls: false,
      ...options.connection,
    };
    return newStreamInfo({
      startTimeNs: this.clock.systemTimeNs(),
      startMonotonicNs: this.clock.monotonicTimeNs(),
      ...options.streamInfo,
      connection,
    });
  }

  /** Foreign functions available to modules loaded afterwards (proxy_call_foreign_function). */
  registerForeignFunction(name: string, fn: (args: Uint8Array) => Uint8Array | { status: number; result?: Uint8Array }): void {
    this.foreignFunctions.set(name, (_vm, args) => {
      const r = fn(args);
      return r instanceof Uint8Array ? { status: 0, result: r } : r;
    });
  }

  // ------------------------------------------------------------------ time

  /** Advances virtual time: fires tick timers, callout timeouts and queued notifications. */
  advance(ms: number): void {
    this.clock.advance(ms);
  }

  /** Runs work posted to the dispatcher (queue notifications, scripted callout answers). */
  drain(): void {
    this.clock.runPosted();
  }

  // ------------------------------------------------------------------ callouts

  addCluster(name: string, responder?: HttpResponder): void {
    this.clusters.addCluster(name, responder);
  }

  /** HTTP callouts still waiting for an answer (oldest first). */
  pendingHttpCalls(): PendingHttpCall[] {
    return this.clusters.httpCalls.filter((c) => c.pending);
  }

  /** Every HTTP callout made so far, answered or not. */
  get httpCalls(): readonly PendingHttpCall[] {
    return this.clusters.httpCalls;
  }

  /** The token the module got for a callout (proxy_http_call's out_token), if still tracked. */
  tokenOf(call: PendingHttpCall | PendingGrpcCall): number | undefined {
    for (const p of this.plugins) {
      for (let w = 0; w < p.plugin.config.concurrency; w++) {
        const root = p.root(w);
        if (!root) continue;
        for (const [token, r] of [...root.httpCalls, ...root.grpcCalls, ...[...root.grpcStreams].map(([t, s]) => [t, s.stream] as const)]) {
          if (r === call) return token;
        }
      }
    }
    return undefined;
  }

  /** Answers a callout (by object or by the module's token) and runs what it triggers. */
  respondHttpCall(call: PendingHttpCall | number, response: Parameters<PendingHttpCall["respond"]>[0] = {}): void {
    this.findHttpCall(call).respond(response);
    this.drain();
  }

  /** Fails a callout: the module sees proxy_on_http_call_response(…, 0, 0, 0) and status 11 "reset". */
  failHttpCall(call: PendingHttpCall | number): void {
    this.findHttpCall(call).fail();
    this.drain();
  }

  get grpcCalls(): readonly PendingGrpcCall[] {
    return this.clusters.grpcCalls;
  }

  private findHttpCall(call: PendingHttpCall | number): PendingHttpCall {
    if (typeof call !== "number") return call;
    const found = this.pendingHttpCalls().find((c) => this.tokenOf(c) === call);
    if (!found) throw new Error(`no pending HTTP callout with token ${call}`);
    return found;
  }

  // ------------------------------------------------------------------ shared data and queues

  get shared(): SharedState {
    return sharedStateOf(this.server);
  }

  /** A shared-data value as UTF-8 text (or null), in the vm_id's namespace. */
  sharedData(key: string, vmId = ""): { value: Buffer; cas: number } | null {
    const e = this.shared.get(vmId, key);
    return e ? { value: Buffer.from(e.value), cas: e.cas } : null;
  }

  setSharedData(key: string, value: string | Uint8Array, vmId = ""): void {
    this.shared.set(vmId, key, typeof value === "string" ? Buffer.from(value) : value, 0);
  }

  /** Makes the next CAS-conditional write(s) of `key` lose against a concurrent writer. */
  injectCasContention(key: string, competingValue: string | Uint8Array, options: { vmId?: string; times?: number } = {}): void {
    this.shared.injectContention(options.vmId ?? "", key, typeof competingValue === "string" ? Buffer.from(competingValue) : competingValue, options.times ?? 1);
  }

  /** Items waiting in a shared queue. */
  queueItems(name: string, vmId = ""): Buffer[] {
    const token = this.shared.resolveQueue(vmId, name);
    return (this.shared.peekQueue(token) ?? []).map((b) => Buffer.from(b));
  }

  // ------------------------------------------------------------------ logs and metrics

  /** "wasm" log lines, optionally of one level (trace/debug/info/warning/error/critical). */
  logs(level?: LogLevel, component = "wasm"): string[] {
    return this.log.messages(component, level);
  }

  /** A counter's value by full name or by the module's name (wasmcustom. prefix optional). */
  counter(name: string): bigint | undefined {
    return (this.stats.findCounter(name) ?? this.stats.findCounter(`wasmcustom.${name}`))?.value;
  }

  gauge(name: string): bigint | undefined {
    return (this.stats.findGauge(name) ?? this.stats.findGauge(`wasmcustom.${name}`))?.value;
  }

  histogram(name: string): HistogramImpl | undefined {
    return this.stats.findHistogram(name) ?? this.stats.findHistogram(`wasmcustom.${name}`);
  }

  /** Shuts every plugin down (root on_done/on_delete). */
  async shutdown(): Promise<void> {
    for (const p of this.plugins) await p.shutdown();
  }
}
