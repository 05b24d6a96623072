// A filter in @solo-io/proxy-runtime's style (its "auth" example): each request is held while the
// auth service — the Envoy cluster named by the plugin configuration — is asked about it with the
// request's own headers. A 200 lets the request through with `added-header: authorized`; any
// other answer, or a failed callout, gets a 401. Responses get `hello: wasm!`.
export * from "proxy-wasm-as/assembly/proxy-runtime/proxy";
import {
  RootContext, Context, BaseContext, registerRootContext, log, LogLevelValues, FilterHeadersStatusValues,
  FilterDataStatusValues, FilterTrailersStatusValues, GrpcStatusValues, WasmResultValues, BufferTypeValues,
  stream_context, send_local_response, continue_request, get_buffer_bytes,
} from "proxy-wasm-as/assembly/proxy-runtime";

class AuthRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new Auth(context_id, this);
  }
}

class Auth extends Context {
  allowed: bool = false;

  constructor(context_id: u32, root_context: AuthRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const cluster = this.root_context.getConfiguration();
    const result = this.root_context.httpCall(
      cluster,
      // the auth service decides from the request's headers
      stream_context.headers.request.get_headers(),
      new ArrayBuffer(0), [],
      1000,
      // the callback gets this context back (no closures in AssemblyScript)
      this,
      (origin_context: BaseContext, headers: u32, body_size: usize, trailers: u32) => {
        const auth = origin_context as Auth;
        // headers is 0 when the callout failed
        const status = headers == 0 ? "" : stream_context.headers.http_callback.get(":status");
        const body = get_buffer_bytes(BufferTypeValues.HttpCallResponseBody, 0, body_size as u32);
        log(LogLevelValues.debug, "auth: status " + status + ", body " + String.UTF8.decode(body));
        if (status == "200") {
          stream_context.headers.request.add("added-header", "authorized");
          auth.allowed = true;
          continue_request();
        } else {
          send_local_response(401, "not authorized", new ArrayBuffer(0), [], GrpcStatusValues.Unauthenticated);
        }
      });

    if (result != WasmResultValues.Ok) {
      log(LogLevelValues.warn, "auth: callout to " + cluster + " failed: " + result.toString());
      send_local_response(500, "internal server error", new ArrayBuffer(0), [], GrpcStatusValues.Internal);
      return FilterHeadersStatusValues.StopIteration;
    }
    return this.allowed ? FilterHeadersStatusValues.Continue : FilterHeadersStatusValues.StopIteration;
  }

  onRequestBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues {
    return this.allowed ? FilterDataStatusValues.Continue : FilterDataStatusValues.StopIterationAndWatermark;
  }

  onRequestTrailers(a: u32): FilterTrailersStatusValues {
    return this.allowed ? FilterTrailersStatusValues.Continue : FilterTrailersStatusValues.StopIteration;
  }

  onResponseHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("hello", "wasm!");
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new AuthRoot(context_id); }, "auth");
