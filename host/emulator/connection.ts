// One downstream TCP connection in the emulator: Envoy's ConnectionImpl and network
// FilterManagerImpl (source/common/network/connection_impl.cc, filter_manager_impl.cc) running the
// plugins' Wasm network filters in chain order, with a stand-in for envoy.filters.network.tcp_proxy
// as the last read filter. The test plays the client (sendDownstreamData, closeDownstream) and the
// upstream (sendUpstreamData, closeUpstream), and reads what each side received, what a stopped
// filter holds, every filter's returned status, and how the connection closed.
//
// Envoy semantics kept here:
// - read filters run in configuration order, write filters in reverse order (addFilter appends to
//   the read list and prepends to the write list);
// - onNewConnection runs when the connection opens, filter by filter until one stops; a filter not
//   initialized yet gets it right before its first data (initializeReadFilters, onContinueReading);
// - data a read filter stops on stays in the connection's read buffer: the next read delivers it
//   again, with the new bytes, from the first filter; continueReading() resumes after its caller;
// - upstream data a write filter stops on stays in tcp_proxy's upstream read buffer the same way
//   (the write path has no continue);
// - bytes received are counted when a read reaches the filters (the whole read buffer), bytes sent
//   once the write filters let the data through;
// - tcp_proxy enables half-close: end of stream travels each way, and the connection closes when
//   both directions ended (RemoteClose when the client's end came last, LocalClose otherwise);
// - a close event reaches every filter synchronously; the filters are destroyed on the next
//   dispatcher turn (Envoy's deferred delete).
import { BodyBuffer } from "../http/body-buffer.js";
import type { FilterStateValue, StreamInfo } from "../http/stream-info.js";
import {
  ConnectionCloseType,
  ConnectionEvent,
  NetworkFilterStatus,
  type ConnectionCallbacks,
  type NetworkConnection,
  type NetworkFilter,
  type NetworkReadFilter,
  type ReadFilterCallbacks,
} from "../wasm/network-filter.js";
import { PeerType } from "../wasm/types.js";

/** One network filter callback and the status it returned. */
export interface NetworkFilterCall {
  /** Plugin name. */
  filter: string;
  callback: "onNewConnection" | "onData" | "onWrite";
  status: NetworkFilterStatus;
}

/** What one side of the connection received. */
export interface ReceivedBytes {
  data: Buffer;
  /** The side got end of stream (a FIN: half-close). */
  endStream: boolean;
}

/** A request a plugin filter made: resume reading, or close the connection. */
export interface ConnectionRequest {
  request: "continueReading" | "close";
  /** The plugin filter that asked. */
  filter: string;
  /** Close details, e.g. "wasm_downstream_close" ("" for a failed VM's close). */
  details?: string;
}

type Bytes = string | Uint8Array;
const noBytes = (): ReceivedBytes => ({ data: Buffer.alloc(0), endStream: false });

/** The read-filter entry of one filter (Envoy ActiveReadFilter: its callbacks). */
class ActiveReadFilter implements ReadFilterCallbacks {
  initialized = false;

  private readonly view: NetworkConnection;

  constructor(
    private readonly conn: ConnectionImpl,
    readonly index: number,
    readonly name: string,
    readonly filter: NetworkReadFilter,
  ) {
    this.view = conn.viewFor(name);
  }

  connection(): NetworkConnection {
    return this.view;
  }
  continueReading(): void {
    this.conn.requests.push({ request: "continueReading", filter: this.name });
    this.conn.continueReading(this.index + 1);
  }
}

/** envoy.filters.network.tcp_proxy's place: the upstream connects at once and gets every byte. */
class TcpProxyStandIn implements NetworkReadFilter {
  constructor(private readonly upstream: ReceivedBytes) {}

  initializeReadFilterCallbacks(): void {}
  onNewConnection(): NetworkFilterStatus {
    return NetworkFilterStatus.Continue;
  }
  onData(data: BodyBuffer, endStream: boolean): NetworkFilterStatus {
    this.upstream.data = Buffer.concat([this.upstream.data, data.toBuffer()]);
    data.drain(data.length);
    if (endStream) this.upstream.endStream = true;
    return NetworkFilterStatus.StopIteration;
  }
}

/** Envoy's ConnectionImpl with its FilterManagerImpl, for one downstream connection. */
class ConnectionImpl implements NetworkConnection {
  readonly readBuffer = new BodyBuffer();
  readonly calls: NetworkFilterCall[] = [];
  readonly requests: ConnectionRequest[] = [];
  readonly downstream = noBytes();
  readonly upstream = noBytes();
  open = true;
  closeEvent: ConnectionEvent | null = null;
  closeDetails: string | null = null;
  private readEndStream = false;
  private readEndStreamRaised = false;
  private writeEndStream = false;
  private readonly readFilters: ActiveReadFilter[] = [];
  private readonly writeFilters: Array<{ name: string; filter: NetworkFilter }> = [];
  private readonly connectionCallbacks: ConnectionCallbacks[] = [];

  constructor(
    readonly streamInfo: StreamInfo,
    filters: Array<{ name: string; filter: NetworkFilter }>,
    private readonly onClosed: () => void,
  ) {
    for (const { name, filter } of filters) {
      const active = new ActiveReadFilter(this, this.readFilters.length, name, filter);
      this.readFilters.push(active);
      filter.initializeReadFilterCallbacks(active);
      this.writeFilters.unshift({ name, filter });
      const view = this.viewFor(name);
      filter.initializeWriteFilterCallbacks?.({ connection: () => view });
    }
    this.readFilters.push(new ActiveReadFilter(this, this.readFilters.length, "tcp_proxy", new TcpProxyStandIn(this.upstream)));
  }

  get id(): bigint {
    return this.streamInfo.connection.id;
  }

  get filters(): NetworkFilter[] {
    return this.writeFilters.map((f) => f.filter);
  }

  addConnectionCallbacks(callbacks: ConnectionCallbacks): void {
    this.connectionCallbacks.push(callbacks);
  }

  /** The connection as filter `name` sees it: its close requests are recorded under its name. */
  viewFor(name: string): NetworkConnection {
    const impl = this;
    return {
      id: this.id,
      streamInfo: this.streamInfo,
      get open() {
        return impl.open;
      },
      addConnectionCallbacks: (callbacks) => this.addConnectionCallbacks(callbacks),
      close: (type, details) => {
        if (this.open) this.requests.push({ request: "close", filter: name, details });
        this.close(type, details);
      },
    };
  }

  /** FilterManagerImpl::initializeReadFilters: onNewConnection until a filter stops. */
  initializeReadFilters(): void {
    for (const f of this.readFilters) {
      if (f.initialized) continue;
      f.initialized = true;
      if (this.newConnection(f) === NetworkFilterStatus.StopIteration || !this.open) break;
    }
  }

  /** Bytes from the client (ConnectionImpl::onReadReady → onRead). */
  read(data: Uint8Array, endStream: boolean): void {
    this.readBuffer.append(data);
    this.readEndStream ||= endStream;
    if (this.readBuffer.length === 0 && !this.readEndStream) return;
    if (this.readEndStream) {
      // Envoy raises end of stream to the filters once.
      if (this.readEndStreamRaised) return;
      this.readEndStreamRaised = true;
    }
    this.streamInfo.bytesReceived += this.readBuffer.length;
    this.continueReading(0);
    if (this.readEndStream && this.writeEndStream) this.closeSocket(ConnectionEvent.RemoteClose);
  }

  /** FilterManagerImpl::onContinueReading from read filter `start`. */
  continueReading(start: number): void {
    for (let i = start; i < this.readFilters.length && this.open; i++) {
      const f = this.readFilters[i]!;
      if (!f.initialized) {
        f.initialized = true;
        if (this.newConnection(f) === NetworkFilterStatus.StopIteration || !this.open) return;
      }
      if (this.readBuffer.length === 0 && !this.readEndStream) continue;
      const status = this.record(f.name, "onData", f.filter.onData(this.readBuffer, this.readEndStream), f.filter);
      if (status === NetworkFilterStatus.StopIteration) return;
    }
  }

  /** ConnectionImpl::write through the write filters (FilterManagerImpl::onWrite). Returns whether the data went out. */
  write(data: BodyBuffer, endStream: boolean): boolean {
    if (!this.open) return false;
    for (const { name, filter } of this.writeFilters) {
      const status = this.record(name, "onWrite", filter.onWrite(data, endStream), filter);
      if (status === NetworkFilterStatus.StopIteration || !this.open) return false;
    }
    this.streamInfo.bytesSent += data.length;
    this.downstream.data = Buffer.concat([this.downstream.data, data.toBuffer()]);
    data.drain(data.length);
    if (endStream) {
      this.writeEndStream = true;
      this.downstream.endStream = true;
      if (this.readEndStream) this.closeSocket(ConnectionEvent.LocalClose);
    }
    return true;
  }

  /** Network::Connection::close: FlushWrite has nothing left to flush here, so it closes now. */
  close(_type: ConnectionCloseType, details: string): void {
    if (!this.open) return;
    this.closeDetails = details;
    this.closeSocket(ConnectionEvent.LocalClose);
  }

  /** ConnectionImpl::closeSocket: the close event reaches every ConnectionCallbacks in order. */
  closeSocket(event: ConnectionEvent): void {
    if (!this.open) return;
    this.open = false;
    this.closeEvent = event;
    for (const callbacks of [...this.connectionCallbacks]) callbacks.onEvent(event);
    this.onClosed();
  }

  private newConnection(f: ActiveReadFilter): NetworkFilterStatus {
    return this.record(f.name, "onNewConnection", f.filter.onNewConnection(), f.filter);
  }

  private record(filter: string, callback: NetworkFilterCall["callback"], status: NetworkFilterStatus, instance: object): NetworkFilterStatus {
    if (!(instance instanceof TcpProxyStandIn)) this.calls.push({ filter, callback, status });
    return status;
  }
}

/**
 * A downstream TCP connection through the plugins' Wasm network filters and tcp_proxy. Each
 * driving method returns the first plugin filter's status for its callback, or undefined when no
 * plugin filter was called.
 */
export class EmulatedConnection {
  /** Upstream bytes a write filter stopped on (tcp_proxy's upstream read buffer). */
  private readonly upstreamReadBuffer = new BodyBuffer();
  private readonly impl: ConnectionImpl;
  private upstreamEnded = false;
  private downstreamEnded = false;
  private opened = false;
  private completed = false;

  /** @internal Use Emulator.newConnection(). */
  constructor(
    readonly streamInfo: StreamInfo,
    filters: Array<{ name: string; filter: NetworkFilter }>,
    private readonly afterOperation: () => void,
    post: (work: () => void) => void,
  ) {
    this.impl = new ConnectionImpl(streamInfo, filters, () => post(() => this.destroyFilters()));
  }

  // ------------------------------------------------------------------ driving

  /** The connection is accepted: proxy_on_context_create and proxy_on_new_connection. */
  open(): number | undefined {
    if (this.opened) throw new Error("open(): the connection is already open");
    this.opened = true;
    return this.step("onNewConnection", () => this.impl.initializeReadFilters());
  }

  /** Bytes from the client; `endStream` is the client's FIN (half-close). */
  sendDownstreamData(data: Bytes, options: { endStream?: boolean } = {}): number | undefined {
    this.requireOpen("sendDownstreamData");
    if (this.downstreamEnded) throw new Error("sendDownstreamData(): the client already ended its stream");
    this.downstreamEnded = options.endStream ?? false;
    return this.step("onData", () => this.impl.read(toBytes(data), options.endStream ?? false));
  }

  /** Bytes from the upstream toward the client; `endStream` is the upstream's FIN. */
  sendUpstreamData(data: Bytes, options: { endStream?: boolean } = {}): number | undefined {
    this.requireOpen("sendUpstreamData");
    if (this.upstreamEnded) throw new Error("sendUpstreamData(): the upstream already ended its stream");
    const end = options.endStream ?? false;
    this.upstreamEnded = end;
    this.upstreamReadBuffer.append(toBytes(data));
    return this.step("onWrite", () => this.impl.write(this.upstreamReadBuffer, end));
  }

  /**
   * The downstream connection closes without a FIN reaching the filters: Remote = the client
   * reset or dropped it, Local = Envoy closed it (drain, timeout, another filter). For a graceful
   * client close use sendDownstreamData("", { endStream: true }).
   */
  closeDownstream(peer: PeerType.Local | PeerType.Remote = PeerType.Remote): void {
    this.requireOpen("closeDownstream");
    this.operate(() => this.impl.closeSocket(peer === PeerType.Local ? ConnectionEvent.LocalClose : ConnectionEvent.RemoteClose));
  }

  /**
   * The upstream closes its connection: its FIN travels the write filters (if it had not ended
   * yet), then tcp_proxy closes the downstream connection (FlushWrite → LocalClose).
   */
  closeUpstream(): void {
    this.requireOpen("closeUpstream");
    if (!this.upstreamEnded) this.sendUpstreamData("", { endStream: true });
    // tcp_proxy onUpstreamEvent: close(FlushWrite) of the downstream connection.
    if (this.impl.open) this.operate(() => this.impl.close(ConnectionCloseType.FlushWrite, ""));
  }

  /** Ends the test's use of the connection: the client hangs up if it is still open (RemoteClose). */
  complete(): void {
    if (this.completed) return;
    if (this.opened && this.impl.open) this.closeDownstream(PeerType.Remote);
    this.completed = true;
    if (!this.opened) this.destroyFilters();
    this.afterOperation();
  }

  // ------------------------------------------------------------------ inspection

  /** What the upstream received from tcp_proxy. */
  get upstream(): ReceivedBytes {
    return this.impl.upstream;
  }
  /** What the client received. */
  get downstream(): ReceivedBytes {
    return this.impl.downstream;
  }
  /** Client bytes a read filter holds (the read buffer, as the filters left it). */
  get pendingDownstream(): Buffer {
    return this.impl.readBuffer.toBuffer();
  }
  /** Upstream bytes a write filter holds (as the filters left them). */
  get pendingUpstream(): Buffer {
    return this.upstreamReadBuffer.toBuffer();
  }
  /** Every plugin filter callback, in order, with the status it returned. */
  get calls(): readonly NetworkFilterCall[] {
    return this.impl.calls;
  }
  /** The plugin filters' continueReading() and close requests, in order. */
  get requests(): readonly ConnectionRequest[] {
    return this.impl.requests;
  }
  get closed(): boolean {
    return !this.impl.open;
  }
  /** Who closed the connection: Local (Envoy, a filter) or Remote (the client); null while open. */
  get closedBy(): PeerType | null {
    const e = this.impl.closeEvent;
    return e === null ? null : e === ConnectionEvent.LocalClose ? PeerType.Local : PeerType.Remote;
  }
  /** Details of a close requested through Network::Connection::close (e.g. "wasm_downstream_close"). */
  get closeDetails(): string | null {
    return this.impl.closeDetails;
  }
  /** A filter-state entry of the connection (proxy_set_property writes `wasm.<name>`). */
  filterState(key: string): FilterStateValue | undefined {
    return this.streamInfo.filterState.get(key);
  }
  /** The status a plugin filter returned in its last call of `callback`. */
  lastStatus(callback: NetworkFilterCall["callback"], filter?: string): number | undefined {
    const calls = this.impl.calls;
    for (let i = calls.length - 1; i >= 0; i--) {
      const c = calls[i]!;
      if (c.callback === callback && (filter === undefined || c.filter === filter)) return c.status;
    }
    return undefined;
  }

  // ------------------------------------------------------------------ helpers

  private requireOpen(operation: string): void {
    if (this.completed) throw new Error(`${operation}(): the connection was already completed`);
    if (!this.opened) throw new Error(`${operation}(): call open() first (Envoy runs onNewConnection before any data)`);
    if (!this.impl.open) throw new Error(`${operation}(): the connection is closed`);
  }

  private step(callback: NetworkFilterCall["callback"], run: () => void): number | undefined {
    const before = this.impl.calls.length;
    this.operate(run);
    return this.impl.calls.slice(before).find((c) => c.callback === callback)?.status;
  }

  private operate(run: () => void): void {
    run();
    this.afterOperation();
  }

  private destroyFilters(): void {
    for (const f of this.impl.filters) f.onDestroy?.();
  }
}

const toBytes = (b: Bytes): Uint8Array => (typeof b === "string" ? Buffer.from(b) : b);
