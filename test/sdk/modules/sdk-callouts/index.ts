// Exercises HTTP and gRPC callouts: results routed to the calling context (stream or root),
// dropped for contexts deleted meanwhile, failures, and the response accessors. The request
// header x-scenario picks what a stream does; observations are logged at info.
export * from "proxy-wasm-as/assembly/exports";
import {
  Action, Header, HttpContext, RootContext, getGrpcReceiveInitialMetadata, getGrpcReceiveMessage,
  getGrpcReceiveTrailingMetadata, getHttpCallResponseBody, getHttpCallResponseHeader, getHttpCallResponseHeaders,
  getHttpCallResponseTrailers, getStatus, grpcCancel, grpcClose, grpcSend, httpCall, lastWasmResult, logInfo,
  pendingCallouts, registerRootContext, wasmResultName,
} from "proxy-wasm-as";

function text(b: ArrayBuffer | null): string {
  return b === null ? "null" : String.UTF8.decode(b);
}

function orNull(s: string | null): string {
  return s === null ? "null" : s;
}

function request(path: string): Header[] {
  return [new Header(":method", "POST"), new Header(":path", path), new Header(":authority", "callout")];
}

class CalloutRoot extends RootContext {
  onConfigure(size: u32): bool {
    this.setTickPeriodMilliseconds(1000);
    return true;
  }

  onTick(): void {
    // A callout from the root context, with the free function: its result comes back here.
    const token = httpCall("backend", request("/from-root"), String.UTF8.encode("tick"), null, 500);
    logInfo("root: call ", token != 0 ? "ok" : wasmResultName(lastWasmResult()), " pending=", pendingCallouts().toString());
  }

  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    logInfo("root: response status=", getHttpCallResponseHeader(":status")!, " body=", text(getHttpCallResponseBody()));
    this.setTickPeriodMilliseconds(0);
  }

  newHttpContext(contextId: u32): HttpContext {
    return new CalloutStream();
  }
}

class CalloutStream extends HttpContext {
  scenario: string = "";
  token: u32 = 0;

  onRequestHeaders(numHeaders: u32, endOfStream: bool): Action {
    const s = this.getRequestHeader("x-scenario");
    this.scenario = s === null ? "" : s;
    const sc = this.scenario;
    if (sc == "http" || sc == "http-fail" || sc == "http-deleted" || sc == "http-timeout") {
      const headers = request("/check");
      headers.push(new Header("x-user", this.getRequestHeader("x-user")!));
      const timeout: u32 = sc == "http-timeout" ? 200 : 0;
      this.token = this.httpCall("backend", headers, String.UTF8.encode("ping"), [new Header("x-trailer", "t")], timeout);
      logInfo(sc, ": token is 4n: ", (this.token != 0 && this.token % 4 == 0) ? "yes" : "no", " pending=", pendingCallouts().toString());
      return sc == "http-deleted" ? Action.Continue : Action.Pause;
    }
    if (sc == "http-bad") {
      const noPath = [new Header(":method", "GET"), new Header(":authority", "a")];
      logInfo(sc, ": missing :path token=", this.httpCall("backend", noPath).toString(), " ", wasmResultName(lastWasmResult()));
      logInfo(sc, ": unknown cluster token=", this.httpCall("nowhere", request("/")).toString(), " ", wasmResultName(lastWasmResult()));
      const many = new Array<Header>();
      for (let i = 0; i < 1100; i++) many.push(new Header("x", "y"));
      logInfo(sc, ": too many headers token=", this.httpCall("backend", many).toString(), " ", wasmResultName(lastWasmResult()));
      return Action.Continue;
    }
    if (sc == "grpc-unary" || sc == "grpc-unary-deleted") {
      const message = new ArrayBuffer(3);
      store<u8>(changetype<usize>(message), 0x0a);
      store<u8>(changetype<usize>(message) + 1, 0x01);
      store<u8>(changetype<usize>(message) + 2, 0x78);
      this.token = this.grpcCall("grpc-backend", "test.Echo", "Say", [new Header("x-md", "m")], message, 1000);
      logInfo(sc, ": token is 4n+1: ", this.token % 4 == 1 ? "yes" : "no");
      return sc == "grpc-unary" ? Action.Pause : Action.Continue;
    }
    if (sc == "grpc-stream" || sc == "grpc-stream-deleted" || sc == "grpc-cancel") {
      this.token = this.grpcStream("grpc-backend", "test.Echo", "Chat", [new Header("x-md", "s")]);
      logInfo(sc, ": token is 4n+2: ", this.token % 4 == 2 ? "yes" : "no");
      logInfo(sc, ": send ", wasmResultName(grpcSend(this.token, String.UTF8.encode("hello"), false)));
      if (sc == "grpc-cancel") {
        logInfo(sc, ": cancel ", wasmResultName(grpcCancel(this.token)), " pending=", pendingCallouts().toString());
      }
      return sc == "grpc-stream" ? Action.Pause : Action.Continue;
    }
    return Action.Continue;
  }

  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    const sc = this.scenario;
    logInfo(sc, ": response for my token: ", token == this.token ? "yes" : "no", " headers=", numHeaders.toString());
    logInfo(sc, ": body size=", bodySize.toString());
    if (numHeaders == 0) {
      const status = getStatus();
      logInfo(sc, ": failed code=", status!.code.toString(), " message=", status!.message);
      this.sendLocalResponse(503, "callout_failed", "backend unavailable");
      return;
    }
    const all = getHttpCallResponseHeaders();
    logInfo(sc, ": status=", orNull(getHttpCallResponseHeader(":status")), " x-backend=", orNull(getHttpCallResponseHeader("x-backend")));
    logInfo(sc, ": header count=", all.length.toString());
    logInfo(sc, ": body=", text(getHttpCallResponseBody()), " part=", text(getHttpCallResponseBody(1, 2)));
    const trailers = getHttpCallResponseTrailers();
    logInfo(sc, ": trailers=", numTrailers.toString(), " first=", trailers.length > 0 ? trailers[0].name + "=" + trailers[0].value : "");
    // The stream is the effective context here: its headers can be changed, then it resumes.
    this.addRequestHeader("x-auth", orNull(getHttpCallResponseHeader(":status")));
    logInfo(sc, ": continue ", wasmResultName(this.continueRequest()), " pending=", pendingCallouts().toString());
  }

  onGrpcReceiveInitialMetadata(token: u32, numElements: u32): void {
    const md = getGrpcReceiveInitialMetadata();
    logInfo(this.scenario, ": initial metadata n=", numElements.toString(), " first=", md.length > 0 ? md[0].name + "=" + md[0].value : "");
  }

  onGrpcReceive(token: u32, messageSize: u32): void {
    const message = getGrpcReceiveMessage();
    logInfo(this.scenario, ": message size=", messageSize.toString(), " text=", text(message));
    if (this.scenario == "grpc-stream") {
      logInfo(this.scenario, ": reply ", wasmResultName(grpcSend(token, String.UTF8.encode("again"), true)));
    } else if (this.scenario == "grpc-unary") {
      // A successful unary call ends here (no onGrpcClose follows).
      logInfo(this.scenario, ": continue ", wasmResultName(this.continueRequest()), " pending=", pendingCallouts().toString());
    }
  }

  onGrpcReceiveTrailingMetadata(token: u32, numElements: u32): void {
    const md = getGrpcReceiveTrailingMetadata();
    logInfo(this.scenario, ": trailing metadata n=", numElements.toString(), " first=", md.length > 0 ? md[0].name + "=" + md[0].value : "");
  }

  onGrpcClose(token: u32, statusCode: u32): void {
    const status = getStatus();
    logInfo(this.scenario, ": close status=", statusCode.toString(), " message=", status === null ? "null" : status.message);
    if (this.scenario == "grpc-stream") logInfo(this.scenario, ": close again ", wasmResultName(grpcClose(token)));
    logInfo(this.scenario, ": continue ", wasmResultName(this.continueRequest()), " pending=", pendingCallouts().toString());
  }

  onLog(): void {
    logInfo("log: ", this.scenario, " pending=", pendingCallouts().toString());
  }
}

registerRootContext((contextId: u32): RootContext => new CalloutRoot());

