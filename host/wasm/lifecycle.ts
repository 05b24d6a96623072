// Plugin lifecycle (proxy-wasm-abi.md §6.1, §6.4, §6.5; proxy-wasm-cpp-host createWasm,
// WasmHandleBase::canary, getOrCreateThreadLocalPlugin; Envoy PluginConfig, createContext,
// maybeReloadHandleIfNeeded):
// - one base VM per vm_key = sha256(vm_id, vm_configuration, code), shared by plugins with the same
//   key, holding the vm_id's shared data alive;
// - a canary clone per plugin runs _initialize, on_context_create, on_vm_start and on_configure to
//   validate the configuration, then is discarded without on_done/on_delete;
// - one VM per worker (cached per vm_key, so plugins sharing a VM share its instances) with the
//   plugin's root context started and configured;
// - per stream, a StreamContext — or, once the worker's VM failed: FAIL_OPEN skips the filter,
//   FAIL_CLOSED answers 503, FAIL_RELOAD first tries a fresh VM (base interval backoff).
import { createHash } from "node:crypto";
import type { ServerContext } from "../envoy/server-context.js";
import {
  FilterDataStatus,
  FilterHeadersStatus,
  FilterTrailersStatus,
  type FilterFactory,
  type StreamFilter,
} from "../http/filter.js";
import type { StreamInfo } from "../http/stream-info.js";
import type { AbiVersion, Signature } from "./abi.js";
import { HostContext, type PluginInfo } from "./context.js";
import { alwaysAllowed, hostFunctionTable, lenientAbort } from "./hostcalls/index.js";
import { compileModule, WasmLoadError, type CompiledModule } from "./loader.js";
import type { WasmHostOptions, WasmPlugin, WasmPluginConfig, WasmVmView } from "./plugin.js";
import { RootContext } from "./root-context.js";
import { sharedStateOf } from "./shared-state.js";
import { StreamContext } from "./stream-context.js";
import { FailState } from "./types.js";
import { WasmVm, type ForeignFunction, type HostFunction } from "./vm.js";

const runtimeName = "envoy.wasm.runtime.v8";
const abortImport: Map<string, Signature> = new Map([["env.abort", { params: ["i32", "i32", "i32", "i32"], results: [] }]]);

/** cpp-host makeVmKey. */
function makeVmKey(vmId: string, vmConfiguration: Uint8Array, code: Uint8Array): string {
  return createHash("sha256").update(vmId).update(vmConfiguration).update(code).digest("hex").toUpperCase();
}

/** The base VM of one vm_key and its per-worker VM cache (cpp-host base_wasms / local_wasms). */
class BaseWasm {
  readonly workerVms = new Map<number, WasmVm>();
  plugins = 0;
  readonly baseVm: WasmVm;
  private readonly errorSinks: Array<(message: string) => void> = [];

  constructor(
    readonly key: string,
    readonly server: ServerContext,
    readonly compiled: CompiledModule,
    readonly vmId: string,
    readonly vmConfiguration: Uint8Array,
    readonly environment: ReadonlyArray<readonly [string, string]>,
    readonly capabilities: ReadonlySet<string> | null,
    readonly extras: WasmHostOptions,
  ) {
    this.baseVm = this.createVm();
    sharedStateOf(server).retainVmId(vmId);
  }

  /** A new VM instance (base, canary, or a worker clone), not yet started. */
  createVm(onFail?: (state: FailState) => void): WasmVm {
    const stats = this.server.stats;
    const table: ReadonlyMap<string, HostFunction> = this.compiled.hostImports.has("env.abort")
      ? new Map([...hostFunctionTable, ["env.abort", lenientAbort]])
      : hostFunctionTable;
    const integration = {
      server: this.server,
      vmId: this.vmId,
      environment: this.environment,
      shared: sharedStateOf(this.server),
      foreignFunctions: this.extras.foreignFunctions ?? new Map<string, ForeignFunction>(),
      error: (message: string) => {
        this.server.log.log("wasm", "error", message);
        for (const sink of this.errorSinks) sink(message);
      },
      onFail: (state: FailState) => {
        // A runtime failure drops the VM from the worker cache so a reload gets a fresh one.
        if (state === FailState.RuntimeError) for (const [w, v] of this.workerVms) if (v === vm) this.workerVms.delete(w);
        onFail?.(state);
      },
    };
    const caps = this.capabilities;
    const vm = new WasmVm(this.compiled, table, integration, caps ? (name) => alwaysAllowed.has(name) || caps.has(name) : undefined);
    vm.setVmContext(new HostContext(vm, 0, null, this.vmConfiguration));
    stats.counter(`wasm.${runtimeName}.created`).inc();
    stats.gauge(`wasm.${runtimeName}.active`).add(1n);
    return vm;
  }

  /** Runs `f`, returning the VM failure messages logged meanwhile (for load errors). */
  collectErrors(f: () => void): string[] {
    const errors: string[] = [];
    const sink = (m: string): void => void errors.push(m);
    this.errorSinks.push(sink);
    try {
      f();
    } finally {
      this.errorSinks.splice(this.errorSinks.indexOf(sink), 1);
    }
    return errors;
  }

  releaseVm(): void {
    this.server.stats.gauge(`wasm.${runtimeName}.active`).sub(1n);
  }

  /** getOrCreateThreadLocalWasm: the worker's cached VM, or a started clone. */
  workerVm(worker: number): WasmVm {
    let vm = this.workerVms.get(worker);
    if (vm && !vm.failed) return vm;
    vm = this.createVm();
    vm.start();
    this.workerVms.set(worker, vm);
    return vm;
  }
}

const baseWasms = new WeakMap<ServerContext, Map<string, BaseWasm>>();

interface WorkerSlot {
  vm: WasmVm;
  root: RootContext | null;
  /** Monotonic ms of the last (re)load, for FAIL_RELOAD backoff. */
  lastLoadMs: number;
}

export class PluginRuntime implements WasmPlugin {
  private readonly slots: WorkerSlot[] = [];
  private readonly info: PluginInfo;
  private shutDown = false;

  private constructor(
    readonly config: WasmPluginConfig,
    private readonly server: ServerContext,
    private readonly base: BaseWasm,
    options: WasmHostOptions,
  ) {
    this.info = {
      name: config.name,
      rootId: config.rootId,
      vmId: config.vmId,
      configuration: config.configuration,
      failurePolicy: config.failurePolicy,
      allowOnHeadersStopIteration: config.allowOnHeadersStopIteration ?? false,
      server,
      options,
      logPrefix: [config.name, config.rootId, config.vmId].filter((s) => s !== "").map((s) => ` ${s}`).join(""),
    };
  }

  get abiVersion(): AbiVersion {
    return this.base.compiled.abiVersion;
  }

  static async create(config: WasmPluginConfig, server: ServerContext, options: WasmHostOptions): Promise<PluginRuntime> {
    validateConfig(config);
    const base = await getOrCreateBase(config, server, options);
    const runtime = new PluginRuntime(config, server, base, options);
    base.plugins++;
    try {
      runtime.runCanary();
      for (let w = 0; w < config.concurrency; w++) runtime.slots.push(runtime.loadWorker(w));
    } catch (e) {
      runtime.releaseBase();
      throw e;
    }
    return runtime;
  }

  /**
   * WasmHandleBase::canary: _initialize, on_context_create, on_vm_start and on_configure on a
   * throwaway clone; a failure rejects the plugin with the first message logged (or cpp-host's).
   */
  private runCanary(): void {
    let failure: [string, FailState] | null = null;
    const errors = this.base.collectErrors(() => {
      const canary = this.base.createVm();
      let root: RootContext | null = null;
      try {
        if (!canary.start()) {
          failure = ["Failed to initialize Wasm code", FailState.UnableToInitializeCode];
          return;
        }
        root = new RootContext(canary, canary.allocContextId(), this.info, this.base.vmConfiguration);
        canary.contexts.set(root.id, root);
        if (!root.onStart()) {
          failure = ["Failed to start base Wasm", FailState.StartFailed];
          canary.fail(FailState.StartFailed, failure[0]);
        } else if (!root.onConfigure()) {
          failure = ["Failed to configure base Wasm plugin", FailState.ConfigureFailed];
          canary.fail(FailState.ConfigureFailed, failure[0]);
        }
      } finally {
        root?.kill();
        this.base.releaseVm();
      }
    });
    if (failure) {
      const [fallback, state] = failure as [string, FailState];
      this.server.log.log("wasm", "critical", `Plugin ${this.config.name} failed to load`);
      throw new WasmLoadError(errors[0] ?? fallback, state);
    }
  }

  /** getOrCreateThreadLocalPlugin: the worker's VM with this plugin's root started and configured. */
  private loadWorker(worker: number): WorkerSlot {
    const vm = this.base.workerVm(worker);
    const slot: WorkerSlot = { vm, root: null, lastLoadMs: this.nowMs() };
    if (vm.failed) return slot;
    const root = new RootContext(vm, vm.allocContextId(), this.info, this.base.vmConfiguration);
    vm.contexts.set(root.id, root);
    if (!root.onStart()) {
      vm.fail(vm.failed ? vm.failState : FailState.StartFailed, "Failed to start thread-local Wasm");
      return slot;
    }
    if (!root.onConfigure()) {
      vm.fail(vm.failed ? vm.failState : FailState.ConfigureFailed, "Failed to configure thread-local Wasm plugin");
      return slot;
    }
    slot.root = root;
    return slot;
  }

  private nowMs(): number {
    return Number(this.server.dispatcher.monotonicTimeNs() / 1_000_000n);
  }

  private slot(worker: number): WorkerSlot {
    const s = this.slots[worker];
    if (!s) throw new RangeError(`worker ${worker} does not exist (concurrency ${this.config.concurrency})`);
    return s;
  }

  /** PluginConfig::maybeReloadHandleIfNeeded: only RuntimeError, only FAIL_RELOAD, with backoff. */
  private maybeReload(worker: number): WorkerSlot {
    const s = this.slot(worker);
    if (s.vm.failState !== FailState.RuntimeError || this.config.failurePolicy !== "FAIL_RELOAD" || this.shutDown) return s;
    const now = this.nowMs();
    if (now - s.lastLoadMs < (this.config.reloadBackoffMs ?? 1000)) return s;
    s.lastLoadMs = now;
    const fresh = this.loadWorker(worker);
    if (fresh.root && !fresh.vm.failed) {
      this.slots[worker] = fresh;
      return fresh;
    }
    return s;
  }

  filterFactory(worker: number): FilterFactory {
    this.slot(worker);
    return (streamInfo: StreamInfo) => {
      const s = this.maybeReload(worker);
      if (!s.root || s.vm.failed) {
        // Envoy createContext: fail-open leaves the filter out; otherwise an empty context 503s.
        if (this.config.failurePolicy === "FAIL_OPEN") return passThroughFilter();
        return new StreamContext(s.vm, null, streamInfo);
      }
      return new StreamContext(s.vm, s.root, streamInfo);
    };
  }

  vm(worker: number): WasmVmView {
    const s = this.slot(worker);
    return { worker, memoryBytes: s.vm.memoryBytes, failed: s.vm.failed || !s.root, rootContextId: s.root?.id ?? 0 };
  }

  /** @internal The emulator's window on a worker (VM and root context). */
  workerState(worker: number): { vm: WasmVm; root: RootContext | null } {
    const s = this.maybeReload(worker);
    return { vm: s.vm, root: s.root };
  }

  async shutdown(): Promise<void> {
    if (this.shutDown) return;
    this.shutDown = true;
    for (const s of this.slots) s.root?.shutdown();
    this.releaseBase();
  }

  private releaseBase(): void {
    const base = this.base;
    if (--base.plugins > 0) return;
    baseWasms.get(this.server)?.delete(base.key);
    for (const _ of base.workerVms) base.releaseVm();
    base.workerVms.clear();
    base.releaseVm();
    sharedStateOf(this.server).releaseVmId(base.vmId);
  }
}

async function getOrCreateBase(config: WasmPluginConfig, server: ServerContext, options: WasmHostOptions): Promise<BaseWasm> {
  let bases = baseWasms.get(server);
  if (!bases) baseWasms.set(server, (bases = new Map()));
  const key = makeVmKey(config.vmId, config.vmConfiguration, config.code);
  const existing = bases.get(key);
  if (existing) return existing;
  const failed = (message: string, state: FailState): WasmLoadError => {
    server.log.log("wasm", "critical", `Plugin ${config.name} failed to load`);
    return new WasmLoadError(message, state);
  };
  let base: BaseWasm;
  try {
    const compiled = await compileModule(config.code, options.lenientAbort ? abortImport : undefined);
    const caps = config.allowedCapabilities ? new Set(config.allowedCapabilities) : null;
    base = new BaseWasm(key, server, compiled, config.vmId, config.vmConfiguration, Object.entries(config.environment), caps, options);
  } catch (e) {
    if (!(e instanceof WasmLoadError)) throw e;
    server.log.log("wasm", "error", e.message);
    throw failed(e.message, e.failState);
  }
  const errors = base.collectErrors(() => base.baseVm.start());
  if (base.baseVm.failed) {
    base.releaseVm();
    sharedStateOf(server).releaseVmId(config.vmId);
    throw failed(errors[0] ?? "Failed to initialize Wasm code", FailState.UnableToInitializeCode);
  }
  bases.set(key, base);
  return base;
}

function validateConfig(c: WasmPluginConfig): void {
  const problems: string[] = [];
  if (!Number.isInteger(c.concurrency) || c.concurrency < 1) problems.push(`concurrency must be a positive integer, got ${c.concurrency}`);
  if (!["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"].includes(c.failurePolicy)) problems.push(`unknown failure policy ${JSON.stringify(c.failurePolicy)}`);
  if (c.reloadBackoffMs !== undefined && !(c.reloadBackoffMs >= 1)) problems.push(`reload_config.backoff.base_interval must be ≥ 1ms, got ${c.reloadBackoffMs}`);
  if (!(c.code instanceof Uint8Array) || c.code.length === 0) problems.push(`no module code${c.codeSource ? ` in ${c.codeSource}` : ""}`);
  if (problems.length) throw new Error(`invalid Wasm plugin config ${JSON.stringify(c.name)}: ${problems.join("; ")}`);
}

/** Envoy does not add a fail-open filter whose VM failed; a filter that passes everything is equivalent. */
function passThroughFilter(): StreamFilter {
  return {
    setDecoderFilterCallbacks() {},
    setEncoderFilterCallbacks() {},
    decodeHeaders: () => FilterHeadersStatus.Continue,
    decodeData: () => FilterDataStatus.Continue,
    decodeTrailers: () => FilterTrailersStatus.Continue,
    encodeHeaders: () => FilterHeadersStatus.Continue,
    encodeData: () => FilterDataStatus.Continue,
    encodeTrailers: () => FilterTrailersStatus.Continue,
    onDestroy() {},
  };
}
