// Only a named root registration: a plugin with another root id gets the SDK's built-in root,
// which creates no stream contexts, so its traffic passes through untouched (C++ SDK / Kong
// behaviour rather than an abort).
export * from "proxy-wasm-as/assembly/exports";
import { Action, HttpContext, RootContext, logInfo, registerRootContext } from "proxy-wasm-as";

class OnlyRoot extends RootContext {
  onVmStart(size: u32): bool {
    logInfo("root: only");
    return true;
  }
  newHttpContext(contextId: u32): HttpContext {
    return new Deny();
  }
}

class Deny extends HttpContext {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): Action {
    this.sendLocalResponse(403, "denied_by_only");
    return Action.Pause;
  }
}

registerRootContext((contextId: u32): RootContext => new OnlyRoot(), "only");
