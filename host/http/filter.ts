// Envoy's HTTP stream filter API (envoy/http/filter.h), the contract between the filter manager,
// the Wasm filter (host/wasm) and the router (host/proxy). Names and values mirror Envoy's.
import type { BodyBuffer } from "./body-buffer.js";
import type { HeaderMap } from "./header-map.js";
import type { StreamInfo } from "./stream-info.js";

export enum FilterHeadersStatus {
  Continue = 0,
  StopIteration = 1,
  ContinueAndDontEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}

export enum FilterDataStatus {
  Continue = 0,
  StopIterationAndBuffer = 1,
  StopIterationAndWatermark = 2,
  StopIterationNoBuffer = 3,
}

export enum FilterTrailersStatus {
  Continue = 0,
  StopIteration = 1,
}

/** Envoy Http::FilterMetadataStatus: Continue is the only value (proxy-wasm-abi.md §3.6). */
export enum FilterMetadataStatus {
  Continue = 0,
}

/** Envoy Http::MetadataMap: the key/value pairs of one HTTP/2 METADATA frame (unique keys). */
export type MetadataMap = Map<string, string>;

export interface LocalReply {
  status: number;
  body: string;
  /** Extra headers added to the reply (proxy_send_local_response's header pairs). */
  headers?: Array<[string, string]>;
  /** gRPC status to emit (0..16), or null for none. */
  grpcStatus: number | null;
  /** Response code details (StreamInfo::responseCodeDetails), e.g. "wasm_fail_stream". */
  details: string;
}

export interface StreamFilterCallbacks {
  readonly streamInfo: StreamInfo;
  /** Deferred-safe stream reset (proxy_close_stream → details "wasm_close_stream"). */
  resetStream(details: string): void;
  /** Envoy's clearRouteCache(): the route is recomputed before the router runs. */
  clearRouteCache(): void;
}

export interface DecoderFilterCallbacks extends StreamFilterCallbacks {
  continueDecoding(): void;
  /** Body buffered by the filter manager for this filter (after StopIterationAndBuffer), or null. */
  decodingBuffer(): BodyBuffer | null;
  /** Creates request trailers; only valid in decodeData with end_stream (Envoy addDecodedTrailers). */
  addDecodedTrailers(): HeaderMap;
  /**
   * Envoy addDecodedData: moves `data` into the stream's buffered request body (for a filter that
   * keeps buffering across decodeData calls). `streaming` = watermark semantics (no 413).
   */
  addDecodedData(data: BodyBuffer, streaming: boolean): void;
  requestHeaders(): HeaderMap | null;
  requestTrailers(): HeaderMap | null;
  /** Envoy sendLocalReply: the reply goes through the encoder filters. */
  sendLocalReply(reply: LocalReply): void;
  /** Used by the terminal filter (router) to start the response. */
  encodeHeaders(headers: HeaderMap, endStream: boolean): void;
  encodeData(data: BodyBuffer, endStream: boolean): void;
  encodeTrailers(trailers: HeaderMap): void;
  /** Used by the terminal filter (router) for METADATA from the upstream. */
  encodeMetadata?(metadata: MetadataMap): void;
}

export interface EncoderFilterCallbacks extends StreamFilterCallbacks {
  continueEncoding(): void;
  encodingBuffer(): BodyBuffer | null;
  addEncodedTrailers(): HeaderMap;
  /** Envoy addEncodedData (see addDecodedData); overflow while not streaming answers 500. */
  addEncodedData(data: BodyBuffer, streaming: boolean): void;
  responseHeaders(): HeaderMap | null;
  responseTrailers(): HeaderMap | null;
  sendLocalReply(reply: LocalReply): void;
}

export interface StreamFilterBase {
  /** Access-log phase (Envoy filter log(); Wasm proxy_on_log). Runs before onDestroy. */
  log?(): void;
  /** Stream teardown (Wasm proxy_on_done then proxy_on_delete). */
  onDestroy(): void;
}

export interface StreamDecoderFilter extends StreamFilterBase {
  setDecoderFilterCallbacks(callbacks: DecoderFilterCallbacks): void;
  decodeHeaders(headers: HeaderMap, endStream: boolean): FilterHeadersStatus;
  decodeData(data: BodyBuffer, endStream: boolean): FilterDataStatus;
  decodeTrailers(trailers: HeaderMap): FilterTrailersStatus;
  /** HTTP/2 METADATA from downstream; filters without it let metadata through (Envoy's default). */
  decodeMetadata?(metadata: MetadataMap): FilterMetadataStatus;
}

export interface StreamEncoderFilter extends StreamFilterBase {
  setEncoderFilterCallbacks(callbacks: EncoderFilterCallbacks): void;
  encodeHeaders(headers: HeaderMap, endStream: boolean): FilterHeadersStatus;
  encodeData(data: BodyBuffer, endStream: boolean): FilterDataStatus;
  encodeTrailers(trailers: HeaderMap): FilterTrailersStatus;
  /** HTTP/2 METADATA from the upstream. */
  encodeMetadata?(metadata: MetadataMap): FilterMetadataStatus;
}

export type StreamFilter = StreamDecoderFilter & StreamEncoderFilter;

/** Creates one filter instance per stream (Envoy FilterFactoryCb). */
export type FilterFactory = (streamInfo: StreamInfo) => StreamFilter | StreamDecoderFilter;
