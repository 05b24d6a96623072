// The root (plugin) context of one plugin in one VM: lifecycle calls (on_context_create,
// on_vm_start, on_configure, on_tick, on_queue_ready, on_done/on_delete) and everything Envoy
// owns at root level — tick timer, HTTP and gRPC callouts and their responses, the last callout
// status, and property declarations (proxy-wasm-abi.md §2.2, §2.7, §3.2, §3.5, §6.1, §6.4).
import type { AsyncRequest, GrpcStream, Timer } from "../envoy/server-context.js";
import type { HeaderMap } from "../http/header-map.js";
import { ConstBuffer, emptyBuffer, HostContext, type PluginInfo, type WasmBuffer } from "./context.js";
import { BufferType, MapType, WasmResult } from "./types.js";
import type { WasmVm } from "./vm.js";

interface GrpcStreamState {
  stream: GrpcStream | null;
  localClosed: boolean;
  remoteClosed: boolean;
}

export class RootContext extends HostContext {
  /** PLUGIN_CONFIGURATION is readable only while on_configure runs (Envoy temp_plugin_). */
  private configuring = false;
  /** CallData buffer, set before proxy_on_foreign_function. */
  callData: Uint8Array | null = null;
  private tickTimer: Timer | null = null;
  private tickPeriodMs = 0;
  readonly httpCalls = new Map<number, AsyncRequest>();
  readonly grpcCalls = new Map<number, GrpcStream | null>();
  readonly grpcStreams = new Map<number, GrpcStreamState>();
  /** The callout response being delivered (maps 6/7, buffer 4), only during the callback. */
  private httpCallResponse: { headers: HeaderMap; body: Uint8Array; trailers: HeaderMap | null } | null = null;
  private grpcInitialMetadata: HeaderMap | null = null;
  private grpcTrailingMetadata: HeaderMap | null = null;
  private grpcReceiveBuffer: Uint8Array | null = null;
  /** proxy_get_status: code and message of the last failed HTTP call / gRPC close. */
  private statusCode = 0;
  private statusMessage = "";
  /** on_done returned false: waiting for proxy_done (§6.4). */
  pendingDone = false;
  deleted = false;

  constructor(vm: WasmVm, id: number, plugin: PluginInfo, vmConfiguration: Uint8Array) {
    super(vm, id, plugin, vmConfiguration);
  }

  override isRoot(): boolean {
    return true;
  }
  override rootContext(): RootContext {
    return this;
  }
  get info(): PluginInfo {
    return this.plugin!;
  }

  /** Root contexts log with makeRootLogPrefix: " <root_id> <vm_id>", without the plugin name. */
  override get logPrefix(): string {
    return [this.info.rootId, this.info.vmId].filter((s) => s !== "").map((s) => ` ${s}`).join("");
  }

  override getRootBuffer(type: BufferType): WasmBuffer | null {
    switch (type) {
      case BufferType.PluginConfiguration:
        return this.configuring ? new ConstBuffer(this.info.configuration) : null;
      case BufferType.HttpCallResponseBody:
        return this.httpCallResponse ? new ConstBuffer(this.httpCallResponse.body) : null;
      case BufferType.GrpcReceiveBuffer:
        return this.grpcReceiveBuffer ? new ConstBuffer(this.grpcReceiveBuffer) : emptyBuffer;
      case BufferType.CallData:
        return this.callData ? new ConstBuffer(this.callData) : emptyBuffer;
      default:
        return null;
    }
  }

  override getCallMap(type: MapType): HeaderMap | null {
    switch (type) {
      case MapType.GrpcReceiveInitialMetadata:
        return this.grpcInitialMetadata;
      case MapType.GrpcReceiveTrailingMetadata:
        return this.grpcTrailingMetadata;
      case MapType.HttpCallResponseHeaders:
        return this.httpCallResponse?.headers ?? null;
      case MapType.HttpCallResponseTrailers:
        return this.httpCallResponse?.trailers ?? null;
      default:
        return null;
    }
  }

  getStatus(): [number, string] {
    return [this.statusCode, this.statusMessage];
  }

  // ------------------------------------------------------------------ lifecycle (cpp-host)

  /** ContextBase::onStart: on_context_create(R, 0) then on_vm_start(R, vm_config_size). */
  onStart(): boolean {
    return this.vm.withDeferredActions(() => {
      if (this.vm.has("proxy_on_context_create")) {
        this.vm.call("proxy_on_context_create", this, this.id, 0);
        this.inVmContextCreated = true;
      }
      if (this.vm.failed) return false;
      if (!this.vm.has("proxy_on_vm_start")) return true;
      return this.vm.call("proxy_on_vm_start", this, this.id, this.vmConfiguration.length) !== 0 && !this.vm.failed;
    });
  }

  /** ContextBase::onConfigure: on_configure(R, plugin_config_size) with PLUGIN_CONFIGURATION readable. */
  onConfigure(): boolean {
    if (this.vm.failed) return true;
    if (!this.inVmContextCreated && this.vm.has("proxy_on_context_create")) {
      this.vm.withDeferredActions(() => this.vm.call("proxy_on_context_create", this, this.id, 0));
    }
    this.inVmContextCreated = true;
    if (!this.vm.has("proxy_on_configure")) return true;
    return this.vm.withDeferredActions(() => {
      this.configuring = true;
      try {
        return this.vm.call("proxy_on_configure", this, this.id, this.info.configuration.length) !== 0;
      } finally {
        this.configuring = false;
      }
    });
  }

  /**
   * on_done(R): true → on_delete(R); false → pending until the module calls proxy_done (§6.4).
   * A pending root keeps its timer and callouts, so that it can finish its work and call proxy_done.
   */
  shutdown(): void {
    if (this.onDone()) this.onDelete();
    else this.pendingDone = true;
  }

  /** The VM is discarded without on_done/on_delete (the canary): stop timers and callouts. */
  kill(): void {
    this.disableTick();
    this.cancelCallouts();
    this.deleted = true;
  }

  onDone(): boolean {
    if (this.vm.failed || !this.vm.has("proxy_on_done")) return true;
    return this.vm.withDeferredActions(() => this.vm.call("proxy_on_done", this, this.id) !== 0);
  }

  onDelete(): void {
    if (this.deleted) return;
    this.deleted = true;
    this.disableTick();
    this.cancelCallouts();
    if (this.inVmContextCreated && !this.vm.failed && this.vm.has("proxy_on_delete")) {
      this.vm.withDeferredActions(() => this.vm.call("proxy_on_delete", this, this.id));
    }
    this.vm.contexts.delete(this.id);
  }

  /** proxy_done from the module: completes a pending root shutdown; on_delete after the call. */
  done(): WasmResult {
    if (!this.pendingDone) return WasmResult.NotFound;
    this.pendingDone = false;
    this.vm.addAfterVmCallAction(() => this.onDelete());
    return WasmResult.Ok;
  }

  // ------------------------------------------------------------------ ticks (§2.2)

  /** Envoy Wasm::setTickPeriod: a dispatcher timer per root context, re-armed after each tick. */
  setTickPeriod(ms: number): void {
    this.disableTick();
    this.tickPeriodMs = ms;
    if (ms > 0) {
      this.tickTimer = this.info.server.dispatcher.createTimer(() => this.onTick());
      this.tickTimer.enable(ms);
    }
  }

  get tickPeriod(): number {
    return this.tickPeriodMs;
  }

  private disableTick(): void {
    this.tickTimer?.disable();
    this.tickTimer = null;
  }

  private onTick(): void {
    const timer = this.tickTimer;
    if (!timer || this.deleted) return;
    if (!this.vm.failed && this.vm.has("proxy_on_tick")) {
      this.vm.withDeferredActions(() => this.vm.call("proxy_on_tick", this, this.id));
    }
    if (this.tickTimer === timer && this.tickPeriodMs > 0) timer.enable(this.tickPeriodMs);
  }

  // ------------------------------------------------------------------ queues, foreign functions

  onQueueReady(token: number): void {
    if (this.deleted || this.vm.failed || !this.vm.has("proxy_on_queue_ready")) return;
    this.vm.withDeferredActions(() => this.vm.call("proxy_on_queue_ready", this, this.id, token));
  }

  onForeignFunction(functionId: number, args: Uint8Array): void {
    if (this.deleted || this.vm.failed || !this.vm.has("proxy_on_foreign_function")) return;
    this.callData = args;
    try {
      this.vm.withDeferredActions(() => this.vm.call("proxy_on_foreign_function", this, this.id, functionId, args.length));
    } finally {
      this.callData = null;
    }
  }

  // ------------------------------------------------------------------ HTTP callouts (§2.7, §3.5)

  /** Envoy Context::onHttpCallSuccess / onHttpCallFailure. */
  deliverHttpCallResponse(token: number, response: { headers: HeaderMap; body: Uint8Array; trailers: HeaderMap | null } | null): void {
    if (this.vm.current !== null) {
      // Re-entrant (delivered while the VM runs): Envoy defers it until the VM call returns.
      this.vm.addAfterVmCallAction(() => this.deliverHttpCallResponse(token, response));
      return;
    }
    if (!this.httpCalls.has(token)) return;
    this.vm.withDeferredActions(() => {
      if (response) this.httpCallResponse = response;
      else {
        // Envoy reports every failure (reset, response over the buffer limit) as 11/"reset".
        this.statusCode = WasmResult.BrokenConnection;
        this.statusMessage = "reset";
      }
      this.vm.addAfterVmCallAction(() => {
        this.httpCallResponse = null;
        if (!response) this.statusMessage = "";
        this.httpCalls.delete(token);
      });
      if (this.vm.failed || !this.vm.has("proxy_on_http_call_response")) return;
      const counts = response ? [response.headers.size, response.body.length, response.trailers?.size ?? 0] : [0, 0, 0];
      this.vm.call("proxy_on_http_call_response", this, this.id, token, ...counts);
    });
  }

  // ------------------------------------------------------------------ gRPC callouts (§2.7, §3.5)

  static isGrpcCall(token: number): boolean {
    return (token & 3) === 1;
  }
  static isGrpcStream(token: number): boolean {
    return (token & 3) === 2;
  }

  // Unary calls (Envoy GrpcCallClientHandler) only see the response message or a close;
  // metadata callbacks exist for streams only.
  onGrpcInitialMetadata(token: number, metadata: HeaderMap): void {
    if (!this.grpcLive(token) || RootContext.isGrpcCall(token)) return;
    this.grpcCallback(() => {
      this.grpcInitialMetadata = metadata;
      this.vm.call("proxy_on_grpc_receive_initial_metadata", this, this.id, token, metadata.size);
      this.grpcInitialMetadata = null;
    });
  }

  /** Envoy onGrpcReceiveWrapper: a unary call is over once its response was delivered. */
  onGrpcMessage(token: number, message: Uint8Array): void {
    if (!this.grpcLive(token)) return;
    this.grpcCallback(() => {
      this.grpcReceiveBuffer = message;
      this.vm.addAfterVmCallAction(() => {
        this.grpcReceiveBuffer = null;
        if (RootContext.isGrpcCall(token)) this.grpcCalls.delete(token);
      });
      this.vm.call("proxy_on_grpc_receive", this, this.id, token, message.length);
    });
  }

  onGrpcTrailingMetadata(token: number, metadata: HeaderMap): void {
    if (!this.grpcLive(token) || RootContext.isGrpcCall(token)) return;
    this.grpcCallback(() => {
      this.grpcTrailingMetadata = metadata;
      this.vm.call("proxy_on_grpc_receive_trailing_metadata", this, this.id, token, metadata.size);
      this.grpcTrailingMetadata = null;
    });
  }

  /** Envoy onGrpcCloseWrapper: status for proxy_get_status, then cleanup of the call/stream. */
  onGrpcClose(token: number, status: number, message: string): void {
    if (!this.grpcLive(token)) return;
    const cleanup = (): void => {
      if (RootContext.isGrpcCall(token)) this.grpcCalls.delete(token);
      else {
        const s = this.grpcStreams.get(token);
        if (s) {
          s.remoteClosed = true;
          if (s.localClosed) this.grpcStreams.delete(token);
        }
      }
    };
    this.grpcCallback(() => {
      this.statusCode = status;
      this.statusMessage = message;
      this.vm.addAfterVmCallAction(() => {
        this.statusMessage = "";
        cleanup();
      });
      this.vm.call("proxy_on_grpc_close", this, this.id, token, status);
    });
  }

  private grpcLive(token: number): boolean {
    return this.grpcCalls.has(token) || this.grpcStreams.has(token);
  }

  private grpcCallback(body: () => void): void {
    if (this.vm.current !== null) {
      this.vm.addAfterVmCallAction(() => this.grpcCallback(body));
      return;
    }
    this.vm.withDeferredActions(() => {
      if (!this.vm.failed) body();
    });
  }

  /** Envoy ~Context: outstanding callouts are cancelled when the root context goes away. */
  cancelCallouts(): void {
    for (const r of this.httpCalls.values()) r.cancel();
    this.httpCalls.clear();
    for (const s of this.grpcCalls.values()) s?.cancel();
    this.grpcCalls.clear();
    for (const s of this.grpcStreams.values()) s.stream?.cancel();
    this.grpcStreams.clear();
  }
}
