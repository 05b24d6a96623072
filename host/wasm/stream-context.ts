// The Wasm HTTP filter: one stream context per HTTP stream, translating Envoy's StreamFilter calls
// into proxy_on_* callbacks exactly as Envoy's extensions/common/wasm/context.cc (decodeHeaders,
// decodeData, ..., log, onDestroy) and proxy-wasm-cpp-host's ContextBase::onRequestHeaders & co.
// do it:
// - the context id is allocated with the filter; proxy_on_context_create runs lazily at the
//   first decodeHeaders (or in log() for streams rejected before headers);
// - header/body/trailer maps are only reachable while Envoy holds the pointer: during the callback
//   and while the stream stays paused on it (the pointer is dropped on Continue and on
//   proxy_continue_stream) — proxy-wasm-abi.md §2.5, §2.6, §4.2;
// - return values are converted as in §3.6 (StopIteration on headers → watermark unless
//   allow_on_headers_stop_iteration, local reply forces a stop, out-of-range values stop);
// - continue / local reply / close are deferred until the VM call returns;
// - a failed VM: FAIL_OPEN → Continue, otherwise one 503 `wasm_fail_stream` per stream (§6.5);
// - teardown: on_log (log phase, before onDestroy), then on_done and on_delete (§6.3).
import type { BodyBuffer } from "../http/body-buffer.js";
import {
  FilterDataStatus,
  FilterHeadersStatus,
  FilterMetadataStatus,
  FilterTrailersStatus,
  type DecoderFilterCallbacks,
  type EncoderFilterCallbacks,
  type MetadataMap,
  type StreamFilter,
} from "../http/filter.js";
import type { HeaderMap } from "../http/header-map.js";
import type { StreamInfo } from "../http/stream-info.js";
import { BodyBufferView, ChildContext, emptyBuffer, type WasmBuffer } from "./context.js";
import type { RootContext } from "./root-context.js";
import { BufferType, MapType, StreamType, WasmResult } from "./types.js";
import type { WasmVm } from "./vm.js";

const failStreamDetails = "wasm_fail_stream";
const closeStreamDetails = "wasm_close_stream";
const grpcUnavailable = 14;

export class StreamContext extends ChildContext implements StreamFilter {
  private decoderCallbacks: DecoderFilterCallbacks | null = null;
  private encoderCallbacks: EncoderFilterCallbacks | null = null;
  private requestHeaders: HeaderMap | null = null;
  private requestBody: BodyBuffer | null = null;
  private requestTrailers: HeaderMap | null = null;
  private responseHeaders: HeaderMap | null = null;
  private responseBody: BodyBuffer | null = null;
  private responseTrailers: HeaderMap | null = null;
  private bufferingRequestBody = false;
  private bufferingResponseBody = false;
  private endOfStream = false;
  private inAccessLog = false;
  private destroyed = false;
  private streamFailed = false;
  private failureLocalReplySent = false;

  /**
   * `root` is null for Envoy's "empty context" (the VM failed before the stream started and the
   * policy is fail-closed): every callback then answers the 503.
   */
  constructor(
    vm: WasmVm,
    root: RootContext | null,
    private readonly info: StreamInfo,
  ) {
    super(vm, root);
  }

  // ------------------------------------------------------------------ HostContext: maps

  override getMap(type: MapType): HeaderMap | null {
    switch (type) {
      case MapType.HttpRequestHeaders:
        return this.requestHeaders;
      case MapType.HttpRequestTrailers:
        // Envoy addDecodedTrailers: trailers can be created from the last body callback.
        if (!this.requestTrailers && this.requestBody && this.endOfStream && this.decoderCallbacks) {
          this.requestTrailers = this.decoderCallbacks.addDecodedTrailers();
        }
        return this.requestTrailers;
      case MapType.HttpResponseHeaders:
        return this.responseHeaders;
      case MapType.HttpResponseTrailers:
        if (!this.responseTrailers && this.responseBody && this.endOfStream && this.encoderCallbacks) {
          this.responseTrailers = this.encoderCallbacks.addEncodedTrailers();
        }
        return this.responseTrailers;
      default:
        return null;
    }
  }

  override getConstMap(type: MapType): HeaderMap | null {
    switch (type) {
      case MapType.HttpRequestHeaders:
        return this.inAccessLog ? (this.info.requestHeaders ?? null) : this.requestHeaders;
      case MapType.HttpRequestTrailers:
        return this.inAccessLog ? null : this.requestTrailers;
      case MapType.HttpResponseHeaders:
        return this.inAccessLog ? (this.info.responseHeaders ?? null) : this.responseHeaders;
      case MapType.HttpResponseTrailers:
        return this.inAccessLog ? (this.info.responseTrailers ?? null) : this.responseTrailers;
      default:
        return super.getConstMap(type);
    }
  }

  override get accessLogPhase(): boolean {
    return this.inAccessLog;
  }

  // ------------------------------------------------------------------ HostContext: buffers

  override getBuffer(type: BufferType): WasmBuffer | null {
    switch (type) {
      case BufferType.HttpRequestBody: {
        // While buffering, the module sees (and edits) the whole buffered body.
        const body = this.bufferingRequestBody ? this.decoderCallbacks?.decodingBuffer() : this.requestBody;
        // Outside body callbacks Envoy's buffer points at nothing: empty and not writable.
        return body ? new BodyBufferView(body) : emptyBuffer;
      }
      case BufferType.HttpResponseBody: {
        const body = this.bufferingResponseBody ? this.encoderCallbacks?.encodingBuffer() : this.responseBody;
        return body ? new BodyBufferView(body) : emptyBuffer;
      }
      default:
        return super.getBuffer(type);
    }
  }

  // ------------------------------------------------------------------ HostContext: stream control

  override streamInfo(): StreamInfo {
    return this.info;
  }

  override attributeRequestHeaders(): HeaderMap | null {
    return this.requestHeaders ?? (this.inAccessLog ? (this.info.requestHeaders ?? null) : null);
  }
  override attributeResponseHeaders(): HeaderMap | null {
    return this.responseHeaders ?? (this.inAccessLog ? (this.info.responseHeaders ?? null) : null);
  }
  override attributeResponseTrailers(): HeaderMap | null {
    return this.responseTrailers ?? (this.inAccessLog ? (this.info.responseTrailers ?? null) : null);
  }

  /** Envoy Context::continueStream: deferred, and drops the request-side pointers. */
  override continueStream(type: StreamType): WasmResult {
    switch (type) {
      case StreamType.HttpRequest:
        if (this.decoderCallbacks) {
          const cb = this.decoderCallbacks;
          this.vm.addAfterVmCallAction(() => cb.continueDecoding());
        }
        break;
      case StreamType.HttpResponse:
        if (this.encoderCallbacks) {
          const cb = this.encoderCallbacks;
          this.vm.addAfterVmCallAction(() => cb.continueEncoding());
        }
        break;
      case StreamType.Downstream:
        return WasmResult.Ok;
      case StreamType.Upstream:
        return WasmResult.Unimplemented;
      default:
        return WasmResult.BadArgument;
    }
    // Envoy clears the request-side pointers for either HTTP direction (context.cc).
    this.requestHeaders = null;
    this.requestBody = null;
    this.requestTrailers = null;
    return WasmResult.Ok;
  }

  /** Envoy Context::closeStream: details wasm_close_stream, deferred resetStream(). */
  override closeStream(type: StreamType): WasmResult {
    if (type > StreamType.Upstream) return WasmResult.BadArgument;
    const cb = type === StreamType.HttpRequest ? this.decoderCallbacks : type === StreamType.HttpResponse ? this.encoderCallbacks : null;
    if (cb) {
      if (!cb.streamInfo.responseCodeDetails) cb.streamInfo.responseCodeDetails = closeStreamDetails;
      this.vm.addAfterVmCallAction(() => cb.resetStream(closeStreamDetails));
    }
    return WasmResult.Ok;
  }

  /** Envoy Context::sendLocalResponse: deferred sendLocalReply; whitespace in details → '_'. */
  override sendLocalResponse(status: number, body: Uint8Array, headers: Array<[string, string]>, grpcStatus: number, details: string): WasmResult {
    const cb = this.decoderCallbacks;
    if (cb) {
      const reply = {
        status,
        body: Buffer.from(body).toString("latin1"),
        headers: headers.map(([k, v]): [string, string] => [k.toLowerCase(), v]),
        // SDKs pass -1 (InvalidCode) for "no gRPC status"; only 0..16 emit one.
        grpcStatus: grpcStatus >= 0 && grpcStatus <= 16 ? grpcStatus : null,
        details: details.replace(/\s/g, "_"),
      };
      this.vm.addAfterVmCallAction(() => cb.sendLocalReply(reply));
    }
    return WasmResult.Ok;
  }

  override clearRouteCache(): void {
    this.decoderCallbacks?.clearRouteCache();
  }

  // ------------------------------------------------------------------ StreamFilter

  setDecoderFilterCallbacks(callbacks: DecoderFilterCallbacks): void {
    this.decoderCallbacks = callbacks;
  }
  setEncoderFilterCallbacks(callbacks: EncoderFilterCallbacks): void {
    this.encoderCallbacks = callbacks;
  }

  /** cpp-host ContextBase::onCreate: on_context_create(S, R) once, unless the VM failed. */
  private onCreate(): void {
    if (!this.inVmContextCreated && !this.failed) this.callDeferred("proxy_on_context_create", 2, this.root!.id);
    this.inVmContextCreated = true;
  }

  decodeHeaders(headers: HeaderMap, endStream: boolean): FilterHeadersStatus {
    this.onCreate();
    this.requestHeaders = headers;
    this.endOfStream = endStream;
    const result = this.callHeaders("proxy_on_request_headers", headers.size, endStream);
    if (result === FilterHeadersStatus.Continue) this.requestHeaders = null;
    return result;
  }

  decodeData(data: BodyBuffer, endStream: boolean): FilterDataStatus {
    if (!this.inVmContextCreated) return FilterDataStatus.Continue;
    if (this.bufferingRequestBody) {
      // The module asked to buffer: move this chunk into the buffered body so that it sees the
      // accumulated size and bytes (Envoy addDecodedData(data, false)).
      this.decoderCallbacks!.addDecodedData(data, false);
      if (this.destroyed) return FilterDataStatus.StopIterationAndBuffer;
    }
    this.requestBody = data;
    this.endOfStream = endStream;
    const size = this.getBuffer(BufferType.HttpRequestBody)!.size();
    const result = this.callData("proxy_on_request_body", size, endStream);
    this.bufferingRequestBody = result === FilterDataStatus.StopIterationAndBuffer;
    if (result === FilterDataStatus.Continue) this.requestBody = null;
    return result;
  }

  decodeTrailers(trailers: HeaderMap): FilterTrailersStatus {
    if (!this.inVmContextCreated) return FilterTrailersStatus.Continue;
    this.requestTrailers = trailers;
    const result = this.callTrailers("proxy_on_request_trailers", trailers.size);
    if (result === FilterTrailersStatus.Continue) this.requestTrailers = null;
    return result;
  }

  /**
   * Envoy Context::decodeMetadata (HTTP/2 METADATA): proxy_on_request_metadata(ctx, number of
   * entries); the result is always Continue, and no ABI map type reaches the metadata itself.
   */
  decodeMetadata(metadata: MetadataMap): FilterMetadataStatus {
    if (!this.inVmContextCreated) return FilterMetadataStatus.Continue;
    return this.callMetadata("proxy_on_request_metadata", metadata);
  }

  encodeHeaders(headers: HeaderMap, endStream: boolean): FilterHeadersStatus {
    if (!this.inVmContextCreated || this.failureLocalReplySent) return FilterHeadersStatus.Continue;
    this.responseHeaders = headers;
    this.endOfStream = endStream;
    const result = this.callHeaders("proxy_on_response_headers", headers.size, endStream);
    if (result === FilterHeadersStatus.Continue) this.responseHeaders = null;
    return result;
  }

  encodeData(data: BodyBuffer, endStream: boolean): FilterDataStatus {
    if (!this.inVmContextCreated || this.failureLocalReplySent) return FilterDataStatus.Continue;
    if (this.bufferingResponseBody) {
      this.encoderCallbacks!.addEncodedData(data, false);
      if (this.destroyed) return FilterDataStatus.StopIterationAndBuffer;
    }
    this.responseBody = data;
    this.endOfStream = endStream;
    const size = this.getBuffer(BufferType.HttpResponseBody)!.size();
    const result = this.callData("proxy_on_response_body", size, endStream);
    this.bufferingResponseBody = result === FilterDataStatus.StopIterationAndBuffer;
    if (result === FilterDataStatus.Continue) this.responseBody = null;
    return result;
  }

  encodeTrailers(trailers: HeaderMap): FilterTrailersStatus {
    if (!this.inVmContextCreated || this.failureLocalReplySent) return FilterTrailersStatus.Continue;
    this.responseTrailers = trailers;
    const result = this.callTrailers("proxy_on_response_trailers", trailers.size);
    if (result === FilterTrailersStatus.Continue) this.responseTrailers = null;
    return result;
  }

  /** Envoy Context::encodeMetadata: proxy_on_response_metadata, as for requests. */
  encodeMetadata(metadata: MetadataMap): FilterMetadataStatus {
    if (!this.inVmContextCreated || this.failureLocalReplySent) return FilterMetadataStatus.Continue;
    return this.callMetadata("proxy_on_response_metadata", metadata);
  }

  /** Access-log phase: proxy_on_log, creating the context first if headers never came. */
  log(): void {
    if (!this.inVmContextCreated) this.onCreate();
    if (this.failed || !this.vm.has("proxy_on_log")) return;
    this.inAccessLog = true;
    try {
      this.callDeferred("proxy_on_log", 1);
    } finally {
      this.inAccessLog = false;
    }
  }

  /** Envoy Context::onDestroy: on_done (return ignored for streams) then on_delete. */
  onDestroy(): void {
    if (this.destroyed || !this.inVmContextCreated) {
      this.unregister();
      return;
    }
    this.destroyed = true;
    if (!this.failed) {
      this.callDeferred("proxy_on_done", 1);
      if (!this.vm.failed) this.callDeferred("proxy_on_delete", 1);
    }
    this.unregister();
  }

  private unregister(): void {
    this.destroyed = true;
    this.leaveVm();
  }

  // ------------------------------------------------------------------ calls + conversions (§3.6)

  /** cpp-host CHECK_FAIL_HTTP: the failed-VM answer, or null to go on. */
  private checkFail<T>(open: T, closed: T): T | null {
    if (!this.failed) return null;
    if (this.plugin?.failurePolicy === "FAIL_OPEN") return open;
    if (!this.streamFailed) {
      this.streamFailed = true;
      this.failStream();
    }
    return closed;
  }

  /** Envoy Context::failStream: one 503 local reply per stream, sent right away. */
  private failStream(): void {
    if (this.failureLocalReplySent) return;
    const cb = this.decoderCallbacks ?? this.encoderCallbacks;
    if (!cb) return;
    this.failureLocalReplySent = true;
    cb.sendLocalReply({ status: 503, body: "", grpcStatus: grpcUnavailable, details: failStreamDetails });
  }

  /**
   * A lifecycle callback (context id, then `arg` if argc is 2) inside DeferAfterCallActions, if
   * the module exports it.
   */
  private callDeferred(name: string, argc: 1 | 2, arg = 0): void {
    const fn = this.vm.exportFunction(name);
    if (fn === null) return;
    try {
      this.vm.invoke(name, fn, this, argc, this.id, arg, 0);
    } finally {
      this.vm.endDeferral();
    }
  }

  /**
   * cpp-host ContextBase::on*: CHECK_FAIL before and after the VM call (context id plus `argc`
   * of a, b), then Envoy's conversion of the raw result (§3.6), all inside DeferAfterCallActions.
   * The conversions are module-level functions and the arguments plain numbers: this runs several
   * times per filter per request.
   */
  private callFilter<T extends number>(name: string, argc: 1 | 2, a: number, b: number, open: T, closed: T, convert: (raw: number, stopped: boolean, allowStopIteration: boolean) => T): T {
    const early = this.checkFail(open, closed);
    if (early !== null) return early;
    const vm = this.vm;
    const fn = vm.exportFunction(name);
    if (fn === null) return open;
    try {
      const raw = vm.invoke(name, fn, this, argc === 1 ? 2 : 3, this.id, a, b);
      return this.checkFail(open, closed) ?? convert(raw, vm.nextIterationStopped, this.plugin!.allowOnHeadersStopIteration);
    } finally {
      vm.endDeferral();
    }
  }

  private callHeaders(name: string, count: number, endStream: boolean): FilterHeadersStatus {
    // ABI 0.1.0 has no end_of_stream argument.
    const argc = this.vm.abiVersion === "0.1.0" ? 1 : 2;
    return this.callFilter(name, argc, count, endStream ? 1 : 0, FilterHeadersStatus.Continue, FilterHeadersStatus.StopAllIterationAndWatermark, convertHeadersStatus);
  }

  private callData(name: string, size: number, endStream: boolean): FilterDataStatus {
    return this.callFilter(name, 2, size, endStream ? 1 : 0, FilterDataStatus.Continue, FilterDataStatus.StopIterationNoBuffer, convertDataStatus);
  }

  /** cpp-host onRequestMetadata/onResponseMetadata: Continue whatever happens (a failed VM still fails the stream). */
  private callMetadata(name: string, metadata: MetadataMap): FilterMetadataStatus {
    return this.callFilter(name, 1, metadata.size, 0, FilterMetadataStatus.Continue, FilterMetadataStatus.Continue, () => FilterMetadataStatus.Continue);
  }

  private callTrailers(name: string, count: number): FilterTrailersStatus {
    return this.callFilter(name, 1, count, 0, FilterTrailersStatus.Continue, FilterTrailersStatus.StopIteration, convertTrailersStatus);
  }
}

// Envoy's conversions of the raw callback results (proxy-wasm-abi.md §3.6): a local reply sent in
// the callback (`stopped`) or an out-of-range value stops.
function convertHeadersStatus(raw: number, stopped: boolean, allowStopIteration: boolean): FilterHeadersStatus {
  if (stopped || raw > FilterHeadersStatus.StopAllIterationAndWatermark) return FilterHeadersStatus.StopAllIterationAndWatermark;
  if (raw === FilterHeadersStatus.StopIteration && !allowStopIteration) return FilterHeadersStatus.StopAllIterationAndWatermark;
  // ContinueAndEndStream (2) has no case in Envoy's conversion: it is plain Continue.
  if (raw === FilterHeadersStatus.ContinueAndDontEndStream) return FilterHeadersStatus.Continue;
  return raw as FilterHeadersStatus;
}

function convertDataStatus(raw: number, stopped: boolean): FilterDataStatus {
  return stopped || raw > FilterDataStatus.StopIterationNoBuffer ? FilterDataStatus.StopIterationNoBuffer : (raw as FilterDataStatus);
}

function convertTrailersStatus(raw: number, stopped: boolean): FilterTrailersStatus {
  return stopped || raw > FilterTrailersStatus.StopIteration ? FilterTrailersStatus.StopIteration : (raw as FilterTrailersStatus);
}
