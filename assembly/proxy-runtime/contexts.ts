// proxy-runtime's context classes: BaseContext, RootContext (one per plugin and worker: the
// configuration, ticks, queues, HTTP callouts) and Context (one per HTTP stream), with
// proxy-runtime's method names, signatures and no-op defaults. They are driven by the SDK through
// adapters (registry.ts), so every ABI detail — exports, memory, effective context, callout
// routing — is the SDK's.
import {
  StreamType, continueStream, done as sdkDone, getPluginConfigurationString, httpCallBytesFrom, lastWasmResult,
  setEffectiveContext,
} from "../index";
import {
  FilterDataStatusValues, FilterHeadersStatusValues, FilterMetadataStatusValues, FilterStatusValues,
  FilterTrailersStatusValues, PeerTypeValues, WasmResultValues,
} from "./enums";
import { Headers, pairsToBytes } from "./headers";
import { reportFailure } from "./report";

/** What proxy-runtime's httpCall calls back: the origin context and the response's sizes. */
export type HttpCallbackFunction = (origin_context: BaseContext, headers: u32, body_size: usize, trailers: u32) => void;

/** A pending httpCall: where its response goes. */
export class HttpCallback {
  origin_context: BaseContext;
  cb: HttpCallbackFunction;
  /** The root context whose httpCall made the call: its onHttpCallResponse receives the response. */
  caller: RootContext | null = null;

  constructor(origin_context: BaseContext, cb: HttpCallbackFunction) {
    this.origin_context = origin_context;
    this.cb = cb;
  }
}

/** Pending callouts by token (tokens are unique within a VM). */
const httpCallbacks = new Map<u32, HttpCallback>();

/** What RootContext and Context have in common. */
export abstract class BaseContext {
  context_id: u32;
  /** Tokens of pending callouts whose response comes back to this context. */
  private pendingTokens: u32[] | null = null;

  constructor(context_id_: u32) {
    this.context_id = context_id_;
  }

  /** Makes this the context that following host calls act on, until the callback returns. */
  setEffectiveContext(): WasmResultValues {
    return setEffectiveContext(this.context_id);
  }

  /** Resumes this context's request (proxy-runtime resumed the current context's, whichever it was). */
  continueRequest(): void {
    let result = setEffectiveContext(this.context_id);
    if (result == WasmResultValues.Ok) result = continueStream(StreamType.HttpRequest);
    reportFailure("continueRequest", result);
  }

  /** The context is finishing (a root: the plugin is shutting down; false = finish later with done()). */
  onDone(): bool {
    return true;
  }

  /** Last callback: the host forgets the context. */
  onDelete(): void {}

  /** @internal Remembers a callout whose response will come back to this context. */
  trackCallout(token: u32): void {
    let tokens = this.pendingTokens;
    if (tokens === null) this.pendingTokens = tokens = new Array<u32>();
    tokens.push(token);
  }

  /** @internal The response of `token` arrived. */
  untrackCallout(token: u32): void {
    const tokens = this.pendingTokens;
    if (tokens === null) return;
    const i = tokens.indexOf(token);
    if (i >= 0) tokens.splice(i, 1);
  }

  /** @internal The context is gone: its callouts' responses will never be delivered (the SDK drops them). */
  forgetCallouts(): void {
    const tokens = this.pendingTokens;
    if (tokens === null) return;
    for (let i = 0, n = tokens.length; i < n; i++) httpCallbacks.delete(unchecked(tokens[i]));
    this.pendingTokens = null;
  }
}

/**
 * The plugin: one per plugin configuration in each worker's VM. Subclass it, override
 * createContext to create your stream contexts, and register a factory for it with
 * registerRootContext.
 */
export class RootContext extends BaseContext {
  private configuration_: string = "";

  constructor(context_id: u32) {
    super(context_id);
  }

  /** The plugin configuration as read by onConfigure ("" if none, or if onConfigure was overridden without super). */
  getConfiguration(): string {
    return this.configuration_;
  }

  /** A context for a new HTTP stream. The default passes the stream through untouched. */
  createContext(context_id: u32): Context {
    return new Context(context_id, this);
  }

  /** Never called: Envoy does not call proxy_validate_configuration (validate in onConfigure). */
  validateConfiguration(configuration_size: usize): bool {
    return true;
  }

  /**
   * Reads the plugin configuration (UTF-8) for getConfiguration. Override it and call
   * super.onConfigure(configuration_size) first; return false to reject the configuration.
   */
  onConfigure(configuration_size: u32): bool {
    if (configuration_size == 0) return true;
    const text = getPluginConfigurationString();
    if (text === null) {
      reportFailure("reading the plugin configuration", lastWasmResult());
      return false;
    }
    this.configuration_ = text;
    return true;
  }

  /** proxy_on_vm_start; false fails the VM. */
  onStart(vm_configuration_size: usize): bool {
    return true;
  }

  /** Every tick period (set_tick_period_milliseconds). */
  onTick(): void {}

  /** An item was enqueued on a queue this root registered. */
  onQueueReady(token: u32): void {}

  /** Plugin shutdown: calls the callbacks of this root's pending httpCalls with no response, as proxy-runtime did. */
  onDone(): bool {
    this.cancelPendingRequests();
    return true;
  }

  /** Completes a shutdown that onDone postponed by returning false (proxy-runtime's did nothing). */
  done(): void {
    let result = setEffectiveContext(this.context_id);
    if (result == WasmResultValues.Ok) result = sdkDone();
    reportFailure("done", result);
  }

  /**
   * Calls the callback of every httpCall made through this root and still pending with 0 headers,
   * 0 body and 0 trailers, with its origin context made effective; their responses, if they come,
   * are then ignored (the ABI has no way to cancel an HTTP callout).
   */
  cancelPendingRequests(): void {
    const tokens = httpCallbacks.keys();
    for (let i = 0, n = tokens.length; i < n; i++) {
      const token = unchecked(tokens[i]);
      if (!httpCallbacks.has(token) || httpCallbacks.get(token).caller !== this) continue;
      const call = takeHttpCallback(token)!;
      setEffectiveContext(call.origin_context.context_id);
      call.cb(call.origin_context, 0, 0, 0);
    }
  }

  /**
   * Sends an HTTP request to the Envoy cluster `cluster` (headers must include :method, :path and
   * :authority). When the response arrives, `cb` runs with `origin_context` made effective, so
   * stream_context and continue_request act on that stream; headers is 0 if the call failed
   * (reset; see get_status). Timeouts arrive as Envoy's 504 response. If the origin stream ends
   * first, `cb` is not called. `timeout_milliseconds` 0 means no timeout.
   */
  httpCall(
    cluster: string, headers: Headers, body: ArrayBuffer, trailers: Headers, timeout_milliseconds: u32,
    origin_context: BaseContext, cb: HttpCallbackFunction,
  ): WasmResultValues {
    const token = httpCallBytesFrom(
      origin_context.context_id, cluster, pairsToBytes(headers), body, pairsToBytes(trailers), timeout_milliseconds,
    );
    if (token == 0) return lastWasmResult();
    const call = new HttpCallback(origin_context, cb);
    call.caller = this;
    httpCallbacks.set(token, call);
    origin_context.trackCallout(token);
    return WasmResultValues.Ok;
  }

  /** A response for one of this root's httpCalls: runs its callback (the origin is already effective). */
  onHttpCallResponse(token: u32, headers: u32, body_size: u32, trailers: u32): void {
    const call = takeHttpCallback(token);
    if (call !== null) call.cb(call.origin_context, headers, body_size, trailers);
  }
}

/** Removes and returns the pending callout `token`, or null. */
function takeHttpCallback(token: u32): HttpCallback | null {
  if (!httpCallbacks.has(token)) return null;
  const call = httpCallbacks.get(token);
  httpCallbacks.delete(token);
  call.origin_context.untrackCallout(token);
  return call;
}

/**
 * @internal Routes a callout response (delivered by the SDK to the origin's adapter, with the
 * origin made effective) to the root context that made the call.
 */
export function deliverHttpCallResponse(token: u32, headers: u32, body_size: u32, trailers: u32): void {
  if (!httpCallbacks.has(token)) return;
  const caller = httpCallbacks.get(token).caller;
  if (caller !== null) caller.onHttpCallResponse(token, headers, body_size, trailers);
  // An override of onHttpCallResponse that does not call super must not leave the entry behind.
  takeHttpCallback(token);
}

/** @internal Pending httpCall callbacks (for tests and leak checks). */
export function pendingHttpCallbacks(): i32 {
  return httpCallbacks.size;
}

/**
 * One HTTP stream. Callbacks return Envoy's status values, passed to Envoy unchanged
 * (proxy-wasm-abi.md §3.6): e.g. StopIteration from onRequestHeaders becomes
 * StopAllIterationAndWatermark, so no body callback arrives until continue_request().
 */
export class Context extends BaseContext {
  root_context: RootContext;

  constructor(context_id_: u32, root_context: RootContext) {
    super(context_id_);
    this.root_context = root_context;
  }

  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    return FilterHeadersStatusValues.Continue;
  }
  /** Never called: Envoy has no metadata callbacks for ABI 0.2.1 modules to act on (treated as Continue). */
  onRequestMetadata(a: u32): FilterMetadataStatusValues {
    return FilterMetadataStatusValues.Continue;
  }
  onRequestBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues {
    return FilterDataStatusValues.Continue;
  }
  onRequestTrailers(a: u32): FilterTrailersStatusValues {
    return FilterTrailersStatusValues.Continue;
  }
  onResponseHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    return FilterHeadersStatusValues.Continue;
  }
  /** Never called (see onRequestMetadata). */
  onResponseMetadata(a: u32): FilterMetadataStatusValues {
    return FilterMetadataStatusValues.Continue;
  }
  onResponseBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues {
    return FilterDataStatusValues.Continue;
  }
  onResponseTrailers(s: u32): FilterTrailersStatusValues {
    return FilterTrailersStatusValues.Continue;
  }
  /** Access-log phase. Envoy calls it before onDone and onDelete (proxy-runtime's comment said after). */
  onLog(): void {}

  // TCP callbacks: never called through this layer — a proxy-runtime Context served HTTP and TCP at
  // once, while the SDK decides at creation which one a context is; port network filters to the
  // SDK's TcpContext (docs/migrating-from-proxy-runtime.md).
  onNewConnection(): FilterStatusValues {
    return FilterStatusValues.Continue;
  }
  onDownstreamData(size: usize, end: bool): FilterStatusValues {
    return FilterStatusValues.Continue;
  }
  onUpstreamData(size: usize, end: bool): FilterStatusValues {
    return FilterStatusValues.Continue;
  }
  onDownstreamConnectionClose(t: PeerTypeValues): void {}
  onUpstreamConnectionClose(t: PeerTypeValues): void {}
}
