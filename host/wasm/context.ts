// Host-side contexts (cpp-host ContextBase / Envoy Wasm Context): the VM context (id 0), root
// contexts (one per plugin per VM) and stream contexts (one per HTTP stream, in stream-context.ts).
// The base class answers "not available here" for everything; subclasses override what exists in
// their phase, so each host-call family asks the effective context and gets Envoy's answer.
import type { ServerContext } from "../envoy/server-context.js";
import type { BodyBuffer } from "../http/body-buffer.js";
import type { HeaderMap } from "../http/header-map.js";
import type { StreamInfo } from "../http/stream-info.js";
import type { FailurePolicy, WasmHostOptions } from "./plugin.js";
import type { RootContext } from "./root-context.js";
import { BufferType, MapType, StreamType, WasmResult } from "./types.js";
import type { VmContext, WasmVm } from "./vm.js";

/** The plugin a root or stream context belongs to (Envoy Plugin). */
export interface PluginInfo {
  readonly name: string;
  readonly rootId: string;
  readonly vmId: string;
  readonly configuration: Uint8Array;
  readonly failurePolicy: FailurePolicy;
  readonly allowOnHeadersStopIteration: boolean;
  readonly server: ServerContext;
  readonly options: WasmHostOptions;
  /** " <name> <root_id> <vm_id>" with empty parts left out (PluginBase::makeLogPrefix). */
  readonly logPrefix: string;
}

/** A buffer as proxy_get/set_buffer_bytes see it (Envoy Wasm Buffer). */
export interface WasmBuffer {
  size(): number;
  /** Bytes [start, start+length), already clamped by the caller. */
  read(start: number, length: number): Uint8Array;
  /** proxy_set_buffer_bytes semantics for this buffer. */
  write(start: number, length: number, data: Uint8Array): WasmResult;
}

/** An immutable buffer (configuration, call data, callout responses): writes are BadArgument. */
export class ConstBuffer implements WasmBuffer {
  constructor(private readonly data: Uint8Array) {}
  size(): number {
    return this.data.length;
  }
  read(start: number, length: number): Uint8Array {
    return this.data.subarray(start, start + length);
  }
  write(): WasmResult {
    return WasmResult.BadArgument;
  }
}

/**
 * A body as Envoy's Buffer::copyFrom exposes it (proxy-wasm-abi.md §2.4): start 0 with length 0
 * prepends, start 0 with length ≥ size replaces everything, start ≥ size appends, anything else is
 * BadArgument.
 */
export class BodyBufferView implements WasmBuffer {
  constructor(private readonly body: BodyBuffer) {}
  size(): number {
    return this.body.length;
  }
  read(start: number, length: number): Uint8Array {
    return this.body.slice(start, length);
  }
  write(start: number, length: number, data: Uint8Array): WasmResult {
    const size = this.body.length;
    // Envoy Buffer::copyFrom (extensions/common/wasm/context.cc): start 0 drains `length` bytes
    // and prepends (so 0,size replaces and 0,0 prepends); start ≥ size appends; else BadArgument.
    if (start === 0) {
      this.body.drain(Math.min(length, size));
      this.body.prepend(data);
      return WasmResult.Ok;
    }
    if (start >= size) {
      this.body.append(data);
      return WasmResult.Ok;
    }
    return WasmResult.BadArgument;
  }
}

/** declare_property's CelStatePrototype (Envoy): type and read-only flag for wasm.<name>. */
export interface StatePrototype {
  type: "bytes" | "string" | "protobuf" | "flatbuffers";
  readOnly: boolean;
  /** Protobuf: the type URL of the message; FlatBuffers: the reflection schema (latin1). */
  schema?: string;
}

/** What a buffer pointing at nothing reads as: empty, and not writable. */
export const emptyBuffer: WasmBuffer = new ConstBuffer(new Uint8Array(0));

export class HostContext implements VmContext {
  /** Set once proxy_on_context_create ran (or would have: no export, failed VM). */
  inVmContextCreated = false;
  /**
   * Property declarations made while this context was effective (Envoy Context::declareProperty).
   * proxy_set_property consults the root context's, so declarations belong in on_configure.
   */
  get statePrototypes(): Map<string, StatePrototype> {
    // Created on first use: only root contexts declare properties, and a stream context is
    // created per request.
    return (this.declaredPrototypes ??= new Map());
  }
  private declaredPrototypes: Map<string, StatePrototype> | undefined;

  constructor(
    readonly vm: WasmVm,
    readonly id: number,
    readonly plugin: PluginInfo | null,
    readonly vmConfiguration: Uint8Array,
  ) {}

  isRoot(): boolean {
    return false;
  }

  /** The root context this context belongs to (itself for roots; null for the VM context). */
  rootContext(): HostContext | null {
    return null;
  }

  /**
   * cpp-host ContextBase::log_prefix(): stream contexts use the plugin's " <name> <root_id> <vm_id>";
   * the VM context has none.
   */
  get logPrefix(): string {
    return this.plugin?.logPrefix ?? "";
  }

  // ---- maps (§2.5): overridden by stream and root contexts
  /** A map that may be modified (Envoy getMap); null = not available now (BadArgument). */
  getMap(_type: MapType): HeaderMap | null {
    return null;
  }
  /** A map for reading (Envoy getConstMap). */
  getConstMap(type: MapType): HeaderMap | null {
    return this.rootContext()?.getCallMap(type) ?? null;
  }
  /** Maps owned by the root context during callout callbacks (types 4..7). */
  getCallMap(_type: MapType): HeaderMap | null {
    return null;
  }
  /** In proxy_on_log, a missing map reads as NotFound instead of BadArgument. */
  get accessLogPhase(): boolean {
    return false;
  }
  /** Header edits on request headers may need a route recomputation (not automatic since 1.33). */
  onHeadersModified(_type: MapType): void {}

  // ---- buffers (§2.4, §4.2)
  /**
   * Envoy Context::getBuffer: only PLUGIN_CONFIGURATION outside on_configure and the callout body
   * outside its callback are missing (NotFound); body, network, gRPC and call-data buffers of a
   * context that has none point at nothing and read as empty.
   */
  getBuffer(type: BufferType): WasmBuffer | null {
    switch (type) {
      case BufferType.VmConfiguration:
        return new ConstBuffer(this.vmConfiguration);
      case BufferType.PluginConfiguration:
      case BufferType.HttpCallResponseBody:
        return this.rootContext()?.getRootBuffer(type) ?? null;
      case BufferType.GrpcReceiveBuffer:
      case BufferType.CallData:
        return this.rootContext()?.getRootBuffer(type) ?? emptyBuffer;
      case BufferType.HttpRequestBody:
      case BufferType.HttpResponseBody:
      case BufferType.DownstreamData:
      case BufferType.UpstreamData:
        return emptyBuffer;
      default:
        return null;
    }
  }
  /** Buffers owned by the root context (plugin configuration, callout bodies, call data). */
  getRootBuffer(_type: BufferType): WasmBuffer | null {
    return null;
  }

  // ---- stream (§2.6)
  /** The stream's StreamInfo, for properties; null outside streams. */
  streamInfo(): StreamInfo | null {
    return null;
  }
  continueStream(type: StreamType): WasmResult {
    return type === StreamType.Upstream ? WasmResult.Unimplemented : WasmResult.Ok;
  }
  closeStream(_type: StreamType): WasmResult {
    return WasmResult.Ok;
  }
  sendLocalResponse(_status: number, _body: Uint8Array, _headers: Array<[string, string]>, _grpcStatus: number, _details: string): WasmResult {
    // Envoy only acts when there are decoder callbacks; elsewhere it is silently OK.
    return WasmResult.Ok;
  }
  clearRouteCache(): void {}
  /** Request/response headers for the request.* / response.* attributes. */
  attributeRequestHeaders(): HeaderMap | null {
    return null;
  }
  attributeResponseHeaders(): HeaderMap | null {
    return null;
  }
  attributeResponseTrailers(): HeaderMap | null {
    return null;
  }
  /**
   * request.protocol: the stream's HTTP protocol; undefined where Envoy's StreamInfo::protocol()
   * is unset (a network filter's connection), which reads as NotFound.
   */
  attributeProtocol(): StreamInfo["protocol"] | undefined {
    return this.streamInfo()?.protocol;
  }
}

/**
 * A context under a root context: one per HTTP stream or per connection (cpp-host ContextBase made
 * from a parent). `root` null is Envoy's "empty context", made when the VM failed before the stream
 * or connection started and the failure policy is not fail-open: it has no id in the VM and every
 * callback gives the failed-VM answer.
 */
export abstract class ChildContext extends HostContext {
  constructor(
    vm: WasmVm,
    protected readonly root: RootContext | null,
  ) {
    super(vm, root ? vm.allocContextId() : 0, root?.plugin ?? null, root?.vmConfiguration ?? new Uint8Array(0));
    if (root) vm.contexts.set(this.id, this);
  }

  override rootContext(): RootContext | null {
    return this.root;
  }

  /** Whether callbacks into the module are skipped: an empty context, or the VM failed since. */
  protected get failed(): boolean {
    return this.root === null || this.vm.failed;
  }

  /** The context leaves its VM (Envoy's Context destructor): its id no longer resolves. */
  protected leaveVm(): void {
    if (this.root && this.vm.contexts.get(this.id) === this) this.vm.contexts.delete(this.id);
  }
}
