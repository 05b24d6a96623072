// The classes filter authors extend (the Rust/Go SDK model, sdk-anchors.md §6.1): a RootContext per
// plugin, an HttpContext per HTTP stream, a TcpContext per TCP connection. Every callback has a
// no-op default. Methods act on their own context: when called from another context's callback
// (e.g. resuming a paused stream from RootContext.onTick or onQueueReady) they first make it the
// effective context (it stays effective for the rest of the callback, so free functions called
// next act on it too), and they refuse (BadArgument / null) rather than act on the wrong stream if
// the host no longer knows it.
import { Action, BufferType, GrpcStatus, MapType, PeerType, StreamType, WasmResult } from "../abi/enums";
import { Header, HeaderBytes } from "../codec/pairs";
import {
  addHeaderMapValue, addHeaderMapValueBytes, getHeaderMapPairs, getHeaderMapPairsBytes, getHeaderMapValue,
  getHeaderMapValueBytes, removeHeaderMapValue, replaceHeaderMapValue, replaceHeaderMapValueBytes, setHeaderMapPairs,
  setHeaderMapPairsBytes,
} from "../api/headers";
import {
  BUFFER_END, appendBufferBytes, appendBufferString, getBufferBytes, getBufferString, prependBufferBytes,
  prependBufferString, replaceBufferBytes, replaceBufferString,
} from "../api/buffers";
import { closeStream, continueStream, done, sendLocalResponse, sendLocalResponseBytes } from "../api/stream";
import { grpcCallFrom, grpcStreamFrom, httpCallFrom } from "../api/callouts";
import { getPluginConfiguration, getPluginConfigurationString, getVmConfiguration } from "../api/config";
import { setTickPeriodMilliseconds } from "../api/time";
import { activateContext } from "../runtime/state";

/** What every context can do: make callouts and receive their results. */
export class Context {
  /** The host's id for this context; set by the SDK before any callback. */
  contextId: u32 = 0;
  /** SDK bookkeeping: the next context in the same IdTable bucket (a pinned object's address). */
  nextInTable: usize = 0;

  /**
   * Result of an httpCall made by this context. `numHeaders` is 0 when the call failed (reset,
   * overflow: getStatus() gives 11 "reset"); timeouts arrive as a 504 response. Read the response
   * with getHttpCallResponseHeaders/Body/Trailers.
   */
  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {}
  /** Initial metadata of a gRPC stream (getGrpcReceiveInitialMetadata()); unary calls have none. */
  onGrpcReceiveInitialMetadata(token: u32, numElements: u32): void {}
  /**
   * A message arrived; read it with getGrpcReceiveMessage(). For a unary call this is the
   * response and the end of the call: Envoy sends no onGrpcClose after a successful one.
   */
  onGrpcReceive(token: u32, messageSize: u32): void {}
  onGrpcReceiveTrailingMetadata(token: u32, numElements: u32): void {}
  /**
   * The stream ended, or the unary call failed, with `statusCode` (GrpcStatus); getStatus() has
   * the message.
   */
  onGrpcClose(token: u32, statusCode: u32): void {}
  /** Last callback of the context; the SDK forgets it afterwards (and drops its callout results). */
  onDelete(): void {}

  /** httpCall (api/callouts.ts) whose response comes back to this context. Token, or 0. */
  httpCall(
    cluster: string, headers: Header[], body: ArrayBuffer | null = null, trailers: Header[] | null = null,
    timeoutMilliseconds: u32 = 0,
  ): u32 {
    return httpCallFrom(this.contextId, cluster, headers, body, trailers, timeoutMilliseconds);
  }

  /** grpcCall (api/callouts.ts) whose results come back to this context. Token, or 0. */
  grpcCall(
    service: string, serviceName: string, method: string, initialMetadata: Header[] | null, message: ArrayBuffer | null,
    timeoutMilliseconds: u32,
  ): u32 {
    return grpcCallFrom(this.contextId, service, serviceName, method, initialMetadata, message, timeoutMilliseconds);
  }

  /** grpcStream (api/callouts.ts) whose messages come back to this context. Token, or 0. */
  grpcStream(service: string, serviceName: string, method: string, initialMetadata: Header[] | null = null): u32 {
    return grpcStreamFrom(this.contextId, service, serviceName, method, initialMetadata);
  }

  /** Makes this the effective context if it is not; false if the host does not know it any more. */
  activate(): bool {
    return activateContext(this.contextId);
  }
}

/**
 * The plugin: one per plugin configuration in each VM (each worker has its own VM). Creates the
 * stream contexts and receives plugin-wide events.
 */
export class RootContext extends Context {
  /** `proxy_on_vm_start`; false fails the VM. May run once per plugin sharing this VM. */
  onVmStart(vmConfigurationSize: u32): bool {
    return true;
  }
  /**
   * `proxy_on_configure`: read getPluginConfiguration() here (it is unavailable elsewhere). False
   * rejects the configuration (Envoy refuses the listener/xDS update, or fails closed).
   */
  onConfigure(pluginConfigurationSize: u32): bool {
    return true;
  }
  /** Every tick period (setTickPeriodMilliseconds). */
  onTick(): void {}
  /** An item was enqueued on a queue this plugin registered. */
  onQueueReady(queueId: u32): void {}
  /** The host called this plugin's foreign function; args via getForeignFunctionArguments(). */
  onForeignFunction(functionId: u32, argumentsSize: u32): void {}
  /** Plugin shutdown. Return false to finish later with done(). */
  onDone(): bool {
    return true;
  }

  /** Context for a new HTTP stream; null lets the stream pass through untouched. */
  newHttpContext(contextId: u32): HttpContext | null {
    return null;
  }
  /** Context for a new TCP connection (network filter); null lets it pass through untouched. */
  newTcpContext(contextId: u32): TcpContext | null {
    return null;
  }

  getPluginConfiguration(): ArrayBuffer | null {
    return getPluginConfiguration();
  }
  getPluginConfigurationString(): string | null {
    return getPluginConfigurationString();
  }
  getVmConfiguration(): ArrayBuffer | null {
    return getVmConfiguration();
  }
  /** Envoy applies the period to the caller's root context whichever context calls. */
  setTickPeriodMilliseconds(periodMilliseconds: u32): WasmResult {
    return setTickPeriodMilliseconds(periodMilliseconds);
  }
  /** Completes a shutdown that onDone postponed. */
  done(): WasmResult {
    return activateContext(this.contextId) ? done() : WasmResult.BadArgument;
  }
}

/**
 * One HTTP stream. Callbacks return an Action:
 * - onRequestHeaders/onResponseHeaders: Pause = StopIteration, which Envoy turns into
 *   StopAllIterationAndWatermark (proxy-wasm-abi.md §3.6): no body or trailer callbacks for that
 *   direction until continueRequest()/continueResponse() (unless the plugin config sets
 *   allow_on_headers_stop_iteration, Envoy ≥ 1.35).
 * - onRequestBody/onResponseBody: Pause = StopIterationAndBuffer: Envoy keeps buffering, and the
 *   next body callback sees the whole body so far (`bodySize` is cumulative); return Continue at
 *   endOfStream to pass the (possibly rewritten) body on. Buffer limits apply (413/500 on overflow).
 * - onRequestTrailers/onResponseTrailers: Pause = StopIteration.
 * After sendLocalResponse the callback's result is ignored (Envoy forces a stop).
 * Envoy calls onLog, then onDone, then onDelete when the stream ends (§6.3).
 */
export class HttpContext extends Context {
  /** The root context that created this stream. */
  rootContextId: u32 = 0;

  onRequestHeaders(numHeaders: u32, endOfStream: bool): Action {
    return Action.Continue;
  }
  onRequestBody(bodySize: u32, endOfStream: bool): Action {
    return Action.Continue;
  }
  onRequestTrailers(numTrailers: u32): Action {
    return Action.Continue;
  }
  onResponseHeaders(numHeaders: u32, endOfStream: bool): Action {
    return Action.Continue;
  }
  onResponseBody(bodySize: u32, endOfStream: bool): Action {
    return Action.Continue;
  }
  onResponseTrailers(numTrailers: u32): Action {
    return Action.Continue;
  }
  /** Access-log phase: request and response are complete (read properties like response.code). */
  onLog(): void {}
  /** The stream is finished; onDelete follows immediately. */
  onDone(): void {}

  // ---- request headers ----
  getRequestHeader(name: string): string | null {
    return activateContext(this.contextId) ? getHeaderMapValue(MapType.HttpRequestHeaders, name) : null;
  }
  getRequestHeaderBytes(name: ArrayBuffer): ArrayBuffer | null {
    return activateContext(this.contextId) ? getHeaderMapValueBytes(MapType.HttpRequestHeaders, name) : null;
  }
  getRequestHeaders(): Header[] {
    return activateContext(this.contextId) ? getHeaderMapPairs(MapType.HttpRequestHeaders) : [];
  }
  getRequestHeadersBytes(): HeaderBytes[] {
    return activateContext(this.contextId) ? getHeaderMapPairsBytes(MapType.HttpRequestHeaders) : [];
  }
  setRequestHeaders(headers: Header[]): WasmResult {
    return activateContext(this.contextId) ? setHeaderMapPairs(MapType.HttpRequestHeaders, headers) : WasmResult.BadArgument;
  }
  setRequestHeadersBytes(headers: HeaderBytes[]): WasmResult {
    return activateContext(this.contextId) ? setHeaderMapPairsBytes(MapType.HttpRequestHeaders, headers) : WasmResult.BadArgument;
  }
  addRequestHeader(name: string, value: string): WasmResult {
    return activateContext(this.contextId) ? addHeaderMapValue(MapType.HttpRequestHeaders, name, value) : WasmResult.BadArgument;
  }
  addRequestHeaderBytes(name: ArrayBuffer, value: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? addHeaderMapValueBytes(MapType.HttpRequestHeaders, name, value) : WasmResult.BadArgument;
  }
  replaceRequestHeader(name: string, value: string): WasmResult {
    return activateContext(this.contextId) ? replaceHeaderMapValue(MapType.HttpRequestHeaders, name, value) : WasmResult.BadArgument;
  }
  replaceRequestHeaderBytes(name: ArrayBuffer, value: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? replaceHeaderMapValueBytes(MapType.HttpRequestHeaders, name, value) : WasmResult.BadArgument;
  }
  removeRequestHeader(name: string): WasmResult {
    return activateContext(this.contextId) ? removeHeaderMapValue(MapType.HttpRequestHeaders, name) : WasmResult.BadArgument;
  }

  // ---- response headers ----
  getResponseHeader(name: string): string | null {
    return activateContext(this.contextId) ? getHeaderMapValue(MapType.HttpResponseHeaders, name) : null;
  }
  getResponseHeaderBytes(name: ArrayBuffer): ArrayBuffer | null {
    return activateContext(this.contextId) ? getHeaderMapValueBytes(MapType.HttpResponseHeaders, name) : null;
  }
  getResponseHeaders(): Header[] {
    return activateContext(this.contextId) ? getHeaderMapPairs(MapType.HttpResponseHeaders) : [];
  }
  getResponseHeadersBytes(): HeaderBytes[] {
    return activateContext(this.contextId) ? getHeaderMapPairsBytes(MapType.HttpResponseHeaders) : [];
  }
  setResponseHeaders(headers: Header[]): WasmResult {
    return activateContext(this.contextId) ? setHeaderMapPairs(MapType.HttpResponseHeaders, headers) : WasmResult.BadArgument;
  }
  setResponseHeadersBytes(headers: HeaderBytes[]): WasmResult {
    return activateContext(this.contextId) ? setHeaderMapPairsBytes(MapType.HttpResponseHeaders, headers) : WasmResult.BadArgument;
  }
  addResponseHeader(name: string, value: string): WasmResult {
    return activateContext(this.contextId) ? addHeaderMapValue(MapType.HttpResponseHeaders, name, value) : WasmResult.BadArgument;
  }
  addResponseHeaderBytes(name: ArrayBuffer, value: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? addHeaderMapValueBytes(MapType.HttpResponseHeaders, name, value) : WasmResult.BadArgument;
  }
  replaceResponseHeader(name: string, value: string): WasmResult {
    return activateContext(this.contextId) ? replaceHeaderMapValue(MapType.HttpResponseHeaders, name, value) : WasmResult.BadArgument;
  }
  replaceResponseHeaderBytes(name: ArrayBuffer, value: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? replaceHeaderMapValueBytes(MapType.HttpResponseHeaders, name, value) : WasmResult.BadArgument;
  }
  removeResponseHeader(name: string): WasmResult {
    return activateContext(this.contextId) ? removeHeaderMapValue(MapType.HttpResponseHeaders, name) : WasmResult.BadArgument;
  }

  // ---- trailers (request trailers can be added from onRequestBody at endOfStream; same for responses) ----
  getRequestTrailer(name: string): string | null {
    return activateContext(this.contextId) ? getHeaderMapValue(MapType.HttpRequestTrailers, name) : null;
  }
  getRequestTrailers(): Header[] {
    return activateContext(this.contextId) ? getHeaderMapPairs(MapType.HttpRequestTrailers) : [];
  }
  setRequestTrailers(trailers: Header[]): WasmResult {
    return activateContext(this.contextId) ? setHeaderMapPairs(MapType.HttpRequestTrailers, trailers) : WasmResult.BadArgument;
  }
  addRequestTrailer(name: string, value: string): WasmResult {
    return activateContext(this.contextId) ? addHeaderMapValue(MapType.HttpRequestTrailers, name, value) : WasmResult.BadArgument;
  }
  replaceRequestTrailer(name: string, value: string): WasmResult {
    return activateContext(this.contextId) ? replaceHeaderMapValue(MapType.HttpRequestTrailers, name, value) : WasmResult.BadArgument;
  }
  removeRequestTrailer(name: string): WasmResult {
    return activateContext(this.contextId) ? removeHeaderMapValue(MapType.HttpRequestTrailers, name) : WasmResult.BadArgument;
  }
  getResponseTrailer(name: string): string | null {
    return activateContext(this.contextId) ? getHeaderMapValue(MapType.HttpResponseTrailers, name) : null;
  }
  getResponseTrailers(): Header[] {
    return activateContext(this.contextId) ? getHeaderMapPairs(MapType.HttpResponseTrailers) : [];
  }
  setResponseTrailers(trailers: Header[]): WasmResult {
    return activateContext(this.contextId) ? setHeaderMapPairs(MapType.HttpResponseTrailers, trailers) : WasmResult.BadArgument;
  }
  addResponseTrailer(name: string, value: string): WasmResult {
    return activateContext(this.contextId) ? addHeaderMapValue(MapType.HttpResponseTrailers, name, value) : WasmResult.BadArgument;
  }
  replaceResponseTrailer(name: string, value: string): WasmResult {
    return activateContext(this.contextId) ? replaceHeaderMapValue(MapType.HttpResponseTrailers, name, value) : WasmResult.BadArgument;
  }
  removeResponseTrailer(name: string): WasmResult {
    return activateContext(this.contextId) ? removeHeaderMapValue(MapType.HttpResponseTrailers, name) : WasmResult.BadArgument;
  }

  // ---- bodies (available in the body callbacks, or while paused with a buffered body) ----
  getRequestBody(start: u32 = 0, maxSize: u32 = BUFFER_END): ArrayBuffer | null {
    return activateContext(this.contextId) ? getBufferBytes(BufferType.HttpRequestBody, start, maxSize) : null;
  }
  getRequestBodyString(start: u32 = 0, maxSize: u32 = BUFFER_END): string | null {
    return activateContext(this.contextId) ? getBufferString(BufferType.HttpRequestBody, start, maxSize) : null;
  }
  appendRequestBody(data: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? appendBufferBytes(BufferType.HttpRequestBody, data) : WasmResult.BadArgument;
  }
  appendRequestBodyString(text: string): WasmResult {
    return activateContext(this.contextId) ? appendBufferString(BufferType.HttpRequestBody, text) : WasmResult.BadArgument;
  }
  prependRequestBody(data: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? prependBufferBytes(BufferType.HttpRequestBody, data) : WasmResult.BadArgument;
  }
  prependRequestBodyString(text: string): WasmResult {
    return activateContext(this.contextId) ? prependBufferString(BufferType.HttpRequestBody, text) : WasmResult.BadArgument;
  }
  replaceRequestBody(data: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? replaceBufferBytes(BufferType.HttpRequestBody, data) : WasmResult.BadArgument;
  }
  replaceRequestBodyString(text: string): WasmResult {
    return activateContext(this.contextId) ? replaceBufferString(BufferType.HttpRequestBody, text) : WasmResult.BadArgument;
  }
  getResponseBody(start: u32 = 0, maxSize: u32 = BUFFER_END): ArrayBuffer | null {
    return activateContext(this.contextId) ? getBufferBytes(BufferType.HttpResponseBody, start, maxSize) : null;
  }
  getResponseBodyString(start: u32 = 0, maxSize: u32 = BUFFER_END): string | null {
    return activateContext(this.contextId) ? getBufferString(BufferType.HttpResponseBody, start, maxSize) : null;
  }
  appendResponseBody(data: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? appendBufferBytes(BufferType.HttpResponseBody, data) : WasmResult.BadArgument;
  }
  appendResponseBodyString(text: string): WasmResult {
    return activateContext(this.contextId) ? appendBufferString(BufferType.HttpResponseBody, text) : WasmResult.BadArgument;
  }
  prependResponseBody(data: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? prependBufferBytes(BufferType.HttpResponseBody, data) : WasmResult.BadArgument;
  }
  prependResponseBodyString(text: string): WasmResult {
    return activateContext(this.contextId) ? prependBufferString(BufferType.HttpResponseBody, text) : WasmResult.BadArgument;
  }
  replaceResponseBody(data: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? replaceBufferBytes(BufferType.HttpResponseBody, data) : WasmResult.BadArgument;
  }
  replaceResponseBodyString(text: string): WasmResult {
    return activateContext(this.contextId) ? replaceBufferString(BufferType.HttpResponseBody, text) : WasmResult.BadArgument;
  }

  // ---- Content-Length: a rewritten body no longer matches it ----
  /** The request's content-length, or -1 if absent or not a decimal number. */
  getRequestContentLength(): i64 {
    return parseContentLength(this.getRequestHeader("content-length"));
  }
  getResponseContentLength(): i64 {
    return parseContentLength(this.getResponseHeader("content-length"));
  }
  /**
   * Call from onRequestHeaders before changing the request body's size: Envoy forwards headers
   * unchanged, so a stale content-length would truncate or stall the body. Without it Envoy sends
   * the body chunked (HTTP/1.1) or as DATA frames (HTTP/2).
   */
  removeRequestContentLength(): WasmResult {
    return this.removeRequestHeader("content-length");
  }
  /** Call from onResponseHeaders before changing the response body's size. */
  removeResponseContentLength(): WasmResult {
    return this.removeResponseHeader("content-length");
  }

  // ---- stream control ----
  /** Resumes the request after a Pause (from another callback: a callout response, a tick). */
  continueRequest(): WasmResult {
    return activateContext(this.contextId) ? continueStream(StreamType.HttpRequest) : WasmResult.BadArgument;
  }
  continueResponse(): WasmResult {
    return activateContext(this.contextId) ? continueStream(StreamType.HttpResponse) : WasmResult.BadArgument;
  }
  /** Resets the stream (Envoy `resetStream()`, details "wasm_close_stream"). */
  closeRequest(): WasmResult {
    return activateContext(this.contextId) ? closeStream(StreamType.HttpRequest) : WasmResult.BadArgument;
  }
  closeResponse(): WasmResult {
    return activateContext(this.contextId) ? closeStream(StreamType.HttpResponse) : WasmResult.BadArgument;
  }
  /** Answers the request from the filter (see sendLocalResponse in api/stream.ts). */
  sendLocalResponse(
    statusCode: u32, details: string, body: string = "", headers: Header[] | null = null,
    grpcStatus: i32 = GrpcStatus.InvalidCode,
  ): WasmResult {
    return activateContext(this.contextId) ? sendLocalResponse(statusCode, details, body, headers, grpcStatus) : WasmResult.BadArgument;
  }
  sendLocalResponseBytes(
    statusCode: u32, details: string, body: ArrayBuffer | null, headers: Header[] | null = null,
    grpcStatus: i32 = GrpcStatus.InvalidCode,
  ): WasmResult {
    return activateContext(this.contextId) ? sendLocalResponseBytes(statusCode, details, body, headers, grpcStatus) : WasmResult.BadArgument;
  }
}

function parseContentLength(value: string | null): i64 {
  if (value === null || value.length == 0 || value.length > 18) return -1;
  let n: i64 = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/**
 * One TCP connection (Envoy network filter `envoy.filters.network.wasm`). Data callbacks return
 * Continue or Pause (= StopIteration: Envoy stops passing data on until continueDownstream()).
 * Envoy calls onDone, then onLog, then onDelete when the connection ends (§6.3).
 */
export class TcpContext extends Context {
  rootContextId: u32 = 0;

  onNewConnection(): Action {
    return Action.Continue;
  }
  /** Data from the client; `dataSize` bytes are readable with getDownstreamData(). */
  onDownstreamData(dataSize: u32, endOfStream: bool): Action {
    return Action.Continue;
  }
  /** Data from the upstream server. */
  onUpstreamData(dataSize: u32, endOfStream: bool): Action {
    return Action.Continue;
  }
  onDownstreamConnectionClose(peerType: PeerType): void {}
  onUpstreamConnectionClose(peerType: PeerType): void {}
  onLog(): void {}
  onDone(): void {}

  getDownstreamData(start: u32 = 0, maxSize: u32 = BUFFER_END): ArrayBuffer | null {
    return activateContext(this.contextId) ? getBufferBytes(BufferType.DownstreamData, start, maxSize) : null;
  }
  appendDownstreamData(data: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? appendBufferBytes(BufferType.DownstreamData, data) : WasmResult.BadArgument;
  }
  prependDownstreamData(data: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? prependBufferBytes(BufferType.DownstreamData, data) : WasmResult.BadArgument;
  }
  replaceDownstreamData(data: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? replaceBufferBytes(BufferType.DownstreamData, data) : WasmResult.BadArgument;
  }
  getUpstreamData(start: u32 = 0, maxSize: u32 = BUFFER_END): ArrayBuffer | null {
    return activateContext(this.contextId) ? getBufferBytes(BufferType.UpstreamData, start, maxSize) : null;
  }
  appendUpstreamData(data: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? appendBufferBytes(BufferType.UpstreamData, data) : WasmResult.BadArgument;
  }
  prependUpstreamData(data: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? prependBufferBytes(BufferType.UpstreamData, data) : WasmResult.BadArgument;
  }
  replaceUpstreamData(data: ArrayBuffer): WasmResult {
    return activateContext(this.contextId) ? replaceBufferBytes(BufferType.UpstreamData, data) : WasmResult.BadArgument;
  }
  /** Resumes reading from the client after a Pause. */
  continueDownstream(): WasmResult {
    return activateContext(this.contextId) ? continueStream(StreamType.Downstream) : WasmResult.BadArgument;
  }
  /** Closes the connection. */
  closeDownstream(): WasmResult {
    return activateContext(this.contextId) ? closeStream(StreamType.Downstream) : WasmResult.BadArgument;
  }
  closeUpstream(): WasmResult {
    return activateContext(this.contextId) ? closeStream(StreamType.Upstream) : WasmResult.BadArgument;
  }
}
