// Test module for the proxy-runtime compatibility layer (test/migration/compat-api.test.ts): each
// request's x-probe header picks a scenario, which logs "probe: <what it saw>" lines at info for
// the test to compare. It exercises what proxy-runtime got wrong (absent headers, get_metric,
// aborting on a host status) and the parts of its API the four examples do not use.
export * from "proxy-wasm-as/assembly/proxy-runtime/proxy";
import {
  RootContext, Context, BaseContext, registerRootContext, log, logLevel, LogLevelValues, WasmResultValues,
  FilterHeadersStatusValues, FilterDataStatusValues, GrpcStatusValues, Headers, makeHeaderPair, stream_context,
  send_local_response, get_property, get_property_or_null, set_property, get_shared_data, set_shared_data,
  resolve_shared_queue, Counter, Gauge, Histogram, get_metric, define_metric, MetricTypeValues, get_status,
  get_header_map_value, get_header_map_value_or_null, HeaderMapTypeValues, get_header_map_size, pendingHttpCallbacks,
  HeaderPair, remove_header_map_value, call_foreign_function, get_buffer_status, BufferTypeValues,
} from "proxy-wasm-as/assembly/proxy-runtime";

function say(text: string): void {
  log(LogLevelValues.info, "probe: " + text);
}

function show(value: string | null): string {
  return value === null ? "null" : "\"" + value + "\"";
}

const requests = new Counter("probe_requests_total");
const inflight = new Gauge("probe_inflight");
const sizes = new Histogram("probe_sizes");

class ProbeRoot extends RootContext {
  onConfigure(configuration_size: u32): bool {
    super.onConfigure(configuration_size);
    if (this.getConfiguration() == "reject") {
      return false;
    }
    say("configured " + show(this.getConfiguration()) + " level " + logLevel().toString());
    return true;
  }

  createContext(context_id: u32): Context {
    return new Probe(context_id, this);
  }

  /** A callout owned by the root itself, left pending until shutdown. */
  callFromRoot(): WasmResultValues {
    const headers: Headers = [makeHeaderPair(":method", "GET"), makeHeaderPair(":path", "/root"), makeHeaderPair(":authority", "probe")];
    return this.httpCall("backend", headers, new ArrayBuffer(0), [], 0, this,
      (origin_context: BaseContext, headers: u32, body_size: usize, trailers: u32) => {
        say("root callback headers=" + headers.toString() + " origin=" + (origin_context instanceof ProbeRoot ? "root" : "other"));
      });
  }
}

class Probe extends Context {
  scenario: string = "";

  constructor(context_id: u32, root_context: ProbeRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    this.scenario = stream_context.headers.request.get("x-probe");
    const request = stream_context.headers.request;
    if (this.scenario == "headers") {
      say("absent get=" + show(request.get("x-absent")) + " or_null=" + show(request.get_or_null("x-absent")) + " has=" + request.has("x-absent").toString());
      say("empty get=" + show(request.get("x-empty")) + " or_null=" + show(request.get_or_null("x-empty")) + " has=" + request.has("x-empty").toString());
      const raw = get_header_map_value_or_null(HeaderMapTypeValues.RequestHeaders, String.UTF8.encode("x-absent"));
      say("raw absent " + (raw === null ? "null" : "bytes") + " legacy length " + get_header_map_value(HeaderMapTypeValues.RequestHeaders, String.UTF8.encode("x-absent")).byteLength.toString());
      say("byte size " + get_header_map_size(HeaderMapTypeValues.RequestHeaders).toString());
      request.replace("x-replaced", "yes");
      request.remove("x-removed");
      request.add("x-added", "1");
      return FilterHeadersStatusValues.Continue;
    }
    if (this.scenario == "host-status") {
      // Response headers do not exist yet: proxy-runtime aborted the VM here.
      const replaced = stream_context.headers.response.replace("x-too-early", "1");
      say("replace response header in request phase: " + replaced.toString());
      const removed = remove_header_map_value(HeaderMapTypeValues.ResponseHeaders, String.UTF8.encode("x-bytes"));
      say("remove response header bytes in request phase: " + removed.toString());
      say("foreign function result length " + call_foreign_function("no_such_function", "x").byteLength.toString());
      say("property absent length " + get_property("no_such_property").byteLength.toString() + " or_null " + (get_property_or_null("no_such_property") === null ? "null" : "bytes"));
      say("property path " + String.UTF8.decode(get_property("request\0path")));
      say("set_property " + set_property("probe_state", String.UTF8.encode("v1")).toString());
      return FilterHeadersStatusValues.Continue;
    }
    if (this.scenario == "metrics") {
      requests.increment(3);
      inflight.set(7);
      inflight.increment(-2);
      sizes.observe(42);
      const counted = get_metric(requests.metric_id);
      const gauged = get_metric(inflight.metric_id);
      say("counter " + counted.result.toString() + " " + counted.data.toString() + " get " + requests.get().toString());
      say("gauge " + gauged.result.toString() + " " + gauged.data.toString() + " get " + inflight.get().toString());
      say("histogram get_metric " + get_metric(sizes.metric_id).result.toString());
      const defined = define_metric(MetricTypeValues.Counter, "probe_defined_total");
      say("define_metric " + defined.result.toString() + " id " + (defined.metric_id != 0 ? "set" : "0"));
      return FilterHeadersStatusValues.Continue;
    }
    if (this.scenario == "shared") {
      const missing = get_shared_data("probe_missing");
      say("missing " + missing.result.toString() + " " + (missing.value === null ? "null" : "bytes"));
      say("set " + set_shared_data("probe_key", String.UTF8.encode("one")).toString());
      const first = get_shared_data("probe_key");
      say("stale cas " + set_shared_data("probe_key", String.UTF8.encode("two"), first.cas + 1000).toString());
      say("fresh cas " + set_shared_data("probe_key", String.UTF8.encode("two"), first.cas).toString());
      say("now " + String.UTF8.decode(get_shared_data("probe_key").value!));
      const queue = resolve_shared_queue("", "no_such_queue");
      say("resolve missing queue " + queue.result.toString() + " token " + queue.token.toString());
      return FilterHeadersStatusValues.Continue;
    }
    if (this.scenario == "local-reply") {
      const headers: Headers = [makeHeaderPair("x-reason", "probe"), latin1Pair()];
      send_local_response(418, "probe says no", String.UTF8.encode("teapot\n"), headers, GrpcStatusValues.InvalidCode);
      return FilterHeadersStatusValues.StopIteration;
    }
    if (this.scenario == "continue-and-end-stream") {
      // Envoy treats ContinueAndEndStream like Continue (proxy-wasm-abi.md §3.6).
      return FilterHeadersStatusValues.ContinueAndEndStream;
    }
    if (this.scenario == "no-buffer") {
      return FilterHeadersStatusValues.Continue;
    }
    if (this.scenario == "callout-status") {
      const headers: Headers = [makeHeaderPair(":method", "GET"), makeHeaderPair(":path", "/status"), makeHeaderPair(":authority", "probe")];
      this.root_context.httpCall("backend", headers, new ArrayBuffer(0), [], 0, this,
        (origin_context: BaseContext, headers: u32, body_size: usize, trailers: u32) => {
          const status = get_status();
          say("callout headers=" + headers.toString() + " status " + status.result.toString() + " " + status.status.toString() + " " + String.UTF8.decode(status.data) + " pending " + pendingHttpCallbacks().toString());
          (origin_context as Probe).continueRequest();
        });
      say("pending " + pendingHttpCallbacks().toString());
      return FilterHeadersStatusValues.StopIteration;
    }
    if (this.scenario == "root-callout") {
      say("root callout " + (this.root_context as ProbeRoot).callFromRoot().toString() + " pending " + pendingHttpCallbacks().toString());
      return FilterHeadersStatusValues.Continue;
    }
    if (this.scenario == "stream-gone") {
      const headers: Headers = [makeHeaderPair(":method", "GET"), makeHeaderPair(":path", "/slow"), makeHeaderPair(":authority", "probe")];
      this.root_context.httpCall("backend", headers, new ArrayBuffer(0), [], 0, this,
        (origin_context: BaseContext, headers: u32, body_size: usize, trailers: u32) => {
          say("stream-gone callback ran");
        });
      say("pending " + pendingHttpCallbacks().toString());
      return FilterHeadersStatusValues.Continue;
    }
    return FilterHeadersStatusValues.Continue;
  }

  onRequestBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues {
    if (this.scenario == "no-buffer" && !end_of_stream) {
      const buffer = get_buffer_status(BufferTypeValues.HttpRequestBody);
      say("body status " + buffer.result.toString() + " length " + buffer.length.toString() + " flags " + buffer.flags.toString());
      return FilterDataStatusValues.StopIterationNoBuffer;
    }
    return FilterDataStatusValues.Continue;
  }

  onDelete(): void {
    if (this.scenario == "stream-gone") {
      say("deleted, pending " + pendingHttpCallbacks().toString());
    }
  }
}

/** A header whose value is not UTF-8 (latin1 "é"), to check bytes go out unchanged. */
function latin1Pair(): HeaderPair {
  const value = new ArrayBuffer(4);
  const bytes = Uint8Array.wrap(value);
  bytes[0] = 0x63; // c
  bytes[1] = 0x61; // a
  bytes[2] = 0x66; // f
  bytes[3] = 0xe9; // é in latin1
  return new HeaderPair(String.UTF8.encode("x-latin"), value);
}

/** Registered under "": serves plugins whose root_id has no registration of its own. */
class FallbackRoot extends RootContext {
  onConfigure(configuration_size: u32): bool {
    say("fallback root for " + String.UTF8.decode(get_property("plugin_root_id")));
    return true;
  }
}

registerRootContext((context_id: u32) => { return new ProbeRoot(context_id); }, "probe");
registerRootContext((context_id: u32) => { return new FallbackRoot(context_id); }, "");
