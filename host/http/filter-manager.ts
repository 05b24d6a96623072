// Envoy's HTTP FilterManager (source/common/http/filter_manager.cc), shared by the local proxy and
// the emulator so that a filter sees the same iteration, buffering and local-reply semantics in
// both, and the same as in Envoy:
// - decoder filters run in configuration order, the last one being the terminal filter (the
//   router in the proxy, the emulator's upstream stand-in); encoder filters run in reverse order;
// - StopIteration stops one frame type (headers); StopAllIterationAndBuffer/Watermark stop every
//   later frame, which the manager buffers until continueDecoding()/continueEncoding(), and then
//   delivers to the stopped filter itself (iterate_from_current_filter_);
// - StopIterationAndBuffer on data buffers the body in one stream-wide buffer; a buffered body over
//   the buffer limit (default: Envoy's 1 MiB per-connection limit) answers 413 for a request and
//   500 for a response, unless the filter chose watermark (streaming) semantics;
// - sendLocalReply() travels through the encoder filters while the response has not started,
//   goes straight downstream if encoder filters already saw response headers, and resets the
//   stream once headers were sent downstream;
// - log() runs every filter's access-log hook before onDestroy() (Envoy doDeferredStreamDestroy).
import { BodyBuffer } from "./body-buffer.js";
import {
  FilterDataStatus,
  FilterHeadersStatus,
  FilterTrailersStatus,
  type DecoderFilterCallbacks,
  type EncoderFilterCallbacks,
  type LocalReply,
  type MetadataMap,
  type StreamDecoderFilter,
  type StreamEncoderFilter,
  type StreamFilterBase,
} from "./filter.js";
import { HeaderMap } from "./header-map.js";
import type { StreamInfo } from "./stream-info.js";

/** Envoy's default per_connection_buffer_limit_bytes (1 MiB), which bounds buffered bodies. */
export const defaultBufferLimitBytes = 1024 * 1024;

/** What the manager hands to the downstream side (Envoy FilterManagerCallbacks / the codec). */
export interface DownstreamCallbacks {
  encodeHeaders(headers: HeaderMap, endStream: boolean): void;
  encodeData(data: BodyBuffer, endStream: boolean): void;
  encodeTrailers(trailers: HeaderMap): void;
  /** The stream must be reset (filter resetStream(), local reply after headers were sent). */
  resetStream(details: string): void;
  /** Watermark (streaming) buffering went over the limit: apply backpressure downstream. */
  onDecoderFilterAboveWriteBufferHighWatermark?(): void;
  /** Watermark buffering of the response went over the limit: apply backpressure upstream. */
  onEncoderFilterAboveWriteBufferHighWatermark?(): void;
  /** A filter called clearRouteCache(). */
  clearRouteCache?(): void;
  /** METADATA that went through every encoder filter (Envoy sends it only when non-empty). */
  encodeMetadata?(metadata: MetadataMap): void;
  /** A local reply is being sent (Envoy's filter manager logs its details at debug). */
  onLocalReply?(reply: LocalReply): void;
}

export type AnyStreamFilter = StreamFilterBase & Partial<StreamDecoderFilter> & Partial<StreamEncoderFilter>;

export interface FilterManagerOptions {
  streamInfo: StreamInfo;
  /** Filters in configuration order; the terminal decoder filter (router) last. */
  filters: AnyStreamFilter[];
  downstream: DownstreamCallbacks;
  /** Buffer limit for buffered bodies (Envoy per-connection buffer limit), bytes. */
  bufferLimitBytes?: number;
}

const enum IterationState {
  Continue,
  StopSingleIteration,
  StopAllBuffer,
  StopAllWatermark,
}

/** Which callback is running (Envoy FilterCallState), to validate addDecodedData and friends. */
const enum CallState {
  None = 0,
  DecodeHeaders = 1,
  DecodeData = 2,
  DecodeTrailers = 4,
  EncodeHeaders = 8,
  EncodeData = 16,
  EncodeTrailers = 32,
  LastDataFrame = 64,
  IsDecoding = DecodeHeaders | DecodeData | DecodeTrailers,
  IsEncoding = EncodeHeaders | EncodeData | EncodeTrailers,
}

const enum StartFrom {
  Next,
  CurrentIfStoppedAll,
}

/**
 * What the manager keeps per direction (Envoy has a request and a response counterpart of each):
 * the maps, the one stream-wide buffered body, watermark mode, completion and abort flags.
 */
class Direction {
  headers: HeaderMap | null = null;
  trailers: HeaderMap | null = null;
  buffered: BodyBuffer | null = null;
  streaming = false;
  /** Request: downstream sent end_stream. Response: the last frame left the encoder filters. */
  complete = false;
  chainAborted = false;
  overLimit = false;

  constructor(
    /** The local reply Envoy sends when a buffered (non-streaming) body exceeds the limit. */
    readonly tooLarge: LocalReply,
    readonly aboveHighWatermark: (d: DownstreamCallbacks) => void,
  ) {}
}

// Common state of one filter in one direction (Envoy ActiveStreamFilterBase).
abstract class ActiveFilter {
  iteration = IterationState.Continue;
  headersContinued = false;
  iterateFromCurrent = false;
  endStream = false;
  /** continueDecoding()/continueEncoding() called while this filter's own callback was running. */
  continueRequested = false;
  inCallback = false;
  /** This filter's headers callback ran (Envoy decode/encode_headers_called_). */
  headersCalled = false;
  /** METADATA that reached this filter before its headers callback or while it stopped all iteration. */
  readonly savedMetadata: MetadataMap[] = [];

  constructor(
    readonly manager: FilterManager,
    readonly index: number,
    readonly dir: Direction,
  ) {}

  canContinue(): boolean {
    return !this.manager.destroyed && !this.dir.chainAborted;
  }
  complete(): boolean {
    return this.dir.complete;
  }
  hasTrailers(): boolean {
    return this.dir.trailers !== null;
  }
  buffered(): BodyBuffer | null {
    return this.dir.buffered;
  }
  bufferData(data: BodyBuffer, streaming: boolean): void {
    this.manager.bufferData(this.dir, data, streaming);
  }

  /** Envoy add{De,En}codedTrailers: only from the last data frame. */
  addTrailers(): HeaderMap {
    if (!(this.manager.callState & CallState.LastDataFrame)) {
      throw new Error("trailers can only be added in the data callback of the last data frame (Envoy asserts this)");
    }
    this.dir.trailers = new HeaderMap();
    return this.dir.trailers;
  }

  stoppedAll(): boolean {
    return this.iteration === IterationState.StopAllBuffer || this.iteration === IterationState.StopAllWatermark;
  }

  get streamInfo(): StreamInfo {
    return this.manager.streamInfo;
  }

  resetStream(details: string): void {
    this.manager.resetStream(details);
  }

  clearRouteCache(): void {
    this.manager.downstream.clearRouteCache?.();
  }

  sendLocalReply(reply: LocalReply): void {
    this.manager.sendLocalReply(reply);
  }

  /** Envoy commonHandleAfterHeadersCallback; returns whether iteration continues. */
  afterHeaders(status: FilterHeadersStatus): boolean {
    this.headersCalled = true;
    switch (status) {
      case FilterHeadersStatus.StopIteration:
        this.iteration = IterationState.StopSingleIteration;
        break;
      case FilterHeadersStatus.StopAllIterationAndBuffer:
        this.iteration = IterationState.StopAllBuffer;
        break;
      case FilterHeadersStatus.StopAllIterationAndWatermark:
        this.iteration = IterationState.StopAllWatermark;
        break;
      default:
        this.headersContinued = true;
    }
    this.handleMetadataAfterHeaders();
    return this.iteration === IterationState.Continue;
  }

  /**
   * Envoy handleMetadataAfterHeadersCallback: metadata saved before this filter's headers goes
   * through it now, unless it stopped all iteration (then when it continues) or the chain was
   * aborted (then it is dropped).
   */
  private handleMetadataAfterHeaders(): void {
    if (this.savedMetadata.length === 0) return;
    if (this.dir.chainAborted) this.savedMetadata.length = 0;
    else if (!this.stoppedAll()) this.drainSavedMetadata();
  }

  /** Envoy drainSaved{Request,Response}Metadata: iteration starts at this filter. */
  private drainSavedMetadata(): void {
    const saved = this.savedMetadata.splice(0);
    const fromCurrent = this.iterateFromCurrent;
    this.iterateFromCurrent = true;
    for (const metadata of saved) this.doMetadata(metadata);
    this.iterateFromCurrent = fromCurrent;
  }

  /** Envoy commonHandleAfterDataCallback; returns whether iteration continues. */
  afterData(status: FilterDataStatus, data: BodyBuffer): boolean {
    if (status === FilterDataStatus.Continue) {
      if (this.iteration === IterationState.StopSingleIteration) {
        this.bufferData(data, this.dir.streaming);
        this.commonContinue();
        return false;
      }
      return true;
    }
    this.iteration = IterationState.StopSingleIteration;
    if (status === FilterDataStatus.StopIterationAndBuffer || status === FilterDataStatus.StopIterationAndWatermark) {
      this.bufferData(data, status === FilterDataStatus.StopIterationAndWatermark);
    } else if (this.complete() && !this.hasTrailers() && !this.buffered() && !this.manager.destroyed) {
      // StopIterationNoBuffer on the last frame: keep an empty buffer so that continuing resumes
      // with an empty end-of-stream data frame (Envoy does the same).
      this.dir.buffered = new BodyBuffer();
    }
    return false;
  }

  /** continueDecoding()/continueEncoding() (Envoy commonContinue). */
  commonContinue(): void {
    if (this.inCallback) {
      // The filter resumed itself inside its own callback (e.g. the Wasm filter's deferred
      // proxy_continue_stream): honour it once the callback's status has been processed.
      this.continueRequested = true;
      return;
    }
    if (!this.canContinue()) return;
    if (this.iteration === IterationState.Continue && this.headersContinued) return;
    if (this.stoppedAll()) this.iterateFromCurrent = true;
    this.iteration = IterationState.Continue;
    if (!this.headersContinued) {
      this.headersContinued = true;
      this.doHeaders(this.complete() && !this.buffered() && !this.hasTrailers());
    }
    if (this.savedMetadata.length > 0) this.drainSavedMetadata();
    const hadTrailers = this.hasTrailers();
    const buffered = this.buffered();
    if (buffered) this.doData(buffered, this.complete() && !hadTrailers);
    if (hadTrailers) this.doTrailers();
    this.iterateFromCurrent = false;
  }

  /**
   * After this filter's callback returned and its status was applied (`proceed`): a continue the
   * filter requested from inside the callback takes effect now.
   */
  settle(proceed: boolean): boolean {
    if (!this.continueRequested) return proceed;
    this.continueRequested = false;
    if (proceed) return true;
    this.commonContinue();
    return false;
  }

  abstract doHeaders(endStream: boolean): void;
  abstract doData(data: BodyBuffer, endStream: boolean): void;
  abstract doTrailers(): void;
  abstract doMetadata(metadata: MetadataMap): void;
}

class ActiveDecoderFilter extends ActiveFilter implements DecoderFilterCallbacks {
  constructor(
    manager: FilterManager,
    index: number,
    readonly filter: StreamDecoderFilter,
  ) {
    super(manager, index, manager.request);
  }
  doHeaders(endStream: boolean): void {
    this.manager.iterateDecodeHeaders(this, this.dir.headers!, endStream);
  }
  doData(data: BodyBuffer, endStream: boolean): void {
    this.manager.iterateDecodeData(this, data, endStream, this.iterateFromCurrent ? StartFrom.CurrentIfStoppedAll : StartFrom.Next);
  }
  doTrailers(): void {
    this.manager.iterateDecodeTrailers(this, this.dir.trailers!);
  }
  doMetadata(metadata: MetadataMap): void {
    this.manager.iterateDecodeMetadata(this, metadata);
  }

  // ---- DecoderFilterCallbacks
  continueDecoding(): void {
    this.commonContinue();
  }
  decodingBuffer(): BodyBuffer | null {
    return this.dir.buffered;
  }
  addDecodedTrailers(): HeaderMap {
    return this.addTrailers();
  }
  addDecodedData(data: BodyBuffer, streaming: boolean): void {
    this.manager.addData(this, data, streaming);
  }
  requestHeaders(): HeaderMap | null {
    return this.dir.headers;
  }
  requestTrailers(): HeaderMap | null {
    return this.dir.trailers;
  }
  encodeHeaders(headers: HeaderMap, endStream: boolean): void {
    this.manager.startResponse(headers, endStream);
  }
  encodeData(data: BodyBuffer, endStream: boolean): void {
    this.manager.iterateEncodeData(null, data, endStream, StartFrom.Next);
  }
  encodeTrailers(trailers: HeaderMap): void {
    this.manager.response.trailers = trailers;
    this.manager.iterateEncodeTrailers(null, trailers);
  }
  encodeMetadata(metadata: MetadataMap): void {
    this.manager.iterateEncodeMetadata(null, metadata);
  }
}

class ActiveEncoderFilter extends ActiveFilter implements EncoderFilterCallbacks {
  constructor(
    manager: FilterManager,
    index: number,
    readonly filter: StreamEncoderFilter,
  ) {
    super(manager, index, manager.response);
  }
  doHeaders(endStream: boolean): void {
    this.manager.iterateEncodeHeaders(this, this.dir.headers!, endStream);
  }
  doData(data: BodyBuffer, endStream: boolean): void {
    this.manager.iterateEncodeData(this, data, endStream, this.iterateFromCurrent ? StartFrom.CurrentIfStoppedAll : StartFrom.Next);
  }
  doTrailers(): void {
    this.manager.iterateEncodeTrailers(this, this.dir.trailers!);
  }
  doMetadata(metadata: MetadataMap): void {
    this.manager.iterateEncodeMetadata(this, metadata);
  }

  // ---- EncoderFilterCallbacks
  continueEncoding(): void {
    this.commonContinue();
  }
  encodingBuffer(): BodyBuffer | null {
    return this.dir.buffered;
  }
  addEncodedTrailers(): HeaderMap {
    return this.addTrailers();
  }
  addEncodedData(data: BodyBuffer, streaming: boolean): void {
    this.manager.addData(this, data, streaming);
  }
  responseHeaders(): HeaderMap | null {
    return this.dir.headers;
  }
  responseTrailers(): HeaderMap | null {
    return this.dir.trailers;
  }
}

// What each direction does when its buffer fills up; shared by every stream (a stream makes none).
/** Envoy ActiveStreamDecoderFilter::requestDataTooLarge. */
const requestDataTooLarge: LocalReply = Object.freeze({ status: 413, body: "Payload Too Large", grpcStatus: null, details: "request_payload_too_large" });
/** Envoy ActiveStreamEncoderFilter::responseDataTooLarge. */
const responseDataTooLarge: LocalReply = Object.freeze({ status: 500, body: "Internal Server Error", grpcStatus: null, details: "response_payload_too_large" });
const requestAboveHighWatermark = (d: DownstreamCallbacks): void => d.onDecoderFilterAboveWriteBufferHighWatermark?.();
const responseAboveHighWatermark = (d: DownstreamCallbacks): void => d.onEncoderFilterAboveWriteBufferHighWatermark?.();

export class FilterManager {
  readonly streamInfo: StreamInfo;
  readonly downstream: DownstreamCallbacks;
  readonly bufferLimitBytes: number;
  private readonly filters: AnyStreamFilter[];
  private readonly decoders: ActiveDecoderFilter[] = [];
  /** Encoder filters in iteration order (reverse of configuration order). */
  private readonly encoders: ActiveEncoderFilter[] = [];

  /** @internal Request-side state (Envoy ActiveStreamDecoderFilter side). */
  readonly request = new Direction(requestDataTooLarge, requestAboveHighWatermark);
  /** @internal Response-side state. */
  readonly response = new Direction(responseDataTooLarge, responseAboveHighWatermark);
  callState = CallState.None;
  /** Response headers reached the downstream side. */
  responseHeadersSent = false;
  destroyed = false;
  reset = false;
  /** The local reply sent on this stream, if any (the last one). */
  localReply: LocalReply | null = null;
  private logged = false;

  constructor(options: FilterManagerOptions) {
    this.streamInfo = options.streamInfo;
    this.downstream = options.downstream;
    this.bufferLimitBytes = options.bufferLimitBytes ?? defaultBufferLimitBytes;
    this.filters = options.filters;
    for (const f of options.filters) {
      if (typeof f.decodeHeaders === "function") {
        const active = new ActiveDecoderFilter(this, this.decoders.length, f as StreamDecoderFilter);
        this.decoders.push(active);
        f.setDecoderFilterCallbacks!(active);
      }
    }
    for (let i = options.filters.length - 1; i >= 0; i--) {
      const f = options.filters[i]!;
      if (typeof f.encodeHeaders === "function") {
        const active = new ActiveEncoderFilter(this, this.encoders.length, f as StreamEncoderFilter);
        this.encoders.push(active);
        f.setEncoderFilterCallbacks!(active);
      }
    }
  }

  /** True when the downstream side must not expect more: response complete or stream reset. */
  get done(): boolean {
    return this.response.complete || this.reset;
  }

  /** Downstream sent end_stream (Envoy remote_decode_complete_). */
  get remoteDecodeComplete(): boolean {
    return this.request.complete;
  }
  /** The last response frame went through the encoder filters (Envoy local_complete_). */
  get localEncodeComplete(): boolean {
    return this.response.complete;
  }
  get decoderChainAborted(): boolean {
    return this.request.chainAborted;
  }
  get encoderChainAborted(): boolean {
    return this.response.chainAborted;
  }
  /** The request headers as the filters left them. */
  get requestHeadersMap(): HeaderMap | null {
    return this.request.headers;
  }
  get requestTrailersMap(): HeaderMap | null {
    return this.request.trailers;
  }
  get responseHeadersMap(): HeaderMap | null {
    return this.response.headers;
  }
  get responseTrailersMap(): HeaderMap | null {
    return this.response.trailers;
  }

  // ---------------------------------------------------------------- request path (downstream in)

  decodeHeaders(headers: HeaderMap, endStream: boolean): void {
    if (this.request.headers) throw new Error("decodeHeaders() called twice on one stream");
    this.request.headers = headers;
    this.streamInfo.requestHeaders = headers;
    this.request.complete = endStream;
    this.iterateDecodeHeaders(null, headers, endStream);
  }

  decodeData(data: BodyBuffer, endStream: boolean): void {
    if (this.request.complete) throw new Error("decodeData() after the request ended");
    this.request.complete = endStream;
    this.streamInfo.bytesReceived += data.length;
    this.iterateDecodeData(null, data, endStream, StartFrom.Next);
  }

  decodeTrailers(trailers: HeaderMap): void {
    if (this.request.complete) throw new Error("decodeTrailers() after the request ended");
    this.request.complete = true;
    this.request.trailers = trailers;
    this.iterateDecodeTrailers(null, trailers);
  }

  /** HTTP/2 METADATA from downstream (Envoy FilterManager::decodeMetadata, from the codec). */
  decodeMetadata(metadata: MetadataMap): void {
    this.iterateDecodeMetadata(null, metadata);
  }

  /** @internal Envoy FilterManager::decodeMetadata(filter, map). */
  iterateDecodeMetadata(from: ActiveDecoderFilter | null, metadata: MetadataMap): void {
    this.passMetadata(this.decoders, from, metadata, (f) => f.filter.decodeMetadata?.(metadata));
  }

  /** @internal Envoy FilterManager::encodeMetadata: the encoder chain, then the client (if not empty). */
  iterateEncodeMetadata(from: ActiveEncoderFilter | null, metadata: MetadataMap): void {
    const passed = this.passMetadata(this.encoders, from, metadata, (f) => f.filter.encodeMetadata?.(metadata));
    if (passed && metadata.size > 0) this.downstream.encodeMetadata?.(metadata);
  }

  /**
   * The metadata loop of both directions: a filter that has not seen the headers yet, or that
   * stopped all iteration, keeps the metadata until it goes on. Returns whether it passed them all.
   */
  private passMetadata<F extends ActiveFilter>(filters: F[], from: F | null, metadata: MetadataMap, call: (f: F) => void): boolean {
    if (this.destroyed) return false;
    for (let i = this.startIndex(from, StartFrom.CurrentIfStoppedAll); i < filters.length; i++) {
      const f = filters[i]!;
      if (!f.headersCalled || f.stoppedAll()) {
        f.savedMetadata.push(metadata);
        return false;
      }
      call(f);
    }
    return true;
  }

  /** @internal Envoy FilterManager::decodeHeaders(filter, headers, end_stream). */
  iterateDecodeHeaders(from: ActiveDecoderFilter | null, headers: HeaderMap, endStream: boolean): void {
    let continueDataEntry: ActiveDecoderFilter | null = null;
    for (let i = from ? from.index + 1 : 0; i < this.decoders.length; i++) {
      const f = this.decoders[i]!;
      f.endStream = endStream && continueDataEntry === null;
      const saved = this.enterCallback(f, CallState.DecodeHeaders);
      let status: FilterHeadersStatus;
      try {
        status = f.filter.decodeHeaders(headers, f.endStream);
      } finally {
        this.leaveCallback(f, saved);
      }
      if (status === FilterHeadersStatus.ContinueAndDontEndStream) endStream = false;
      const proceed = f.settle(f.afterHeaders(status));
      if (this.request.chainAborted || this.destroyed) return;
      // Stop unless this is the last filter: a terminal filter that stops still lets a body that
      // an earlier filter added through (Envoy's comment on the same check).
      if (!proceed && i + 1 < this.decoders.length) {
        this.maybeContinueDecoding(continueDataEntry);
        return;
      }
      // A header-only request to which a filter added a body: later filters must not see
      // end_stream on headers.
      if (endStream && this.request.buffered && continueDataEntry === null) continueDataEntry = f;
    }
    this.maybeContinueDecoding(continueDataEntry);
  }

  private maybeContinueDecoding(entry: ActiveDecoderFilter | null): void {
    if (!entry) return;
    entry.iteration = IterationState.StopSingleIteration;
    entry.headersContinued = true;
    entry.commonContinue();
  }

  /** @internal Envoy FilterManager::decodeData. */
  iterateDecodeData(from: ActiveDecoderFilter | null, data: BodyBuffer, endStream: boolean, start: StartFrom): void {
    if (this.response.complete || this.request.chainAborted || this.destroyed) return;
    const trailersExisted = this.request.trailers !== null;
    let trailersAddedBy: ActiveDecoderFilter | null = null;
    let reachedEnd = true;
    for (let i = this.startIndex(from, start); i < this.decoders.length; i++) {
      const f = this.decoders[i]!;
      if (f.stoppedAll()) {
        this.bufferData(this.request, data, f.iteration === IterationState.StopAllWatermark);
        return;
      }
      if (f.endStream) return;
      f.endStream = endStream && this.request.trailers === null;
      const lastFrame = endStream ? CallState.LastDataFrame : CallState.None;
      const saved = this.enterCallback(f, CallState.DecodeData | lastFrame);
      let status: FilterDataStatus;
      try {
        status = f.filter.decodeData(data, f.endStream);
      } finally {
        this.leaveCallback(f, saved);
      }
      if (!trailersExisted && this.request.trailers && !trailersAddedBy) {
        endStream = false;
        trailersAddedBy = f;
      }
      const proceed = f.settle(f.afterData(status, data));
      if (this.request.chainAborted || this.destroyed) return;
      if (!proceed) {
        reachedEnd = false;
        if (i + 1 < this.decoders.length) break;
      }
    }
    // Buffered data that went all the way through (or that the terminal filter drained, as the
    // router does when it sends it upstream) is consumed.
    if ((reachedEnd || data.length === 0) && data === this.request.buffered) this.request.buffered = null;
    if (trailersAddedBy) this.iterateDecodeTrailers(trailersAddedBy, this.request.trailers!);
  }

  /** @internal Envoy FilterManager::decodeTrailers. */
  iterateDecodeTrailers(from: ActiveDecoderFilter | null, trailers: HeaderMap): void {
    if (this.response.complete || this.request.chainAborted || this.destroyed) return;
    for (let i = this.startIndex(from, StartFrom.CurrentIfStoppedAll); i < this.decoders.length; i++) {
      const f = this.decoders[i]!;
      if (f.stoppedAll()) return;
      const saved = this.enterCallback(f, CallState.DecodeTrailers);
      let status: FilterTrailersStatus;
      try {
        status = f.filter.decodeTrailers(trailers);
      } finally {
        this.leaveCallback(f, saved);
      }
      f.endStream = true;
      const stopped = status !== FilterTrailersStatus.Continue;
      if (stopped) f.iteration = IterationState.StopSingleIteration;
      const proceed = f.settle(!stopped);
      if (this.request.chainAborted || this.destroyed || !proceed) return;
    }
  }

  // -------------------------------------------------------------- response path (upstream in)

  /** @internal The terminal filter (or a local reply) starts the response. */
  startResponse(headers: HeaderMap, endStream: boolean): void {
    if (this.response.headers) throw new Error("the response was already started on this stream");
    this.response.headers = headers;
    this.recordResponseHeaders(headers);
    this.iterateEncodeHeaders(null, headers, endStream);
  }

  private recordResponseHeaders(headers: HeaderMap): void {
    this.streamInfo.responseHeaders = headers;
    const code = Number(headers.get(":status"));
    if (Number.isInteger(code)) this.streamInfo.responseCode = code;
  }

  /** @internal Envoy FilterManager::encodeHeaders. */
  iterateEncodeHeaders(from: ActiveEncoderFilter | null, headers: HeaderMap, endStream: boolean): void {
    let continueDataEntry: ActiveEncoderFilter | null = null;
    for (let i = from ? from.index + 1 : 0; i < this.encoders.length; i++) {
      const f = this.encoders[i]!;
      f.endStream = endStream && continueDataEntry === null;
      const saved = this.enterCallback(f, CallState.EncodeHeaders);
      let status: FilterHeadersStatus;
      try {
        status = f.filter.encodeHeaders(headers, f.endStream);
      } finally {
        this.leaveCallback(f, saved);
      }
      if (status === FilterHeadersStatus.ContinueAndDontEndStream) endStream = false;
      const proceed = f.settle(f.afterHeaders(status));
      if (this.response.chainAborted || this.destroyed || this.responseHeadersSent) return;
      if (!proceed) {
        this.maybeContinueEncoding(continueDataEntry);
        return;
      }
      if (endStream && this.response.buffered && continueDataEntry === null) continueDataEntry = f;
    }
    const end = endStream && continueDataEntry === null;
    this.responseHeadersSent = true;
    this.downstream.encodeHeaders(headers, end);
    if (end) this.endEncode();
    else this.maybeContinueEncoding(continueDataEntry);
  }

  private maybeContinueEncoding(entry: ActiveEncoderFilter | null): void {
    if (!entry) return;
    entry.iteration = IterationState.StopSingleIteration;
    entry.headersContinued = true;
    entry.commonContinue();
  }

  /** @internal Envoy FilterManager::encodeData. */
  iterateEncodeData(from: ActiveEncoderFilter | null, data: BodyBuffer, endStream: boolean, start: StartFrom): void {
    if (this.destroyed || this.response.complete) return;
    if (from === null && !this.response.headers) throw new Error("encodeData() before response headers");
    const trailersExisted = this.response.trailers !== null;
    let trailersAddedBy: ActiveEncoderFilter | null = null;
    for (let i = this.startIndex(from, start); i < this.encoders.length; i++) {
      const f = this.encoders[i]!;
      if (f.stoppedAll()) {
        this.bufferData(this.response, data, f.iteration === IterationState.StopAllWatermark);
        return;
      }
      if (f.endStream) return;
      f.endStream = endStream && this.response.trailers === null;
      const lastFrame = endStream ? CallState.LastDataFrame : CallState.None;
      const saved = this.enterCallback(f, CallState.EncodeData | lastFrame);
      let status: FilterDataStatus;
      try {
        status = f.filter.encodeData(data, f.endStream);
      } finally {
        this.leaveCallback(f, saved);
      }
      if (!trailersExisted && this.response.trailers && !trailersAddedBy) {
        endStream = false;
        trailersAddedBy = f;
      }
      const proceed = f.settle(f.afterData(status, data));
      if (this.response.chainAborted || this.destroyed || this.response.complete) return;
      if (!proceed) return;
    }
    this.streamInfo.bytesSent += data.length;
    const end = endStream && trailersAddedBy === null;
    this.downstream.encodeData(data, end);
    if (data === this.response.buffered) this.response.buffered = null;
    if (end) this.endEncode();
    if (trailersAddedBy) this.iterateEncodeTrailers(trailersAddedBy, this.response.trailers!);
  }

  /** @internal Envoy FilterManager::encodeTrailers. */
  iterateEncodeTrailers(from: ActiveEncoderFilter | null, trailers: HeaderMap): void {
    if (this.destroyed || this.response.complete) return;
    this.streamInfo.responseTrailers = trailers;
    for (let i = this.startIndex(from, StartFrom.CurrentIfStoppedAll); i < this.encoders.length; i++) {
      const f = this.encoders[i]!;
      if (f.stoppedAll()) return;
      const saved = this.enterCallback(f, CallState.EncodeTrailers);
      let status: FilterTrailersStatus;
      try {
        status = f.filter.encodeTrailers(trailers);
      } finally {
        this.leaveCallback(f, saved);
      }
      f.endStream = true;
      const stopped = status !== FilterTrailersStatus.Continue;
      if (stopped) f.iteration = IterationState.StopSingleIteration;
      const proceed = f.settle(!stopped);
      if (this.response.chainAborted || this.destroyed || !proceed) return;
    }
    this.downstream.encodeTrailers(trailers);
    this.endEncode();
  }

  /**
   * @internal Envoy add{De,En}codedData: inside that direction's headers/data callback (or from
   * outside any callback) the data joins the buffered body; from a trailers callback it is sent on
   * to the following filters.
   */
  addData(filter: ActiveDecoderFilter | ActiveEncoderFilter, data: BodyBuffer, streaming: boolean): void {
    const decoding = filter instanceof ActiveDecoderFilter;
    const [headersOrData, trailers] = decoding
      ? [CallState.DecodeHeaders | CallState.DecodeData, CallState.DecodeTrailers]
      : [CallState.EncodeHeaders | CallState.EncodeData, CallState.EncodeTrailers];
    const s = this.callState;
    if (s === CallState.None || s & headersOrData || (s & trailers && filter.iteration !== IterationState.Continue)) {
      this.bufferData(filter.dir, data, streaming);
    } else if (s & trailers) {
      if (decoding) this.iterateDecodeData(filter, data, false, StartFrom.Next);
      else this.iterateEncodeData(filter, data, false, StartFrom.Next);
    } else {
      throw new Error(`add${decoding ? "Decoded" : "Encoded"}Data() called from a callback of the other direction (Envoy: invalid data)`);
    }
  }

  /**
   * @internal Buffers a body in one direction. Over the limit Envoy's watermark buffer fires once:
   * streaming (watermark) filters get backpressure, buffering ones a 413 (request) or 500 (response).
   */
  bufferData(dir: Direction, data: BodyBuffer, streaming: boolean): void {
    dir.streaming = streaming;
    if (data !== dir.buffered) {
      if (!dir.buffered) dir.buffered = new BodyBuffer();
      dir.buffered.move(data);
    }
    if (dir.buffered.length > this.bufferLimitBytes && !dir.overLimit) {
      dir.overLimit = true;
      if (streaming) dir.aboveHighWatermark(this.downstream);
      else this.sendLocalReply(dir.tooLarge);
    }
  }

  private endEncode(): void {
    this.response.complete = true;
  }

  // ------------------------------------------------------------------------ local reply, reset

  /** Envoy FilterManager::sendLocalReply. */
  sendLocalReply(reply: LocalReply): void {
    if (this.destroyed || this.reset) return;
    this.downstream.onLocalReply?.(reply);
    // Envoy aborts the chain whose callback is running; a reply sent from outside any callback
    // (buffer overflow, an async continuation) also ends request processing.
    if (this.callState & CallState.IsEncoding) this.response.chainAborted = true;
    else this.request.chainAborted = true;
    this.localReply = reply;
    this.streamInfo.responseCodeDetails = reply.details;
    const headers = this.localReplyHeaders(reply);
    const body = this.isHeadRequest() || this.isGrpcRequest() ? "" : reply.body;
    if (!this.response.headers) {
      // The response has not started: the reply goes through every encoder filter.
      this.response.headers = headers;
      this.recordResponseHeaders(headers);
      this.iterateEncodeHeaders(null, headers, body.length === 0);
      if (body.length > 0 && !this.destroyed) this.iterateEncodeData(null, new BodyBuffer(body), true, StartFrom.CurrentIfStoppedAll);
    } else if (!this.responseHeadersSent) {
      // Encoder filters already saw response headers: Envoy sends the reply directly downstream.
      this.response.headers = headers;
      this.recordResponseHeaders(headers);
      this.responseHeadersSent = true;
      this.downstream.encodeHeaders(headers, body.length === 0);
      if (body.length > 0) {
        this.streamInfo.bytesSent += body.length;
        this.downstream.encodeData(new BodyBuffer(body), true);
      }
      this.endEncode();
    } else {
      // Headers already went downstream: all Envoy can do is reset the stream.
      this.resetStream(reply.details);
    }
  }

  /** Envoy Utility::sendLocalReply / prepareLocalReply: the reply's headers. */
  private localReplyHeaders(reply: LocalReply): HeaderMap {
    const headers = new HeaderMap([[":status", String(reply.status)]]);
    for (const [k, v] of reply.headers ?? []) headers.add(k, v);
    if (this.isGrpcRequest()) {
      // gRPC requests get a trailers-only response: HTTP 200 with grpc-status / grpc-message.
      headers.set(":status", "200");
      headers.set("content-type", "application/grpc");
      if (!headers.has("grpc-status")) headers.set("grpc-status", String(reply.grpcStatus ?? httpToGrpcStatus(reply.status)));
      if (reply.body && !this.isHeadRequest()) headers.set("grpc-message", encodeURIComponent(reply.body.replace(/\n$/, "")));
      headers.remove("content-length");
      return headers;
    }
    if (reply.body) {
      headers.set("content-length", String(Buffer.byteLength(reply.body, "latin1")));
      if (!headers.has("content-type")) headers.set("content-type", "text/plain");
    }
    return headers;
  }

  /** Envoy Grpc::Common::hasGrpcContentType: "application/grpc" or "application/grpc+<codec>", not grpc-web. */
  private isGrpcRequest(): boolean {
    const contentType = this.request.headers?.get("content-type") ?? "";
    return contentType === "application/grpc" || contentType.startsWith("application/grpc+");
  }

  private isHeadRequest(): boolean {
    return this.request.headers?.get(":method") === "HEAD";
  }

  /** A filter reset the stream (Envoy resetStream): nothing more is sent either way. */
  resetStream(details: string): void {
    if (this.reset || this.destroyed) return;
    this.reset = true;
    this.request.chainAborted = true;
    this.response.chainAborted = true;
    if (!this.streamInfo.responseCodeDetails) this.streamInfo.responseCodeDetails = details;
    this.downstream.resetStream(details);
  }

  // ------------------------------------------------------------------------------ teardown

  /** Access-log phase: each filter's log() in configuration order (Wasm proxy_on_log). */
  log(): void {
    if (this.logged) return;
    this.logged = true;
    for (const f of this.filters) f.log?.();
  }

  /** Destroys the filters (Envoy destroyFilters: decoders in order, then encoder-only filters). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const d of this.decoders) d.filter.onDestroy();
    for (const e of this.encoders) if (typeof (e.filter as AnyStreamFilter).decodeHeaders !== "function") e.filter.onDestroy();
  }

  /** End of stream as Envoy's doDeferredStreamDestroy does it: log() then destroy(). */
  finish(): void {
    this.log();
    this.destroy();
  }

  // ------------------------------------------------------------------------------ helpers

  private startIndex(from: ActiveFilter | null, start: StartFrom): number {
    if (!from) return 0;
    return start === StartFrom.CurrentIfStoppedAll && from.iterateFromCurrent ? from.index : from.index + 1;
  }

  /**
   * Enters `filter`'s callback under Envoy's call state `state`; returns the state to restore in
   * leaveCallback. Every iterate* method brackets its filter calls with the pair (in try/finally)
   * rather than passing closures: this runs for every filter on every frame of every request.
   */
  private enterCallback(filter: ActiveFilter, state: CallState): CallState {
    const saved = this.callState;
    this.callState = state;
    filter.inCallback = true;
    return saved;
  }

  private leaveCallback(filter: ActiveFilter, saved: CallState): void {
    this.callState = saved;
    filter.inCallback = false;
  }
}

/** Envoy Grpc::Utility::httpToGrpcStatus. */
export function httpToGrpcStatus(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return 13; // Internal
    case 401:
      return 16; // Unauthenticated
    case 403:
      return 7; // PermissionDenied
    case 404:
      return 12; // Unimplemented
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // Unavailable
    default:
      return 2; // Unknown
  }
}
