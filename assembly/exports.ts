// The ABI callbacks Envoy calls (proxy-wasm-abi.md §3), with their exact Wasm signatures:
// u32/bool lower to i32. A filter re-exports this module from its entry file:
//   export * from "proxy-wasm-as/assembly/exports";
// Kept apart from the public API (assembly/index.ts) because exporting classes from an entry file
// would export their methods too.
// Not exported, on purpose: proxy_on_request_metadata / proxy_on_response_metadata (ABI 0.2.1
// has no metadata map to read and Envoy treats the result as Continue, which is also what it does
// when they are missing), proxy_validate_configuration (looked up by the host, never called), and
// Envoy's own envoy_on_resolve_dns / envoy_on_stats_update (not proxy-wasm ABI).
import "./runtime/abort";
import { Action, FilterDataStatus, FilterHeadersStatus, FilterStatus, FilterTrailersStatus, PeerType } from "./abi/enums";
import { proxy_grpc_cancel } from "./abi/imports";
import { allocate } from "./runtime/memory";
// The collector's free lists (runtime/block-pool.ts), exported only so that AssemblyScript
// compiles them: host/build.ts points the collector at them and removes these two exports (which
// then lets Binaryen inline them). A module built with plain asc keeps them, uncalled.
export { poolAlloc as __pool_alloc, poolFree as __pool_free } from "./runtime/block-pool";
import { activateContext, enterCallback } from "./runtime/state";
import { calloutOrigin, isGrpcCallToken, isGrpcStreamToken, untrackCallout } from "./runtime/callouts";
import { Context } from "./context/contexts";
import {
  createRootContext, createStreamContext, findContext, findHttpContext, findRootContext, findTcpContext, forgetContext,
} from "./context/registry";

/** The ABI marker (§1.1): Envoy reads the first such export to pick the ABI. Never called. */
export function proxy_abi_version_0_2_1(): void {}

/** The allocator the host fills with returned data (§2.1). Envoy looks up `malloc` first. */
export function malloc(size: usize): usize {
  return allocate(size);
}
export { malloc as proxy_on_memory_allocate };

// Each group of callbacks goes through one dispatcher (a switch on the event), so that each export
// is a few bytes (module size matters: the add-header example's budget is 8 KiB).

// ---- lifecycle (§3.2) ----

export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  enterCallback(contextId);
  if (parentContextId == 0) createRootContext(contextId);
  else createStreamContext(contextId, parentContextId);
}

const enum RootEvent {
  VmStart,
  Configure,
  Tick,
  QueueReady,
  ForeignFunction,
}

function onRootEvent(event: RootEvent, rootContextId: u32, a: u32, b: u32): bool {
  enterCallback(rootContextId);
  const root = findRootContext(rootContextId);
  if (root === null) return true;
  switch (event) {
    case RootEvent.VmStart: return root.onVmStart(a);
    case RootEvent.Configure: return root.onConfigure(a);
    case RootEvent.Tick: root.onTick(); break;
    case RootEvent.QueueReady: root.onQueueReady(a); break;
    default: root.onForeignFunction(a, b);
  }
  return true;
}

/** False fails the VM (Envoy: "Wasm VM failed to start"). */
export function proxy_on_vm_start(rootContextId: u32, vmConfigurationSize: u32): bool {
  return onRootEvent(RootEvent.VmStart, rootContextId, vmConfigurationSize, 0);
}

/** False rejects the plugin configuration. */
export function proxy_on_configure(rootContextId: u32, pluginConfigurationSize: u32): bool {
  return onRootEvent(RootEvent.Configure, rootContextId, pluginConfigurationSize, 0);
}

export function proxy_on_tick(rootContextId: u32): void {
  onRootEvent(RootEvent.Tick, rootContextId, 0, 0);
}

export function proxy_on_queue_ready(rootContextId: u32, queueId: u32): void {
  onRootEvent(RootEvent.QueueReady, rootContextId, queueId, 0);
}

export function proxy_on_foreign_function(rootContextId: u32, functionId: u32, argumentsSize: u32): void {
  onRootEvent(RootEvent.ForeignFunction, rootContextId, functionId, argumentsSize);
}

/** The return value matters for root contexts only (false = finish later with done()). */
export function proxy_on_done(contextId: u32): bool {
  enterCallback(contextId);
  const http = findHttpContext(contextId);
  if (http !== null) {
    http.onDone();
    return true;
  }
  const root = findRootContext(contextId);
  if (root !== null) return root.onDone();
  const tcp = findTcpContext(contextId);
  if (tcp !== null) tcp.onDone();
  return true;
}

export function proxy_on_log(contextId: u32): void {
  enterCallback(contextId);
  const http = findHttpContext(contextId);
  if (http !== null) {
    http.onLog();
    return;
  }
  const tcp = findTcpContext(contextId);
  if (tcp !== null) tcp.onLog();
}

/** Last callback of any context: its state is dropped here, never in on_done (§6.3). */
export function proxy_on_delete(contextId: u32): void {
  enterCallback(contextId);
  const ctx = findContext(contextId);
  if (ctx === null) return;
  ctx.onDelete();
  forgetContext(contextId);
}

// ---- HTTP streams (§3.3) ----

const enum HttpEvent {
  RequestHeaders,
  RequestBody,
  RequestTrailers,
  ResponseHeaders,
  ResponseBody,
  ResponseTrailers,
}

/**
 * Action → Envoy status (§3.6). Continue is 0 everywhere, and Pause is 1 everywhere, which is the
 * status each callback needs: headers StopIteration (Envoy promotes it to
 * StopAllIterationAndWatermark), bodies StopIterationAndBuffer, trailers StopIteration. The value
 * is passed through as is, so a context may also return a raw FilterHeadersStatus /
 * FilterDataStatus / FilterTrailersStatus (the proxy-runtime compatibility layer does: its filters
 * return e.g. StopIterationNoBuffer, which Envoy treats differently from StopIterationAndBuffer).
 */
function onHttpEvent(event: HttpEvent, contextId: u32, a: u32, endOfStream: bool): i32 {
  enterCallback(contextId);
  const ctx = findHttpContext(contextId);
  if (ctx === null) return Action.Continue;
  let action: Action;
  switch (event) {
    case HttpEvent.RequestHeaders: action = ctx.onRequestHeaders(a, endOfStream); break;
    case HttpEvent.RequestBody: action = ctx.onRequestBody(a, endOfStream); break;
    case HttpEvent.RequestTrailers: action = ctx.onRequestTrailers(a); break;
    case HttpEvent.ResponseHeaders: action = ctx.onResponseHeaders(a, endOfStream); break;
    case HttpEvent.ResponseBody: action = ctx.onResponseBody(a, endOfStream); break;
    default: action = ctx.onResponseTrailers(a);
  }
  return action;
}

export function proxy_on_request_headers(contextId: u32, numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
  return onHttpEvent(HttpEvent.RequestHeaders, contextId, numHeaders, endOfStream);
}

export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: bool): FilterDataStatus {
  return onHttpEvent(HttpEvent.RequestBody, contextId, bodySize, endOfStream);
}

export function proxy_on_request_trailers(contextId: u32, numTrailers: u32): FilterTrailersStatus {
  return onHttpEvent(HttpEvent.RequestTrailers, contextId, numTrailers, false);
}

export function proxy_on_response_headers(contextId: u32, numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
  return onHttpEvent(HttpEvent.ResponseHeaders, contextId, numHeaders, endOfStream);
}

export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: bool): FilterDataStatus {
  return onHttpEvent(HttpEvent.ResponseBody, contextId, bodySize, endOfStream);
}

export function proxy_on_response_trailers(contextId: u32, numTrailers: u32): FilterTrailersStatus {
  return onHttpEvent(HttpEvent.ResponseTrailers, contextId, numTrailers, false);
}

// ---- TCP connections (§3.4): Pause → StopIteration (1) ----

const enum TcpEvent {
  NewConnection,
  DownstreamData,
  UpstreamData,
  DownstreamClose,
  UpstreamClose,
}

function onTcpEvent(event: TcpEvent, contextId: u32, a: u32, endOfStream: bool): i32 {
  enterCallback(contextId);
  const ctx = findTcpContext(contextId);
  if (ctx === null) return Action.Continue;
  let action = Action.Continue;
  switch (event) {
    case TcpEvent.NewConnection: action = ctx.onNewConnection(); break;
    case TcpEvent.DownstreamData: action = ctx.onDownstreamData(a, endOfStream); break;
    case TcpEvent.UpstreamData: action = ctx.onUpstreamData(a, endOfStream); break;
    case TcpEvent.DownstreamClose: ctx.onDownstreamConnectionClose(<PeerType>a); break;
    default: ctx.onUpstreamConnectionClose(<PeerType>a);
  }
  return action == Action.Continue ? 0 : 1;
}

export function proxy_on_new_connection(contextId: u32): FilterStatus {
  return onTcpEvent(TcpEvent.NewConnection, contextId, 0, false);
}

export function proxy_on_downstream_data(contextId: u32, dataSize: u32, endOfStream: bool): FilterStatus {
  return onTcpEvent(TcpEvent.DownstreamData, contextId, dataSize, endOfStream);
}

export function proxy_on_upstream_data(contextId: u32, dataSize: u32, endOfStream: bool): FilterStatus {
  return onTcpEvent(TcpEvent.UpstreamData, contextId, dataSize, endOfStream);
}

export function proxy_on_downstream_connection_close(contextId: u32, peerType: u32): void {
  onTcpEvent(TcpEvent.DownstreamClose, contextId, peerType, false);
}

export function proxy_on_upstream_connection_close(contextId: u32, peerType: u32): void {
  onTcpEvent(TcpEvent.UpstreamClose, contextId, peerType, false);
}

// ---- callout results (§3.5): the host passes the root id; route to the calling context ----

/**
 * The context that made callout `token`, made effective; null (result dropped) if the SDK does
 * not know the token or that context is gone — on the SDK's side or the host's.
 */
function calloutTarget(token: u32): Context | null {
  const originId = calloutOrigin(token);
  if (originId == 0) return null;
  const origin = findContext(originId);
  if (origin === null || !activateContext(originId)) {
    untrackCallout(token);
    // A stream whose receiver is gone would keep delivering: stop it.
    if (isGrpcStreamToken(token)) proxy_grpc_cancel(token);
    return null;
  }
  return origin;
}

const enum CalloutEvent {
  HttpCallResponse,
  GrpcInitialMetadata,
  GrpcMessage,
  GrpcTrailingMetadata,
  GrpcClose,
}

function onCalloutEvent(event: CalloutEvent, rootContextId: u32, token: u32, a: u32, b: u32, c: u32): void {
  enterCallback(rootContextId);
  const ctx = calloutTarget(token);
  // The last result of a callout: forget the token whether or not anyone receives it. A unary
  // gRPC call ends with its response message (success) or a close (failure), never both (Envoy
  // GrpcCallClientHandler: onSuccess → on_grpc_receive only, onFailure → on_grpc_close).
  if (
    event == CalloutEvent.HttpCallResponse || event == CalloutEvent.GrpcClose ||
    (event == CalloutEvent.GrpcMessage && isGrpcCallToken(token))
  ) untrackCallout(token);
  if (ctx === null) return;
  switch (event) {
    case CalloutEvent.HttpCallResponse: ctx.onHttpCallResponse(token, a, b, c); break;
    case CalloutEvent.GrpcInitialMetadata: ctx.onGrpcReceiveInitialMetadata(token, a); break;
    case CalloutEvent.GrpcMessage: ctx.onGrpcReceive(token, a); break;
    case CalloutEvent.GrpcTrailingMetadata: ctx.onGrpcReceiveTrailingMetadata(token, a); break;
    default: ctx.onGrpcClose(token, a);
  }
}

export function proxy_on_http_call_response(rootContextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  onCalloutEvent(CalloutEvent.HttpCallResponse, rootContextId, token, numHeaders, bodySize, numTrailers);
}

export function proxy_on_grpc_receive_initial_metadata(rootContextId: u32, token: u32, numElements: u32): void {
  onCalloutEvent(CalloutEvent.GrpcInitialMetadata, rootContextId, token, numElements, 0, 0);
}

export function proxy_on_grpc_receive(rootContextId: u32, token: u32, messageSize: u32): void {
  onCalloutEvent(CalloutEvent.GrpcMessage, rootContextId, token, messageSize, 0, 0);
}

export function proxy_on_grpc_receive_trailing_metadata(rootContextId: u32, token: u32, numElements: u32): void {
  onCalloutEvent(CalloutEvent.GrpcTrailingMetadata, rootContextId, token, numElements, 0, 0);
}

export function proxy_on_grpc_close(rootContextId: u32, token: u32, statusCode: u32): void {
  onCalloutEvent(CalloutEvent.GrpcClose, rootContextId, token, statusCode, 0, 0);
}
