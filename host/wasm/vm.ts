// One Wasm VM instance (a proxy-wasm-cpp-host WasmBase + its V8 WasmVm): instantiation with the
// host's imports, linear-memory access, the module's allocator, the VM's contexts and the
// per-call state Envoy keeps on the Wasm object (current/effective context, deferred actions,
// stopNextIteration, metric and callout ids), restricted phases and trap capture.
//
// Faithfulness notes (proxy-wasm-abi.md):
// - §2.1: host calls see the context whose callback runs, or the one set by
//   proxy_set_effective_context; every host→VM call saves and resets both (SaveRestoreContext).
// - §2.1: while the allocator runs, and during _initialize/_start/main (§2.12), only a few host
//   functions are allowed; anything else throws "restricted_callback" and the VM fails.
// - §6.5: a trap marks the VM failed (RuntimeError) and logs "Function: <name> failed: Uncaught
//   <Error>: <message>" plus the in-VM backtrace built from the name section, as V8::getFailMessage.
// - Memory views are re-read after every call into the module (memory.grow detaches old buffers).
import type { Counter, Gauge, Histogram, ServerContext } from "../envoy/server-context.js";
import type { AbiVersion } from "./abi.js";
import type { CompiledModule } from "./loader.js";
import { WasmLoadError } from "./loader.js";
import { pairsSize, putLatin1, shortString, writePairs } from "./pairs.js";
import type { SharedState } from "./shared-state.js";
import { FailState, MetricType, WasmResult } from "./types.js";

// Envoy prints the whole in-VM backtrace; V8 keeps only 10 frames by default.
if (Error.stackTraceLimit < 64) Error.stackTraceLimit = 64;

/** A host function: receives the VM and the call's arguments (i32 as unsigned numbers, i64 as bigint). */
export type HostFunction = (vm: WasmVm, ...args: never[]) => number | void;

/** The minimum a VM needs from a context; host-call families use the full classes in context.ts. */
export interface VmContext {
  readonly id: number;
}

/** Thrown by a host function called in a restricted phase (cpp-host's "restricted_callback" trap). */
export class RestrictedCallbackError extends Error {
  constructor() {
    super("restricted_callback");
    this.name = "Error";
  }
}

/** What may be called while the module's allocator runs (proxy-wasm-abi.md §2.1). */
const allocatorAllowed = withWasi(["env.proxy_log"], ["fd_write", "clock_time_get", "poll_oneoff"]);
/** What may be called during _initialize/_start/main (WasmBase::startVm, §2.12). */
const startAllowed = withWasi(
  ["env.proxy_log", "env.emscripten_notify_memory_growth"],
  ["fd_write", "args_sizes_get", "args_get", "environ_sizes_get", "environ_get", "fd_prestat_get", "fd_prestat_dir_name", "clock_time_get", "random_get", "poll_oneoff"],
);

function withWasi(env: string[], wasi: string[]): ReadonlySet<string> {
  const s = new Set(env);
  for (const m of ["wasi_unstable", "wasi_snapshot_preview1"]) for (const f of wasi) s.add(`${m}.${f}`);
  return s;
}

/** A foreign function (proxy_call_foreign_function): returns a status and optional result bytes. */
export type ForeignFunction = (vm: WasmVm, args: Uint8Array) => { status: WasmResult; result?: Uint8Array };

/** What a VM needs from its surroundings (Envoy's Wasm object and integration). */
export interface VmIntegration {
  readonly server: ServerContext;
  readonly vmId: string;
  /** vm_config.environment_variables, in order (WASI environ_get). */
  readonly environment: ReadonlyArray<readonly [string, string]>;
  readonly shared: SharedState;
  readonly foreignFunctions: ReadonlyMap<string, ForeignFunction>;
  /** Envoy's "wasm" logger, used for VM failures (EnvoyWasmVmIntegration::error). */
  error(message: string): void;
  /** Called once when the VM fails (FAIL_RELOAD and the thread-local VM cache listen to this). */
  onFail?(state: FailState): void;
}

/** A custom metric defined by the module (proxy_define_metric), by id. */
export type DefinedMetric =
  | { type: MetricType.Counter; stat: Counter }
  | { type: MetricType.Gauge; stat: Gauge }
  | { type: MetricType.Histogram; stat: Histogram };

export class WasmVm {
  readonly abiVersion: AbiVersion;
  readonly memory: WebAssembly.Memory;
  failState = FailState.Ok;

  readonly contexts = new Map<number, VmContext>();
  /** Custom metrics by id (Envoy Wasm counters_/gauges_/histograms_). */
  readonly metrics = new Map<number, DefinedMetric>();
  private nextContextId = 1;
  /** The context of the running host→VM call (cpp-host current_context_). */
  current: VmContext | null = null;
  /** proxy_set_effective_context's target, 0 = none (reset on every host→VM call). */
  effectiveContextId = 0;
  /** Set by proxy_send_local_response: forces the current callback's result to "stop" (§3.6). */
  nextIterationStopped = false;

  /** Host functions allowed in the current phase, or null when unrestricted. */
  private restricted: ReadonlySet<string> | null = null;
  private readonly afterVmCallActions: Array<() => void> = [];
  private readonly exports: Record<string, (...args: unknown[]) => unknown>;
  private readonly mallocName: string;
  private readonly functionNames: Map<number, string>;
  private cachedBuffer: ArrayBuffer | null = null;
  private u8 = new Uint8Array(0);
  /** The same memory as a Buffer, for latin1/UTF-8 conversions in place. */
  private buf = Buffer.alloc(0);
  private view = new DataView(new ArrayBuffer(0));
  /** Exports the host looks up, resolved once (null: absent or outside the allowed capabilities). */
  private readonly lookedUp = new Map<string, ((...args: unknown[]) => unknown) | null>();
  private malloc: ((...args: unknown[]) => unknown) | null = null;

  // Ids Envoy allocates per Wasm (VM) object (proxy-wasm-abi.md §2.7, §2.9).
  private nextHttpCallId = 0;
  private nextGrpcCallId = 1;
  private nextGrpcStreamId = 2;
  private nextCounterId = 0;
  private nextGaugeId = 1;
  private nextHistogramId = 2;

  /**
   * Instantiates `compiled` with `hostFunctions` (by "module.name"). Functions the module imports
   * but that are missing from the table or not allowed by `capabilityAllowed` get Envoy's stub.
   */
  constructor(
    readonly compiled: CompiledModule,
    hostFunctions: ReadonlyMap<string, HostFunction>,
    readonly integration: VmIntegration,
    private readonly capabilityAllowed: (name: string) => boolean = () => true,
  ) {
    this.abiVersion = compiled.abiVersion;
    this.functionNames = compiled.info.functionNames;
    const imports: WebAssembly.Imports = {};
    let importedMemory: WebAssembly.Memory | null = null;
    for (const imp of compiled.info.imports) {
      const mod = (imports[imp.module] ??= {});
      if (imp.kind === "memory") {
        importedMemory = new WebAssembly.Memory({ initial: imp.limits!.min, ...(imp.limits!.max !== undefined ? { maximum: imp.limits!.max } : {}) });
        mod[imp.name] = importedMemory;
      } else if (imp.kind === "table") {
        mod[imp.name] = new WebAssembly.Table({ element: "anyfunc", initial: imp.limits!.min, ...(imp.limits!.max !== undefined ? { maximum: imp.limits!.max } : {}) });
      } else if (imp.kind === "function") {
        const key = `${imp.module}.${imp.name}`;
        const allowed = this.capabilityAllowed(imp.name);
        const impl = allowed ? hostFunctions.get(key) : restrictedCapabilityStub(imp.module, imp.name);
        if (!impl) throw new Error(`host function ${key} is in the ABI table but not implemented`);
        mod[imp.name] = this.bindHostFunction(key, impl, imp.signature?.params.length ?? 0);
      }
    }
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(compiled.module, imports);
    } catch {
      throw new WasmLoadError("Failed to create new Wasm instance", FailState.UnableToInitializeCode);
    }
    this.exports = instance.exports as Record<string, (...args: unknown[]) => unknown>;
    const exportedMemory = Object.values(instance.exports).find((e) => e instanceof WebAssembly.Memory) as WebAssembly.Memory | undefined;
    this.memory = exportedMemory ?? importedMemory!;
    this.mallocName = typeof this.exports.malloc === "function" ? "malloc" : "proxy_on_memory_allocate";
    this.contexts.set(0, this.vmContext);
  }

  /** The VM's own context (id 0), current during _initialize and inside the allocator. */
  vmContext: VmContext = { id: 0 };

  /** Installs the embedder's VM context (a full host context, built once the VM exists). */
  setVmContext(context: VmContext): void {
    if (context.id !== 0) throw new Error("the VM context has id 0");
    this.vmContext = context;
    this.contexts.set(0, context);
  }

  /**
   * The import the module calls: checks the phase, turns i32 arguments into cpp-host's unsigned
   * words (i64 ones arrive as bigint) and calls `impl`. Fixed-arity wrappers for the common
   * arities keep the per-call cost to the call itself (no rest array, no spread).
   */
  private bindHostFunction(key: string, impl: HostFunction, arity: number): (...args: unknown[]) => unknown {
    const f = impl as (vm: WasmVm, ...args: unknown[]) => number | void;
    const check = (): void => {
      if (this.restricted !== null && !this.restricted.has(key)) throw new RestrictedCallbackError();
    };
    const u = (x: unknown): unknown => (typeof x === "number" ? x >>> 0 : x);
    switch (arity) {
      case 0:
        return () => (check(), f(this));
      case 1:
        return (a) => (check(), f(this, u(a)));
      case 2:
        return (a, b) => (check(), f(this, u(a), u(b)));
      case 3:
        return (a, b, c) => (check(), f(this, u(a), u(b), u(c)));
      case 4:
        return (a, b, c, d) => (check(), f(this, u(a), u(b), u(c), u(d)));
      case 5:
        return (a, b, c, d, e) => (check(), f(this, u(a), u(b), u(c), u(d), u(e)));
      case 6:
        return (a, b, c, d, e, g) => (check(), f(this, u(a), u(b), u(c), u(d), u(e), u(g)));
      default:
        return (...args: unknown[]) => {
          check();
          for (let i = 0; i < args.length; i++) args[i] = u(args[i]);
          return f(this, ...args);
        };
    }
  }

  // ------------------------------------------------------------------------ state

  get failed(): boolean {
    return this.failState !== FailState.Ok;
  }

  fail(state: FailState, message: string): void {
    this.integration.error(message);
    const first = this.failState === FailState.Ok;
    this.failState = state;
    if (first) this.integration.onFail?.(state);
  }

  /** Whether the host looks up this export: a proxy_* callback outside the allowed capabilities is ignored. */
  has(exportName: string): boolean {
    return this.exportFunction(exportName) !== null;
  }

  /**
   * The export `has` answers for (null: absent or outside the allowed capabilities), resolved once
   * per name: exports and capabilities never change. Callers that call an export often look it up
   * once and `invoke` it.
   */
  exportFunction(exportName: string): ((...args: unknown[]) => unknown) | null {
    let fn = this.lookedUp.get(exportName);
    if (fn === undefined) {
      const allowed = !exportName.startsWith("proxy_") || this.capabilityAllowed(exportName);
      const e = this.exports[exportName];
      fn = allowed && typeof e === "function" ? e : null;
      this.lookedUp.set(exportName, fn);
    }
    return fn;
  }

  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  // ------------------------------------------------------------------------ contexts

  allocContextId(): number {
    while (this.contexts.has(this.nextContextId)) this.nextContextId++;
    return this.nextContextId++;
  }

  getContext(id: number): VmContext | undefined {
    return this.contexts.get(id);
  }

  /** cpp-host ContextOrEffectiveContext: the effective context if it still exists. */
  effectiveContext<C extends VmContext>(): C {
    if (this.effectiveContextId !== 0) {
      const c = this.contexts.get(this.effectiveContextId);
      if (c) return c as C;
    }
    return (this.current ?? this.vmContext) as C;
  }

  addAfterVmCallAction(action: () => void): void {
    this.afterVmCallActions.push(action);
  }

  /** cpp-host doAfterVmCallActions: runs deferred continue/local-reply/close actions. */
  doAfterVmCallActions(): void {
    while (this.afterVmCallActions.length > 0) this.afterVmCallActions.shift()!();
  }

  /**
   * cpp-host DeferAfterCallActions around one callback: `body` makes the VM call(s) and converts
   * the result (which may read nextIterationStopped); then the flag is cleared and the deferred
   * actions run, still before the caller (Envoy's filter manager) sees the result.
   */
  withDeferredActions<T>(body: () => T): T {
    try {
      return body();
    } finally {
      this.endDeferral();
    }
  }

  /** The end of a DeferAfterCallActions scope (withDeferredActions, or a caller's own finally). */
  endDeferral(): void {
    this.nextIterationStopped = false;
    this.doAfterVmCallActions();
  }

  // ------------------------------------------------------------------------ calling the module

  /**
   * Calls an export on behalf of `context` (SaveRestoreContext). A trap fails the VM and returns 0
   * like cpp-host does. Returns the i32 result as an unsigned number (0 for void functions).
   */
  call(name: string, context: VmContext, ...args: number[]): number {
    const fn = this.exportFunction(name);
    if (fn === null) return 0;
    return args.length <= 3 ? this.invoke(name, fn, context, args.length, args[0]!, args[1]!, args[2]!) : this.invoke(name, fn, context, -1, 0, 0, 0, args);
  }

  /** call() of an export already looked up: `fn` with `argc` of a, b, c (or `rest` when argc is -1). */
  invoke(name: string, fn: (...args: unknown[]) => unknown, context: VmContext, argc: number, a: number, b: number, c: number, rest?: number[]): number {
    const savedContext = this.current;
    const savedEffective = this.effectiveContextId;
    this.current = context;
    this.effectiveContextId = 0;
    try {
      const r = argc === 1 ? fn(a) : argc === 2 ? fn(a, b) : argc === 3 ? fn(a, b, c) : argc === 0 ? fn() : fn(...rest!);
      return typeof r === "number" ? r >>> 0 : 0;
    } catch (e) {
      this.fail(FailState.RuntimeError, this.failMessage(name, e));
      return 0;
    } finally {
      this.current = savedContext;
      this.effectiveContextId = savedEffective;
    }
  }

  /** WasmBase::startVm: _initialize (+ main / __main_void) or _start, in a restricted phase. */
  start(): boolean {
    this.restricted = startAllowed;
    try {
      if (this.has("_initialize")) {
        this.call("_initialize", this.vmContext);
        if (!this.failed) {
          if (this.has("main")) this.call("main", this.vmContext, 0, 0);
          else if (this.has("__main_void")) this.call("__main_void", this.vmContext);
        }
      } else if (this.has("_start")) {
        this.call("_start", this.vmContext);
      }
    } finally {
      this.restricted = null;
    }
    return !this.failed;
  }

  /**
   * WasmBase::allocMemory: calls malloc (or proxy_on_memory_allocate) on the VM context with host
   * calls restricted. Returns the address, or null if the allocator failed, returned 0 or an
   * out-of-bounds block (the caller then reports InvalidMemoryAccess).
   */
  allocMemory(size: number): number | null {
    const malloc = (this.malloc ??= this.exportFunction(this.mallocName));
    if (malloc === null) return null;
    const savedRestricted = this.restricted;
    this.restricted = allocatorAllowed;
    let ptr: number;
    try {
      ptr = this.invoke(this.mallocName, malloc, this.vmContext, 1, size, 0, 0);
    } finally {
      this.restricted = savedRestricted;
    }
    if (this.failed || ptr === 0 || ptr + size > this.bytes.length) return null;
    return ptr;
  }

  /** cpp-host copyToPointerSize: allocate in the VM, copy, write pointer and size (0,0 if empty). */
  copyToPointerSize(data: Uint8Array, ptrPtr: number, sizePtr: number): boolean {
    let ptr = 0;
    if (data.length > 0) {
      const p = this.allocMemory(data.length);
      if (p === null) return false;
      this.bytes.set(data, p);
      ptr = p;
    }
    return this.setWord(ptrPtr, ptr) && this.setWord(sizePtr, data.length);
  }

  /**
   * copyToPointerSize for a string in the given encoding (latin1: header bytes; utf8: property
   * strings), written straight into the block without an intermediate buffer.
   */
  copyStringToPointerSize(value: string, encoding: "latin1" | "utf8", ptrPtr: number, sizePtr: number): boolean {
    const n = value.length;
    // Short ASCII strings (most property values: names, addresses) are the same in both encodings
    // and are copied byte by byte, without the native size and write calls.
    const bytewise = n <= shortString && (encoding === "latin1" || isAscii(value));
    const size = bytewise || encoding === "latin1" ? n : Buffer.byteLength(value, "utf8");
    let ptr = 0;
    if (size > 0) {
      const p = this.allocMemory(size);
      if (p === null) return false;
      // allocMemory checked the block against fresh views (memory.grow replaces the buffer).
      if (bytewise) putLatin1(this.buf, value, p);
      else this.buf.write(value, p, size, encoding);
      ptr = p;
    }
    return this.setWord(ptrPtr, ptr) && this.setWord(sizePtr, size);
  }

  /**
   * copyToPointerSize of header pairs (proxy-wasm-abi.md §5.1): the bytes encodePairs would make,
   * written straight into the VM's block (an empty map is 0, 0 without an allocation, as cpp-host
   * returns it). Filters read whole maps on every request; an intermediate buffer and a native
   * write per string would cost more than the copy itself.
   */
  copyPairsToPointerSize(pairs: ReadonlyArray<readonly [string, string]>, ptrPtr: number, sizePtr: number): boolean {
    const n = pairs.length;
    if (n === 0) return this.setWord(ptrPtr, 0) && this.setWord(sizePtr, 0);
    const size = pairsSize(pairs);
    const p = this.allocMemory(size);
    if (p === null) return false;
    writePairs(pairs, this.buf, p); // this.buf is fresh: allocMemory re-read the memory
    return this.setWord(ptrPtr, p) && this.setWord(sizePtr, size);
  }

  /** copyToPointerSize for an 8-byte little-endian integer (serialized int/uint/duration/timestamp). */
  copyU64ToPointerSize(value: bigint, ptrPtr: number, sizePtr: number): boolean {
    const p = this.allocMemory(8);
    if (p === null) return false;
    this.dataView.setBigUint64(p, BigInt.asUintN(64, value), true);
    return this.setWord(ptrPtr, p) && this.setWord(sizePtr, 8);
  }

  // ------------------------------------------------------------------------ memory

  /**
   * The current linear memory (re-read if the buffer was replaced by memory.grow). memory.grow
   * detaches the old buffer, which empties every view of it, so an empty view is the cheap sign
   * that the views must be rebuilt (reading `memory.buffer` on every access costs far more).
   */
  get bytes(): Uint8Array {
    if (this.u8.length === 0) this.refreshViews();
    return this.u8;
  }

  private get dataView(): DataView {
    if (this.u8.length === 0) this.refreshViews();
    return this.view;
  }

  private refreshViews(): void {
    if (this.memory.buffer === this.cachedBuffer) return;
    this.cachedBuffer = this.memory.buffer;
    this.u8 = new Uint8Array(this.cachedBuffer);
    this.buf = Buffer.from(this.cachedBuffer);
    this.view = new DataView(this.cachedBuffer);
  }

  /** A view of [ptr, ptr+size), or null when out of bounds (cpp-host getMemory). Copy to keep it. */
  getMemory(ptr: number, size: number): Uint8Array | null {
    if (ptr + size > this.bytes.length) return null;
    return this.u8.subarray(ptr, ptr + size);
  }

  /** Bytes of [ptr, ptr+size) as a latin1 string (header keys/values), or null when out of bounds. */
  getLatin1(ptr: number, size: number): string | null {
    if (ptr + size > this.bytes.length) return null;
    if (size === 0) return "";
    return size <= internMaxLength ? this.internedLatin1(ptr, size) : this.buf.toString("latin1", ptr, ptr + size);
  }

  /**
   * Short strings (header names, property paths, shared-data keys) are the same few on every
   * request: a table of the strings seen last, found by a hash of the bytes and checked byte by
   * byte, gives them back without decoding (or allocating) a new string.
   */
  private internedLatin1(ptr: number, size: number): string {
    const u8 = this.u8;
    // The slot comes from the length and five sampled bytes (the check below compares them all).
    const last = ptr + size - 1;
    let h = Math.imul(size, 0x9e3779b1) ^ u8[ptr]!;
    h = Math.imul(h, 0x01000193) ^ u8[last]!;
    h = Math.imul(h, 0x01000193) ^ u8[ptr + (size >> 1)]!;
    h = Math.imul(h, 0x01000193) ^ u8[ptr + (size >> 2)]!;
    h = Math.imul(h, 0x01000193) ^ u8[last - (size >> 2)]!;
    // Two entries per slot, so that two names used on every request that share a slot both stay.
    const slot = ((h ^ (h >>> 15)) & (internSlots - 1)) << 1;
    for (let way = slot; way < slot + 2; way++) {
      const cached = internTable[way];
      if (cached !== undefined && cached.length === size && sameLatin1(cached, u8, ptr)) return cached;
    }
    const s = this.buf.toString("latin1", ptr, ptr + size);
    internTable[slot + (internVictim ^= 1)] = s;
    return s;
  }

  /** Bytes of [ptr, ptr+size) decoded as UTF-8, or null when out of bounds. */
  getUtf8(ptr: number, size: number): string | null {
    if (ptr + size > this.bytes.length) return null;
    return size === 0 ? "" : this.buf.toString("utf8", ptr, ptr + size);
  }

  setMemory(ptr: number, data: Uint8Array): boolean {
    if (ptr + data.length > this.bytes.length) return false;
    this.u8.set(data, ptr);
    return true;
  }

  setWord(ptr: number, value: number): boolean {
    if (ptr + 4 > this.bytes.length) return false;
    this.dataView.setUint32(ptr, value >>> 0, true);
    return true;
  }

  setU64(ptr: number, value: bigint): boolean {
    if (ptr + 8 > this.bytes.length) return false;
    this.dataView.setBigUint64(ptr, BigInt.asUintN(64, value), true);
    return true;
  }

  getWord(ptr: number): number | null {
    if (ptr + 4 > this.bytes.length) return null;
    return this.dataView.getUint32(ptr, true);
  }

  // ------------------------------------------------------------------------ ids

  nextHttpCallToken(): number {
    return (this.nextHttpCallId += 4);
  }
  nextGrpcCallToken(): number {
    return (this.nextGrpcCallId += 4);
  }
  nextGrpcStreamToken(): number {
    return (this.nextGrpcStreamId += 4);
  }
  nextMetricId(type: 0 | 1 | 2): number {
    if (type === 0) return (this.nextCounterId += 4);
    if (type === 1) return (this.nextGaugeId += 4);
    return (this.nextHistogramId += 4);
  }

  // ------------------------------------------------------------------------ traps

  /** V8::getFailMessage: the trap message plus the in-VM backtrace when names are known. */
  failMessage(functionName: string, error: unknown): string {
    const e = error instanceof Error ? error : new Error(String(error));
    let message = `Function: ${functionName} failed: Uncaught ${e.name}: ${e.message}`;
    if (this.functionNames.size === 0) return message;
    const frames = [...(e.stack ?? "").matchAll(/wasm-function\[(\d+)\]:0x([0-9a-f]+)/g)];
    message += "\nProxy-Wasm plugin in-VM backtrace:";
    frames.forEach((m, i) => {
      const index = Number(m[1]);
      const name = this.functionNames.get(index) ?? `unknown(function index:${index})`;
      message += `\n${String(i).padStart(3, " ")}:  0x${m[2]} - ${name}`;
    });
    return message;
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The intern table of getLatin1 (process-wide: every VM reads the same names). */
const internMaxLength = 64;
const internSlots = 1024;
const internTable: Array<string | undefined> = new Array<string | undefined>(2 * internSlots).fill(undefined);
/** Which way of a slot the next miss replaces (alternating). */
let internVictim = 0;

/** Whether latin1 string `s` spells the bytes at `ptr` (its length already matches). */
function sameLatin1(s: string, u8: Uint8Array, ptr: number): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== u8[ptr + i]) return false;
  return true;
}

/**
 * Envoy's stub for a capability not in capability_restriction_config: logs and fails with
 * INTERNAL_FAILURE (WASI functions: ENOTCAPABLE, errno 76). proxy-wasm-abi.md §2.1.
 */
function restrictedCapabilityStub(module: string, name: string): HostFunction {
  const wasi = module !== "env";
  return (vm: WasmVm) => {
    vm.integration.error(`Attempted call to restricted ${wasi ? "WASI" : "proxy-wasm"} capability: ${name}`);
    return wasi ? 76 : 10;
  };
}
