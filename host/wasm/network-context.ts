// The Wasm network (TCP) filter: one context per downstream connection, translating Envoy's
// Network::Filter calls into the proxy-wasm TCP callbacks as Envoy's extensions/common/wasm/
// context.cc (onNewConnection, onData, onWrite, onEvent, onDownstreamConnectionClose,
// onUpstreamConnectionClose, onCloseTCP, continueStream, closeStream, failStream) and
// proxy-wasm-cpp-host's ContextBase::onNetworkNewConnection & co. do it (proxy-wasm-abi.md §3.4):
// - the context id is allocated with the filter; proxy_on_context_create runs in onNewConnection;
// - buffer 2 (DownstreamData) / 3 (UpstreamData) point at the connection's data during
//   proxy_on_downstream_data / proxy_on_upstream_data and keep pointing at it while the filter
//   holds it (StopIteration); after Continue and outside those callbacks they read as empty and
//   refuse writes (§2.4, §4.2);
// - a callback's result 0 is Continue, anything else StopIteration (§3.6); a local reply changes
//   nothing here;
// - proxy_continue_stream(Downstream) is a deferred continueReading(), (Upstream) Unimplemented
//   (§2.6); proxy_close_stream(Downstream) and (Upstream) both close the downstream connection
//   after the callback returns, the only connection a network filter has;
// - end_stream on upstream data reports proxy_on_upstream_connection_close(Unknown); the
//   connection's close event reports proxy_on_downstream_connection_close(Local|Remote) and then
//   on_done → on_log → on_delete (Envoy onCloseTCP, §6.3);
// - a failed VM: FAIL_OPEN → Continue, otherwise the connection is closed (CHECK_FAIL_NET, §6.5).
import type { BodyBuffer } from "../http/body-buffer.js";
import type { StreamInfo } from "../http/stream-info.js";
import { BodyBufferView, ChildContext, emptyBuffer, type WasmBuffer } from "./context.js";
import { PluginRuntime } from "./lifecycle.js";
import {
  ConnectionCloseType,
  ConnectionEvent,
  NetworkFilterStatus,
  type ConnectionCallbacks,
  type NetworkFilter,
  type ReadFilterCallbacks,
  type WriteFilterCallbacks,
} from "./network-filter.js";
import type { WasmPlugin } from "./plugin.js";
import type { RootContext } from "./root-context.js";
import { BufferType, PeerType, StreamType, WasmResult } from "./types.js";
import type { WasmVm } from "./vm.js";

// Envoy Context::closeStream's connection close details.
const downstreamCloseDetails = "wasm_downstream_close";
const upstreamCloseDetails = "wasm_upstream_close";

export class NetworkContext extends ChildContext implements NetworkFilter, ConnectionCallbacks {
  private readCallbacks: ReadFilterCallbacks | null = null;
  private writeCallbacks: WriteFilterCallbacks | null = null;
  /** Envoy network_downstream_data_buffer_ / network_upstream_data_buffer_. */
  private downstreamData: BodyBuffer | null = null;
  private upstreamData: BodyBuffer | null = null;
  private downstreamClosed = false;
  private tcpConnectionClosed = false;
  private streamFailed = false;

  /**
   * `root` is null for Envoy's "empty context" (the VM failed before the connection and the policy
   * is not fail-open): it closes the connection at its first callback.
   */
  constructor(vm: WasmVm, root: RootContext | null) {
    super(vm, root);
  }

  // ------------------------------------------------------------------ HostContext

  override getBuffer(type: BufferType): WasmBuffer | null {
    switch (type) {
      case BufferType.DownstreamData:
        return this.downstreamData ? new BodyBufferView(this.downstreamData) : emptyBuffer;
      case BufferType.UpstreamData:
        return this.upstreamData ? new BodyBufferView(this.upstreamData) : emptyBuffer;
      default:
        return super.getBuffer(type);
    }
  }

  /** Envoy getRequestStreamInfo: the connection's StreamInfo (source/destination/connection.*). */
  override streamInfo(): StreamInfo | null {
    return (this.readCallbacks ?? this.writeCallbacks)?.connection().streamInfo ?? null;
  }

  /** A connection has no HTTP protocol: request.protocol is NotFound (RequestWrapper). */
  override attributeProtocol(): undefined {
    return undefined;
  }

  /** Envoy Context::continueStream for a network filter. */
  override continueStream(type: StreamType): WasmResult {
    switch (type) {
      case StreamType.Downstream: {
        const callbacks = this.readCallbacks;
        if (callbacks) this.vm.addAfterVmCallAction(() => callbacks.continueReading());
        return WasmResult.Ok;
      }
      case StreamType.Upstream:
        return WasmResult.Unimplemented;
      default:
        // HTTP directions: no HTTP callbacks on a connection, nothing to continue.
        return WasmResult.Ok;
    }
  }

  /**
   * Envoy Context::closeStream for a network filter: Downstream closes through the read-filter
   * callbacks, Upstream through the write-filter callbacks — whose connection is the same
   * downstream connection.
   */
  override closeStream(type: StreamType): WasmResult {
    const [callbacks, details] =
      type === StreamType.Downstream ? [this.readCallbacks, downstreamCloseDetails] : type === StreamType.Upstream ? [this.writeCallbacks, upstreamCloseDetails] : [null, ""];
    if (callbacks) this.vm.addAfterVmCallAction(() => callbacks.connection().close(ConnectionCloseType.FlushWrite, details));
    return WasmResult.Ok;
  }

  // ------------------------------------------------------------------ Network::Filter

  initializeReadFilterCallbacks(callbacks: ReadFilterCallbacks): void {
    this.readCallbacks = callbacks;
    callbacks.connection().addConnectionCallbacks(this);
  }

  initializeWriteFilterCallbacks(callbacks: WriteFilterCallbacks): void {
    this.writeCallbacks = callbacks;
  }

  onNewConnection(): NetworkFilterStatus {
    if (!this.inVmContextCreated && !this.failed && this.vm.has("proxy_on_context_create")) {
      this.vm.withDeferredActions(() => this.vm.call("proxy_on_context_create", this, this.id, this.root!.id));
    }
    this.inVmContextCreated = true;
    return this.callNetwork("proxy_on_new_connection", []);
  }

  onData(data: BodyBuffer, endStream: boolean): NetworkFilterStatus {
    if (!this.inVmContextCreated) return NetworkFilterStatus.Continue;
    this.downstreamData = data;
    const result = this.callNetwork("proxy_on_downstream_data", [data.length, endStream ? 1 : 0]);
    if (result === NetworkFilterStatus.Continue) this.downstreamData = null;
    return result;
  }

  onWrite(data: BodyBuffer, endStream: boolean): NetworkFilterStatus {
    if (!this.inVmContextCreated) return NetworkFilterStatus.Continue;
    this.upstreamData = data;
    const result = this.callNetwork("proxy_on_upstream_data", [data.length, endStream ? 1 : 0]);
    if (result === NetworkFilterStatus.Continue) this.upstreamData = null;
    // Envoy reports the upstream close on end_stream rather than on an upstream connection event
    // (which "would require replicating the whole TCP proxy extension"), so the peer is Unknown.
    if (endStream) this.onUpstreamConnectionClose(PeerType.Unknown);
    return result;
  }

  /** ConnectionCallbacks: only the downstream connection's close events reach the module. */
  onEvent(event: ConnectionEvent): void {
    if (!this.inVmContextCreated) return;
    if (event === ConnectionEvent.LocalClose) this.onDownstreamConnectionClose(PeerType.Local);
    else if (event === ConnectionEvent.RemoteClose) this.onDownstreamConnectionClose(PeerType.Remote);
  }

  /** The connection is destroyed: the context leaves the VM (Envoy's Context destructor). */
  onDestroy(): void {
    this.leaveVm();
  }

  // ------------------------------------------------------------------ close and teardown

  private onDownstreamConnectionClose(peer: PeerType): void {
    this.callUnlessFailed("proxy_on_downstream_connection_close", peer);
    this.downstreamClosed = true;
    this.onCloseTCP();
  }

  private onUpstreamConnectionClose(peer: PeerType): void {
    this.callUnlessFailed("proxy_on_upstream_connection_close", peer);
    if (this.downstreamClosed) this.onCloseTCP();
  }

  /** Envoy Context::onCloseTCP: on_done (result ignored), on_log, on_delete — once (§6.3). */
  private onCloseTCP(): void {
    if (this.tcpConnectionClosed || !this.inVmContextCreated) return;
    this.tcpConnectionClosed = true;
    this.callUnlessFailed("proxy_on_done");
    this.callUnlessFailed("proxy_on_log");
    this.callUnlessFailed("proxy_on_delete");
  }

  /** cpp-host ContextBase::onDone/onLog/onDelete/on*ConnectionClose: skipped once the VM failed. */
  private callUnlessFailed(name: string, ...args: number[]): void {
    if (this.failed || !this.vm.has(name)) return;
    this.vm.withDeferredActions(() => this.vm.call(name, this, this.id, ...args));
  }

  // ------------------------------------------------------------------ calls + failure (§6.5)

  /** cpp-host onNetworkNewConnection/onDownstreamData/onUpstreamData with CHECK_FAIL_NET around the call. */
  private callNetwork(name: string, args: number[]): NetworkFilterStatus {
    const early = this.checkFail();
    if (early !== null) return early;
    if (!this.vm.has(name)) return NetworkFilterStatus.Continue;
    return this.vm.withDeferredActions(() => {
      const raw = this.vm.call(name, this, this.id, ...args);
      return this.checkFail() ?? (raw === 0 ? NetworkFilterStatus.Continue : NetworkFilterStatus.StopIteration);
    });
  }

  /** CHECK_FAIL_NET: the failed-VM answer, or null to go on. */
  private checkFail(): NetworkFilterStatus | null {
    if (!this.failed) return null;
    if (this.plugin?.failurePolicy === "FAIL_OPEN") return NetworkFilterStatus.Continue;
    if (!this.streamFailed) {
      this.streamFailed = true;
      // Envoy failStream(Downstream) then failStream(Upstream): an immediate close (not deferred)
      // of the downstream connection through either callbacks; the second finds it closed.
      this.readCallbacks?.connection().close(ConnectionCloseType.FlushWrite, "");
      this.writeCallbacks?.connection().close(ConnectionCloseType.FlushWrite, "");
    }
    return NetworkFilterStatus.StopIteration;
  }
}

/**
 * Envoy PluginConfig::createContext for envoy.filters.network.wasm (filters/network/wasm/
 * config.cc): a context per connection on the worker's VM. Once that VM failed (FAIL_RELOAD first
 * tries a new one), FAIL_OPEN leaves the filter out of the chain (null) and the other policies get
 * an empty context that closes the connection.
 */
export function networkFilterFactory(plugin: WasmPlugin, worker: number): () => NetworkContext | null {
  if (!(plugin instanceof PluginRuntime)) throw new TypeError("networkFilterFactory needs a plugin made by createWasmPlugin");
  plugin.vm(worker); // RangeError for a worker that does not exist
  return () => {
    const { vm, root } = plugin.workerState(worker);
    if (!root || vm.failed) return plugin.config.failurePolicy === "FAIL_OPEN" ? null : new NetworkContext(vm, null);
    return new NetworkContext(vm, root);
  };
}
