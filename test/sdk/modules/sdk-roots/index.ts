// Root context selection by root id (PluginConfig.root_id, read from plugin_root_id): a named
// registration, the default one, the latest registration of an id winning, and — in the
// "named-only" configuration — the built-in root that lets traffic through when nothing matches.
export * from "proxy-wasm-as/assembly/exports";
import { Action, HttpContext, RootContext, getPluginRootId, logInfo, registerRootContext } from "proxy-wasm-as";

class NamedRoot extends RootContext {
  constructor(public label: string) {
    super();
  }
  onVmStart(size: u32): bool {
    const id = getPluginRootId();
    logInfo("root: ", this.label, " for plugin_root_id=", id === null ? "null" : id);
    return true;
  }
  newHttpContext(contextId: u32): HttpContext {
    return new Tagging(this.label);
  }
}

class Tagging extends HttpContext {
  constructor(private label: string) {
    super();
  }
  onRequestHeaders(numHeaders: u32, endOfStream: bool): Action {
    this.addRequestHeader("x-root", this.label);
    return Action.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new NamedRoot("first alpha"), "alpha");
registerRootContext((contextId: u32): RootContext => new NamedRoot("beta"), "beta");
registerRootContext((contextId: u32): RootContext => new NamedRoot("alpha"), "alpha");
registerRootContext((contextId: u32): RootContext => new NamedRoot("ünï"), "ünï");
// The default registration: no root id.
registerRootContext((contextId: u32): RootContext => new NamedRoot("default"));
