// A filter in @solo-io/proxy-runtime's style (its "singleton" example), with a shared queue. One
// module, two root contexts:
// - "auth_singleton" runs once per Envoy (a bootstrap WasmService with singleton: true). Every
//   second it fetches the current token from the cluster named by its configuration (GET /fetch)
//   into shared data; and it drains the "auth_requests" queue, counting and logging what the
//   workers report.
// - "auth" is the HTTP filter on every worker. Every second it picks up the token from shared
//   data; a request whose x-auth header equals it goes through, any other gets a 401. Each
//   decision is enqueued for the singleton.
// Both must have the same vm_id: shared data and queues are scoped by it.
export * from "proxy-wasm-as/assembly/proxy-runtime/proxy";
import {
  RootContext, Context, BaseContext, registerRootContext, Headers, makeHeaderPair, log, LogLevelValues,
  FilterHeadersStatusValues, GrpcStatusValues, WasmResultValues, BufferTypeValues, Counter, stream_context,
  send_local_response, set_tick_period_milliseconds, get_buffer_bytes, get_shared_data, set_shared_data,
  register_shared_queue, resolve_shared_queue, enqueue_shared_queue, dequeue_shared_queue,
} from "proxy-wasm-as/assembly/proxy-runtime";

const TOKEN_KEY = "auth_token";
const QUEUE_NAME = "auth_requests";

class AuthSingleton extends RootContext {
  requests: Counter = new Counter("auth_singleton_requests_total");
  denied: Counter = new Counter("auth_singleton_denied_total");

  onConfigure(configuration_size: u32): bool {
    super.onConfigure(configuration_size);
    const queue = register_shared_queue(QUEUE_NAME);
    if (queue.result != WasmResultValues.Ok) {
      log(LogLevelValues.error, "auth_singleton: cannot register queue " + QUEUE_NAME);
      return false;
    }
    set_tick_period_milliseconds(1000);
    return true;
  }

  onTick(): void {
    const headers: Headers = [];
    headers.push(makeHeaderPair(":path", "/fetch"));
    headers.push(makeHeaderPair(":method", "GET"));
    headers.push(makeHeaderPair(":authority", "auth"));
    this.httpCall(this.getConfiguration(), headers, new ArrayBuffer(0), [], 1000, this,
      (origin_context: BaseContext, headers: u32, body_size: usize, trailers: u32) => {
        if (headers == 0) {
          log(LogLevelValues.warn, "auth_singleton: token fetch failed");
          return;
        }
        set_shared_data(TOKEN_KEY, get_buffer_bytes(BufferTypeValues.HttpCallResponseBody, 0, body_size as u32));
      });
  }

  onQueueReady(token: u32): void {
    let item = dequeue_shared_queue(token);
    while (item.result == WasmResultValues.Ok) {
      const text = String.UTF8.decode(item.data!);
      this.requests.increment(1);
      if (text.startsWith("denied")) {
        this.denied.increment(1);
      }
      log(LogLevelValues.info, "auth_singleton: " + text);
      item = dequeue_shared_queue(token);
    }
  }
}

class AuthRoot extends RootContext {
  token: string = "";
  queue: u32 = 0;

  createContext(context_id: u32): Context {
    return new Auth(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    super.onConfigure(configuration_size);
    set_tick_period_milliseconds(1000);
    return true;
  }

  onTick(): void {
    const data = get_shared_data(TOKEN_KEY);
    if (data.result == WasmResultValues.Ok && data.value!.byteLength > 0) {
      this.token = String.UTF8.decode(data.value!);
    }
  }

  /** Tells the singleton; until it has registered the queue, reports are dropped. */
  report(decision: string): void {
    if (this.queue == 0) {
      const queue = resolve_shared_queue("", QUEUE_NAME);
      if (queue.result != WasmResultValues.Ok) {
        return;
      }
      this.queue = queue.token;
    }
    enqueue_shared_queue(this.queue, String.UTF8.encode(decision));
  }
}

class Auth extends Context {
  constructor(context_id: u32, root_context: AuthRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.root_context as AuthRoot;
    const path = stream_context.headers.request.get(":path");
    // no token yet means nobody is allowed (an absent x-auth reads as "")
    if (root.token != "" && stream_context.headers.request.get("x-auth") == root.token) {
      root.report("allowed " + path);
      return FilterHeadersStatusValues.Continue;
    }
    root.report("denied " + path);
    send_local_response(401, "not authorized", new ArrayBuffer(0), [], GrpcStatusValues.Unauthenticated);
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerRootContext((context_id: u32) => { return new AuthRoot(context_id); }, "auth");
registerRootContext((context_id: u32) => { return new AuthSingleton(context_id); }, "auth_singleton");
