// Example filter: adds a header to every request and every response.
export * from "proxy-wasm-as/assembly/exports";
import { Action, HttpContext, RootContext, registerRootContext } from "proxy-wasm-as";

class AddHeader extends HttpContext {
  onRequestHeaders(numHeaders: u32, endOfStream: bool): Action {
    this.replaceRequestHeader("x-wasm-filter", "add-header");
    return Action.Continue;
  }
  onResponseHeaders(numHeaders: u32, endOfStream: bool): Action {
    this.addResponseHeader("x-powered-by", "proxy-wasm-as");
    return Action.Continue;
  }
}

class AddHeaderRoot extends RootContext {
  newHttpContext(contextId: u32): HttpContext {
    return new AddHeader();
  }
}

registerRootContext((contextId: u32): RootContext => new AddHeaderRoot());
