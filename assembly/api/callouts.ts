// HTTP and gRPC callouts (proxy-wasm-abi.md §2.7, §3.5). Each call returns a token (0 on failure,
// with the status in lastWasmResult) and is remembered with the calling context, which receives
// the response through its onHttpCallResponse / onGrpc* methods. The response accessors below
// only work inside those methods (Envoy exposes the response only during the callback).
import {
  proxy_get_status, proxy_grpc_call, proxy_grpc_cancel, proxy_grpc_close, proxy_grpc_send, proxy_grpc_stream,
  proxy_http_call,
} from "../abi/imports";
import { BufferType, MapType, WasmResult } from "../abi/enums";
import { Header, HeaderBytes, pairsBytesSize, pairsMaxSize, writePairs, writePairsBytes } from "../codec/pairs";
import { OUT_PTR, OUT_SIZE, OUT_VALUE, clearOut, maxUtf8, putUtf8, reserveScratch, takeString } from "../runtime/memory";
import { currentContextId, setLastResult } from "../runtime/state";
import { isGrpcStreamToken, trackCallout, untrackCallout } from "../runtime/callouts";
import { getHeaderMapPairs, getHeaderMapValue } from "./headers";
import { getBufferBytes } from "./buffers";

// Callouts made with the free functions belong to the context whose callback (or effective
// context) is running; Context.httpCall & co. pass their own id.

/**
 * Sends an HTTP request to the Envoy cluster `cluster`. `headers` must contain :method, :path and
 * :authority (else BadArgument). `timeoutMilliseconds` 0 means no timeout. Returns the token, or 0.
 */
export function httpCall(
  cluster: string, headers: Header[], body: ArrayBuffer | null = null, trailers: Header[] | null = null,
  timeoutMilliseconds: u32 = 0,
): u32 {
  return httpCallFrom(currentContextId, cluster, headers, body, trailers, timeoutMilliseconds);
}

export function httpCallFrom(
  originId: u32, cluster: string, headers: Header[], body: ArrayBuffer | null, trailers: Header[] | null,
  timeoutMilliseconds: u32,
): u32 {
  if (originId == 0) return noOrigin();
  const headersRoom = pairsMaxSize(headers);
  const trailersRoom: usize = trailers === null ? 0 : pairsMaxSize(trailers);
  const base = reserveScratch(maxUtf8(cluster) + headersRoom + trailersRoom);
  const clusterSize = putUtf8(cluster, base);
  const headersAt = base + clusterSize;
  const headersSize = writePairs(headers, headersAt);
  const trailersAt = headersAt + headersSize;
  const trailersSize = trailers === null || trailers.length == 0 ? 0 : writePairs(trailers, trailersAt);
  const trailersInvalid = trailers !== null && trailers.length > 0 && trailersSize == 0;
  return dispatchHttpCall(
    originId, base, clusterSize, headersSize, trailersSize, trailersInvalid, body, timeoutMilliseconds,
  );
}

/**
 * httpCallFrom with headers and trailers given as bytes, forwarded exactly (e.g. request headers
 * whose values are not UTF-8). Used by the proxy-runtime compatibility layer.
 */
export function httpCallBytesFrom(
  originId: u32, cluster: string, headers: HeaderBytes[], body: ArrayBuffer | null, trailers: HeaderBytes[] | null,
  timeoutMilliseconds: u32,
): u32 {
  if (originId == 0) return noOrigin();
  const trailersRoom: usize = trailers === null ? 0 : pairsBytesSize(trailers);
  const base = reserveScratch(maxUtf8(cluster) + pairsBytesSize(headers) + trailersRoom);
  const clusterSize = putUtf8(cluster, base);
  const headersSize = writePairsBytes(headers, base + clusterSize);
  const trailersSize: usize =
    trailers === null || trailers.length == 0 ? 0 : writePairsBytes(trailers, base + clusterSize + headersSize);
  const trailersInvalid = trailers !== null && trailers.length > 0 && trailersSize == 0;
  return dispatchHttpCall(
    originId, base, clusterSize, headersSize, trailersSize, trailersInvalid, body, timeoutMilliseconds,
  );
}

/**
 * proxy_http_call with cluster, headers and trailers already encoded one after the other at
 * `base`. Refuses (BadArgument) pairs the encoder could not produce within the host's limits.
 */
function dispatchHttpCall(
  originId: u32, base: usize, clusterSize: usize, headersSize: usize, trailersSize: usize, trailersInvalid: bool,
  body: ArrayBuffer | null, timeoutMilliseconds: u32,
): u32 {
  if (headersSize == 0 || trailersInvalid) {
    setLastResult(WasmResult.BadArgument);
    return 0;
  }
  const headersAt = base + clusterSize;
  const bodyPtr: usize = body === null ? 0 : changetype<usize>(body);
  const bodySize: usize = body === null ? 0 : <usize>body.byteLength;
  store<u32>(OUT_VALUE, 0);
  const result = proxy_http_call(
    base, clusterSize, headersAt, headersSize, bodyPtr, bodySize, headersAt + headersSize, trailersSize,
    timeoutMilliseconds, OUT_VALUE,
  );
  return tokenOrZero(result, originId);
}

function tokenOrZero(result: i32, originId: u32): u32 {
  if (setLastResult(result) != WasmResult.Ok) return 0;
  const token = load<u32>(OUT_VALUE);
  trackCallout(token, originId);
  return token;
}

/** Callouts need a context to deliver their results to. */
function noOrigin(): u32 {
  setLastResult(WasmResult.BadArgument);
  return 0;
}

/** Writes service, service name, method and metadata into scratch; returns the metadata size or -1. */
function encodeGrpcTarget(service: string, serviceName: string, method: string, metadata: Header[] | null): isize {
  const metadataRoom: usize = metadata === null ? 0 : pairsMaxSize(metadata);
  const base = reserveScratch(maxUtf8(service) + maxUtf8(serviceName) + maxUtf8(method) + metadataRoom);
  grpcServiceSize = putUtf8(service, base);
  grpcServiceNameAt = base + grpcServiceSize;
  grpcServiceNameSize = putUtf8(serviceName, grpcServiceNameAt);
  grpcMethodAt = grpcServiceNameAt + grpcServiceNameSize;
  grpcMethodSize = putUtf8(method, grpcMethodAt);
  grpcMetadataAt = grpcMethodAt + grpcMethodSize;
  if (metadata === null || metadata.length == 0) return 0;
  const size = writePairs(metadata, grpcMetadataAt);
  return size == 0 ? -1 : <isize>size;
}
let grpcServiceSize: usize = 0;
let grpcServiceNameAt: usize = 0;
let grpcServiceNameSize: usize = 0;
let grpcMethodAt: usize = 0;
let grpcMethodSize: usize = 0;
let grpcMetadataAt: usize = 0;

/**
 * Unary gRPC call. `service` is the Envoy cluster name (Envoy also accepts a serialized
 * envoy.config.core.v3.GrpcService); `message` is the serialized request. Returns the token, or 0.
 */
export function grpcCall(
  service: string, serviceName: string, method: string, initialMetadata: Header[] | null, message: ArrayBuffer | null,
  timeoutMilliseconds: u32,
): u32 {
  return grpcCallFrom(currentContextId, service, serviceName, method, initialMetadata, message, timeoutMilliseconds);
}

export function grpcCallFrom(
  originId: u32, service: string, serviceName: string, method: string, initialMetadata: Header[] | null,
  message: ArrayBuffer | null, timeoutMilliseconds: u32,
): u32 {
  if (originId == 0) return noOrigin();
  const metadataSize = encodeGrpcTarget(service, serviceName, method, initialMetadata);
  if (metadataSize < 0) {
    setLastResult(WasmResult.BadArgument);
    return 0;
  }
  const base = grpcServiceNameAt - grpcServiceSize;
  const messagePtr: usize = message === null ? 0 : changetype<usize>(message);
  const messageSize: usize = message === null ? 0 : <usize>message.byteLength;
  store<u32>(OUT_VALUE, 0);
  const result = proxy_grpc_call(
    base, grpcServiceSize, grpcServiceNameAt, grpcServiceNameSize, grpcMethodAt, grpcMethodSize, grpcMetadataAt,
    <usize>metadataSize, messagePtr, messageSize, timeoutMilliseconds, OUT_VALUE,
  );
  return tokenOrZero(result, originId);
}

/** Opens a gRPC stream; send with grpcSend. Returns the token, or 0. */
export function grpcStream(service: string, serviceName: string, method: string, initialMetadata: Header[] | null = null): u32 {
  return grpcStreamFrom(currentContextId, service, serviceName, method, initialMetadata);
}

export function grpcStreamFrom(
  originId: u32, service: string, serviceName: string, method: string, initialMetadata: Header[] | null,
): u32 {
  const metadataSize = encodeGrpcTarget(service, serviceName, method, initialMetadata);
  if (metadataSize < 0) {
    setLastResult(WasmResult.BadArgument);
    return 0;
  }
  const base = grpcServiceNameAt - grpcServiceSize;
  store<u32>(OUT_VALUE, 0);
  const result = proxy_grpc_stream(
    base, grpcServiceSize, grpcServiceNameAt, grpcServiceNameSize, grpcMethodAt, grpcMethodSize, grpcMetadataAt,
    <usize>metadataSize, OUT_VALUE,
  );
  return tokenOrZero(result, originId);
}

/** Sends a serialized message on a stream; `endStream` half-closes it. */
export function grpcSend(token: u32, message: ArrayBuffer | null, endStream: bool = false): WasmResult {
  const ptr: usize = message === null ? 0 : changetype<usize>(message);
  const size: usize = message === null ? 0 : <usize>message.byteLength;
  return proxy_grpc_send(token, ptr, size, endStream ? 1 : 0);
}

/** Cancels a call or stream: no further callbacks arrive for it. */
export function grpcCancel(token: u32): WasmResult {
  untrackCallout(token);
  return proxy_grpc_cancel(token);
}

/**
 * Closes a stream from this side (the remote close still arrives as onGrpcClose); on a unary call
 * it abandons the call.
 */
export function grpcClose(token: u32): WasmResult {
  if (!isGrpcStreamToken(token)) untrackCallout(token);
  return proxy_grpc_close(token);
}

// ---- responses (valid only inside the callout callbacks) ----

export function getHttpCallResponseHeaders(): Header[] {
  return getHeaderMapPairs(MapType.HttpCallResponseHeaders);
}
export function getHttpCallResponseHeader(name: string): string | null {
  return getHeaderMapValue(MapType.HttpCallResponseHeaders, name);
}
export function getHttpCallResponseTrailers(): Header[] {
  return getHeaderMapPairs(MapType.HttpCallResponseTrailers);
}
/** The response body (buffer 4, proxy-wasm-abi.md §3.5). */
export function getHttpCallResponseBody(start: u32 = 0, maxSize: u32 = <u32>i32.MAX_VALUE): ArrayBuffer | null {
  return getBufferBytes(BufferType.HttpCallResponseBody, start, maxSize);
}
export function getGrpcReceiveInitialMetadata(): Header[] {
  return getHeaderMapPairs(MapType.GrpcReceiveInitialMetadata);
}
export function getGrpcReceiveTrailingMetadata(): Header[] {
  return getHeaderMapPairs(MapType.GrpcReceiveTrailingMetadata);
}
/** The message received in onGrpcReceive (buffer 5). */
export function getGrpcReceiveMessage(): ArrayBuffer | null {
  return getBufferBytes(BufferType.GrpcReceiveBuffer);
}

/** Status from `proxy_get_status`: of the last gRPC close, or of a failed HTTP call (11, "reset"). */
export class HostStatus {
  constructor(public code: u32, public message: string) {}
}

export function getStatus(): HostStatus | null {
  clearOut();
  store<u32>(OUT_VALUE, 0);
  if (setLastResult(proxy_get_status(OUT_VALUE, OUT_PTR, OUT_SIZE)) != WasmResult.Ok) return null;
  const code = load<u32>(OUT_VALUE);
  return new HostStatus(code, takeString());
}
