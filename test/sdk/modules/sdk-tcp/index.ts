// A TCP (network filter) context: data in both directions, pausing and resuming, close events and
// the TCP lifecycle. Observations are logged at info ("tcp: ...").
export * from "proxy-wasm-as/assembly/exports";
import { Action, PeerType, RootContext, TcpContext, WasmResult, logInfo, registerRootContext, wasmResultName } from "proxy-wasm-as";

function text(b: ArrayBuffer | null): string {
  return b === null ? "null" : String.UTF8.decode(b);
}

class TcpRoot extends RootContext {
  held: Echo | null = null;

  onTick(): void {
    const held = this.held;
    if (held !== null) {
      logInfo("tcp: resume ", wasmResultName(held.continueDownstream()));
      this.held = null;
    }
  }

  newTcpContext(contextId: u32): TcpContext {
    return new Echo(this);
  }
}

class Echo extends TcpContext {
  constructor(private root: TcpRoot) {
    super();
  }

  onNewConnection(): Action {
    logInfo("tcp: new connection ", this.contextId != 0 ? "with id" : "without id");
    return Action.Continue;
  }

  onDownstreamData(dataSize: u32, endOfStream: bool): Action {
    const data = text(this.getDownstreamData());
    logInfo("tcp: downstream ", dataSize.toString(), " ", data, endOfStream ? " eos" : "");
    if (data == "hold") {
      this.root.held = this;
      return Action.Pause;
    }
    if (data == "close") {
      logInfo("tcp: close ", wasmResultName(this.closeDownstream()));
      return Action.Pause;
    }
    this.replaceDownstreamData(String.UTF8.encode(data.toUpperCase()));
    this.prependDownstreamData(String.UTF8.encode("<"));
    this.appendDownstreamData(String.UTF8.encode(">"));
    return Action.Continue;
  }

  onUpstreamData(dataSize: u32, endOfStream: bool): Action {
    logInfo("tcp: upstream ", text(this.getUpstreamData(0, 3)));
    const r: WasmResult = this.appendUpstreamData(String.UTF8.encode("!"));
    logInfo("tcp: upstream append ", wasmResultName(r));
    return Action.Continue;
  }

  onDownstreamConnectionClose(peerType: PeerType): void {
    logInfo("tcp: downstream closed by ", peerType == PeerType.Remote ? "remote" : peerType == PeerType.Local ? "local" : "unknown");
  }

  onUpstreamConnectionClose(peerType: PeerType): void {
    logInfo("tcp: upstream closed by ", peerType == PeerType.Remote ? "remote" : "local");
  }

  onDone(): void {
    logInfo("tcp: done");
  }
  onLog(): void {
    logInfo("tcp: log");
  }
  onDelete(): void {
    logInfo("tcp: delete");
  }
}

registerRootContext((contextId: u32): RootContext => new TcpRoot());
