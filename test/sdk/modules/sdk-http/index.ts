// Exercises the HTTP stream API of the SDK. The request header x-scenario picks what a stream does;
// what the module observes is logged at info ("<scenario>: ..."), what it changes is checked by the
// node test on the emulator's side (test/sdk/http.test.ts).
export * from "proxy-wasm-as/assembly/exports";
import {
  Action, GrpcStatus, Header, HeaderBytes, HttpContext, MapType, RootContext, WasmResult, getHeaderMapByteSize,
  lastWasmResult, liveContextCounts, logInfo, registerRootContext, wasmResultName,
} from "proxy-wasm-as";

function quoted(v: string | null): string {
  return v === null ? "null" : "\"" + v + "\"";
}

function hex(b: ArrayBuffer | null): string {
  if (b === null) return "null";
  let out = "";
  for (let i = 0; i < b.byteLength; i++) {
    const v = load<u8>(changetype<usize>(b) + <usize>i);
    out += (v < 16 ? "0" : "") + v.toString(16);
  }
  return out;
}

function bytes(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

class HttpRoot extends RootContext {
  paused: HttpStream[] = [];

  onConfigure(size: u32): bool {
    this.setTickPeriodMilliseconds(100);
    return true;
  }

  onTick(): void {
    // Resumes streams paused in onRequestHeaders: the stream's methods make it the effective context.
    for (let i = 0; i < this.paused.length; i++) {
      const s = this.paused[i];
      s.replaceRequestHeader("x-resumed-by", "tick");
      logInfo("tick: continue ", wasmResultName(s.continueRequest()));
    }
    this.paused = [];
    const counts = liveContextCounts();
    logInfo("tick: live roots=", counts[0].toString(), " http=", counts[1].toString());
  }

  newHttpContext(contextId: u32): HttpContext {
    return new HttpStream(this);
  }
}

class HttpStream extends HttpContext {
  scenario: string = "";

  constructor(private root: HttpRoot) {
    super();
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): Action {
    const s = this.getRequestHeader("x-scenario");
    this.scenario = s === null ? "" : s;
    const sc = this.scenario;
    if (sc == "headers") {
      logInfo("headers: count=", numHeaders.toString(), " eos=", endOfStream ? "true" : "false");
      logInfo("headers: present=", quoted(this.getRequestHeader("x-present")));
      logInfo("headers: empty=", quoted(this.getRequestHeader("x-empty")));
      logInfo("headers: absent=", quoted(this.getRequestHeader("x-absent")), " status=", wasmResultName(lastWasmResult()));
      logInfo("headers: multi first=", quoted(this.getRequestHeader("x-multi")));
      logInfo("headers: bytes=", hex(this.getRequestHeaderBytes(bytes("x-bin"))));
      const all = this.getRequestHeaders();
      const names = new Array<string>();
      for (let i = 0; i < all.length; i++) names.push(all[i].name + "=" + all[i].value);
      logInfo("headers: all=", names.join(","));
      logInfo("headers: all-bytes=", this.getRequestHeadersBytes().length.toString());
      logInfo("headers: byte-size=", getHeaderMapByteSize(MapType.HttpRequestHeaders).toString());
      this.addRequestHeader("x-added", "1");
      this.addRequestHeader("x-multi", "c");
      this.replaceRequestHeader("x-replaced", "new");
      this.removeRequestHeader("x-removed");
      this.addRequestHeaderBytes(bytes("x-bytes"), bytes("é"));
      this.replaceRequestHeaderBytes(bytes("x-present"), bytes("changed"));
      logInfo("headers: unicode=", quoted(this.getRequestHeader("x-bytes")));
    } else if (sc == "set-all") {
      const kept = new Array<Header>();
      const all = this.getRequestHeaders();
      for (let i = 0; i < all.length; i++) if (all[i].name.startsWith(":")) kept.push(all[i]);
      kept.push(new Header("x-only", "1"));
      kept.push(new Header("X-Upper", "v"));
      logInfo("set-all: ", wasmResultName(this.setRequestHeaders(kept)));
    } else if (sc == "set-all-bytes") {
      const list = this.getRequestHeadersBytes();
      list.push(new HeaderBytes(bytes("x-bytes-only"), bytes("1")));
      logInfo("set-all-bytes: ", wasmResultName(this.setRequestHeadersBytes(list)));
    } else if (sc == "set-too-many") {
      const many = new Array<Header>();
      for (let i = 0; i < 1025; i++) many.push(new Header("x-h" + i.toString(), "v"));
      logInfo("set-too-many: ", wasmResultName(this.setRequestHeaders(many)));
    } else if (sc == "local-reply") {
      logInfo("local-reply: ", wasmResultName(this.sendLocalResponse(418, "short and stout", "I'm a teapot", [new Header("x-lr", "1")])));
      return Action.Continue; // Envoy forces a stop after a local reply
    } else if (sc == "local-reply-grpc") {
      this.sendLocalResponseBytes(200, "grpc_denied", null, null, GrpcStatus.PermissionDenied);
      return Action.Pause;
    } else if (sc == "body-replace" || sc == "body-edit") {
      logInfo(sc, ": content-length=", this.getRequestContentLength().toString());
      this.removeRequestContentLength();
    } else if (sc == "pause") {
      this.root.paused.push(this);
      return Action.Pause;
    } else if (sc == "close") {
      logInfo("close: ", wasmResultName(this.closeRequest()));
      return Action.Pause;
    } else if (sc == "trailers") {
      logInfo("trailers: in headers phase=", quoted(this.getRequestTrailer("x-t")), " status=", wasmResultName(lastWasmResult()));
    }
    return Action.Continue;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): Action {
    const sc = this.scenario;
    if (sc == "body-replace" || sc == "body-edit") {
      logInfo(sc, ": body size=", bodySize.toString(), " eos=", endOfStream ? "true" : "false");
      if (!endOfStream) return Action.Pause; // buffer until the whole body is there
      const body = this.getRequestBodyString();
      logInfo(sc, ": body=", quoted(body), " part=", quoted(this.getRequestBodyString(1, 3)));
      if (sc == "body-replace") {
        logInfo(sc, ": replace ", wasmResultName(this.replaceRequestBodyString(body!.toUpperCase())));
      } else {
        logInfo(sc, ": prepend ", wasmResultName(this.prependRequestBodyString("<")));
        logInfo(sc, ": append ", wasmResultName(this.appendRequestBody(bytes(">"))));
        logInfo(sc, ": middle ", wasmResultName(this.setBodyMiddle()));
      }
    } else if (sc == "trailers" && endOfStream) {
      logInfo("trailers: add from body ", wasmResultName(this.addRequestTrailer("x-added-trailer", "t")));
    }
    return Action.Continue;
  }

  /** An edit Envoy's Buffer::copyFrom does not support: must come back BadArgument. */
  setBodyMiddle(): WasmResult {
    return this.replaceRequestBodyString("") == WasmResult.Ok ? this.prependRequestBody(bytes("")) : WasmResult.InternalFailure;
  }

  onRequestTrailers(numTrailers: u32): Action {
    if (this.scenario == "trailers") {
      logInfo("trailers: request count=", numTrailers.toString(), " x-t=", quoted(this.getRequestTrailer("x-t")));
      this.replaceRequestTrailer("x-t", "replaced");
      this.addRequestTrailer("x-extra", "e");
      this.removeRequestTrailer("x-gone");
    }
    return Action.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): Action {
    const sc = this.scenario;
    if (sc == "headers") {
      logInfo("headers: response status=", quoted(this.getResponseHeader(":status")));
      this.addResponseHeader("x-resp-added", "a");
      this.replaceResponseHeader("x-resp-replaced", "r");
      this.removeResponseHeader("x-resp-removed");
      logInfo("headers: response all=", this.getResponseHeaders().length.toString());
    } else if (sc == "set-all") {
      logInfo("set-all: response ", wasmResultName(this.setResponseHeaders([new Header(":status", "201"), new Header("x-set", "1")])));
    } else if (sc == "body-replace") {
      this.removeResponseContentLength();
    } else if (sc == "local-reply") {
      logInfo("local-reply: response headers status=", quoted(this.getResponseHeader(":status")));
    }
    return Action.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): Action {
    if (this.scenario == "body-replace") {
      if (!endOfStream) return Action.Pause;
      const body = this.getResponseBody();
      logInfo("body-replace: response body=", hex(body));
      this.replaceResponseBody(bytes("[" + String.UTF8.decode(body!) + "]"));
    }
    return Action.Continue;
  }

  onResponseTrailers(numTrailers: u32): Action {
    if (this.scenario == "trailers") {
      const t = this.getResponseTrailers();
      logInfo("trailers: response count=", t.length.toString(), " first=", t.length > 0 ? t[0].name + "=" + t[0].value : "");
      this.replaceResponseTrailer("grpc-status", "7");
      this.addResponseTrailer("x-resp-trailer", "y");
      this.removeResponseTrailer("x-resp-gone");
      this.setResponseTrailers(this.getResponseTrailers());
    }
    return Action.Continue;
  }

  onLog(): void {
    if (this.scenario == "lifecycle") logInfo("lifecycle: log");
  }
  onDone(): void {
    if (this.scenario == "lifecycle") logInfo("lifecycle: done");
  }
  onDelete(): void {
    if (this.scenario == "lifecycle") logInfo("lifecycle: delete");
  }
}

registerRootContext((contextId: u32): RootContext => new HttpRoot());
