// Test probe for the metadata-exchange proxy tests: put first in the chain, it reports the peer
// filter state the metadata-exchange filter left (read on the response, after the exchange filter
// ran in both directions) as response headers `<prefix>downstream-workload`,
// `<prefix>downstream-id`, `<prefix>upstream-workload`, `<prefix>upstream-id`. The prefix is the
// plugin configuration. Reading ["downstream_peer", "WORKLOAD_NAME"] walks into the declared
// Protobuf Struct, as Envoy's CelState allows.
export * from "proxy-wasm-as/assembly/exports";
import { Action, HttpContext, RootContext, getPluginConfigurationString, getPropertyString, registerRootContext } from "proxy-wasm-as";

let prefix = "x-probe-";

class Probe extends HttpContext {
  onResponseHeaders(numHeaders: u32, endOfStream: bool): Action {
    this.report("downstream-workload", ["downstream_peer", "WORKLOAD_NAME"]);
    this.report("downstream-id", ["downstream_peer_id"]);
    this.report("upstream-workload", ["upstream_peer", "WORKLOAD_NAME"]);
    this.report("upstream-id", ["upstream_peer_id"]);
    return Action.Continue;
  }

  private report(name: string, path: string[]): void {
    const value = getPropertyString(path);
    if (value !== null) this.replaceResponseHeader(prefix + name, value);
  }
}

class ProbeRoot extends RootContext {
  onConfigure(size: u32): bool {
    const configured = getPluginConfigurationString();
    if (configured !== null && configured.length > 0) prefix = configured;
    return true;
  }
  newHttpContext(contextId: u32): HttpContext {
    return new Probe();
  }
}

registerRootContext((contextId: u32): RootContext => new ProbeRoot());
