// Stream control and local replies (proxy-wasm-abi.md §2.6, §3.6, §6.2). Envoy defers all three
// until the running callback returns: a continue resumes iteration afterwards, a local reply is
// sent afterwards and forces the callback's result to "stop", a close resets the stream.
import { proxy_close_stream, proxy_continue_stream, proxy_done, proxy_send_local_response } from "../abi/imports";
import { GrpcStatus, StreamType, WasmResult } from "../abi/enums";
import { Header, HeaderBytes, pairsBytesSize, pairsMaxSize, writePairs, writePairsBytes } from "../codec/pairs";
import { maxUtf8, putUtf8, reserveScratch } from "../runtime/memory";

/**
 * Resumes a stream paused by a callback that returned Action.Pause (HttpRequest/HttpResponse, or
 * Downstream for TCP). Envoy answers Upstream with Unimplemented. After continuing, that direction's
 * headers and body can no longer be modified.
 */
export function continueStream(type: StreamType): WasmResult {
  return proxy_continue_stream(type);
}

/** Resets the stream (HTTP: response details "wasm_close_stream") or closes the connection (TCP). */
export function closeStream(type: StreamType): WasmResult {
  return proxy_close_stream(type);
}

/**
 * Answers the request from the filter: Envoy sends this reply after the callback returns, through
 * the encoder filters (so expect onResponseHeaders for it), and the callback's own result is
 * overridden by "stop". Don't continue the stream afterwards (envoy#13857). Whitespace in
 * `details` becomes '_' (it is the response code details). `grpcStatus` -1 means none.
 */
export function sendLocalResponse(
  statusCode: u32, details: string, body: string = "", headers: Header[] | null = null,
  grpcStatus: i32 = GrpcStatus.InvalidCode,
): WasmResult {
  const headerRoom: usize = headers === null ? 0 : pairsMaxSize(headers);
  const base = reserveScratch(maxUtf8(details) + maxUtf8(body) + headerRoom);
  const detailsSize = putUtf8(details, base);
  const bodyAt = base + detailsSize;
  const bodySize = putUtf8(body, bodyAt);
  const headersAt = bodyAt + bodySize;
  let headersSize: usize = 0;
  if (headers !== null && headers.length > 0) {
    headersSize = writePairs(headers, headersAt);
    if (headersSize == 0) return WasmResult.BadArgument;
  }
  return proxy_send_local_response(statusCode, base, detailsSize, bodyAt, bodySize, headersAt, headersSize, grpcStatus);
}

/** sendLocalResponse with a binary body. */
export function sendLocalResponseBytes(
  statusCode: u32, details: string, body: ArrayBuffer | null, headers: Header[] | null = null,
  grpcStatus: i32 = GrpcStatus.InvalidCode,
): WasmResult {
  const headerRoom: usize = headers === null ? 0 : pairsMaxSize(headers);
  const base = reserveScratch(maxUtf8(details) + headerRoom);
  const detailsSize = putUtf8(details, base);
  const headersAt = base + detailsSize;
  let headersSize: usize = 0;
  if (headers !== null && headers.length > 0) {
    headersSize = writePairs(headers, headersAt);
    if (headersSize == 0) return WasmResult.BadArgument;
  }
  return sendWithBody(statusCode, base, detailsSize, body, headersSize, grpcStatus);
}

/**
 * sendLocalResponseBytes with the extra headers given as bytes, sent exactly as given. Used by the
 * proxy-runtime compatibility layer, whose headers are byte pairs.
 */
export function sendLocalResponseRaw(
  statusCode: u32, details: string, body: ArrayBuffer | null, headers: HeaderBytes[] | null,
  grpcStatus: i32 = GrpcStatus.InvalidCode,
): WasmResult {
  const headerRoom: usize = headers === null ? 0 : pairsBytesSize(headers);
  const base = reserveScratch(maxUtf8(details) + headerRoom);
  const detailsSize = putUtf8(details, base);
  const headersAt = base + detailsSize;
  let headersSize: usize = 0;
  if (headers !== null && headers.length > 0) {
    headersSize = writePairsBytes(headers, headersAt);
    if (headersSize == 0) return WasmResult.BadArgument;
  }
  return sendWithBody(statusCode, base, detailsSize, body, headersSize, grpcStatus);
}

/** proxy_send_local_response with details then headers encoded at `base`, and a binary body. */
function sendWithBody(
  statusCode: u32, base: usize, detailsSize: usize, body: ArrayBuffer | null, headersSize: usize, grpcStatus: i32,
): WasmResult {
  const bodyPtr: usize = body === null ? 0 : changetype<usize>(body);
  const bodySize: usize = body === null ? 0 : <usize>body.byteLength;
  return proxy_send_local_response(
    statusCode, base, detailsSize, bodyPtr, bodySize, base + detailsSize, headersSize, grpcStatus,
  );
}

/**
 * Completes a root context whose onDone returned false (`proxy_done`); Envoy then deletes it.
 * NotFound if no root context is pending.
 */
export function done(): WasmResult {
  return proxy_done();
}
