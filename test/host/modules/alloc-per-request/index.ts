// Test module for the host's memory test: allocates on every request (header copies, a joined
// string, a 4 KiB scratch buffer, the response body) and lets the SDK and the AssemblyScript GC
// free it, so linear memory must stay bounded however many streams run.
export * from "proxy-wasm-as/assembly/exports";
import { Action, HttpContext, RootContext, registerRootContext } from "proxy-wasm-as";

class PerRequest extends HttpContext {
  private seen: string = "";

  onRequestHeaders(numHeaders: u32, endOfStream: bool): Action {
    const headers = this.getRequestHeaders();
    let joined = "";
    for (let i = 0; i < headers.length; i++) joined += headers[i].name + "=" + headers[i].value + ";";
    const scratch = new ArrayBuffer(4096);
    store<u8>(changetype<usize>(scratch), <u8>joined.length);
    this.seen = joined;
    this.replaceRequestHeader("x-seen-bytes", joined.length.toString());
    return Action.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): Action {
    const body = this.getResponseBodyString();
    if (body !== null && endOfStream) this.addResponseTrailer("x-body-length", body.length.toString() + this.seen.length.toString());
    return Action.Continue;
  }
}

class Root extends RootContext {
  newHttpContext(contextId: u32): HttpContext {
    return new PerRequest();
  }
}

registerRootContext((contextId: u32): RootContext => new Root());
