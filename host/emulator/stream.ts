// One HTTP stream in the emulator: the real FilterManager running the plugins' Wasm filters (in
// chain order) with a stand-in for the router as terminal filter. The test plays downstream
// (sendRequest*) and upstream (sendResponse*), and reads what each side received, each filter's
// returned status, the local reply, and the stream's filter state.
import { BodyBuffer } from "../http/body-buffer.js";
import { FilterManager, type AnyStreamFilter } from "../http/filter-manager.js";
import {
  FilterDataStatus,
  FilterHeadersStatus,
  FilterMetadataStatus,
  FilterTrailersStatus,
  type DecoderFilterCallbacks,
  type LocalReply,
  type MetadataMap,
  type StreamDecoderFilter,
} from "../http/filter.js";
import type { HeaderMap } from "../http/header-map.js";
import type { FilterStateValue, StreamInfo } from "../http/stream-info.js";
import type { VirtualClock } from "./clock.js";
import { toHeaderMap, type HeadersInit } from "./clusters.js";

/** One filter callback as the FilterManager saw it. */
export interface FilterCall {
  /** Plugin name (extra native filters are "before0", "after0", ...). */
  filter: string;
  callback: "decodeHeaders" | "decodeData" | "decodeTrailers" | "decodeMetadata" | "encodeHeaders" | "encodeData" | "encodeTrailers" | "encodeMetadata";
  /** The status the filter returned to the FilterManager (after Envoy's conversions). */
  status: number;
}

/** What one side of the stream received. */
export interface ReceivedMessage {
  headers: HeaderMap | null;
  body: Buffer;
  trailers: HeaderMap | null;
  /** The last frame had end_stream (or trailers arrived). */
  complete: boolean;
  /** HTTP/2 METADATA frames that reached this side, in order. */
  metadata: MetadataMap[];
}

const emptyMessage = (): ReceivedMessage => ({ headers: null, body: Buffer.alloc(0), trailers: null, complete: false, metadata: [] });

type Body = string | Uint8Array;
/** METADATA as an object, pairs or a Map (keys are unique in Envoy's MetadataMap). */
export type MetadataInit = Record<string, string> | Array<[string, string]> | Map<string, string>;
const toMetadataMap = (m: MetadataInit): MetadataMap => new Map(m instanceof Map ? m : Array.isArray(m) ? m : Object.entries(m));
const toBody = (b: Body): BodyBuffer => new BodyBuffer(typeof b === "string" ? Buffer.from(b) : b);

/** The router's place: records the request and lets the test answer as the upstream. */
class UpstreamStandIn implements StreamDecoderFilter {
  callbacks: DecoderFilterCallbacks | null = null;
  readonly request = emptyMessage();

  constructor(
    private readonly info: StreamInfo,
    private readonly clock: VirtualClock,
  ) {}

  setDecoderFilterCallbacks(callbacks: DecoderFilterCallbacks): void {
    this.callbacks = callbacks;
  }
  decodeHeaders(headers: HeaderMap, endStream: boolean): FilterHeadersStatus {
    this.request.headers = headers.clone();
    this.request.complete = endStream;
    this.info.upstream.requestAttemptCount++;
    this.info.upstreamRequestSentMonotonicNs ??= this.clock.monotonicTimeNs();
    return FilterHeadersStatus.StopIteration;
  }
  decodeData(data: BodyBuffer, endStream: boolean): FilterDataStatus {
    // The router moves the body upstream: the buffer is drained.
    this.request.body = Buffer.concat([this.request.body, data.toBuffer()]);
    data.drain(data.length);
    this.request.complete = endStream;
    return FilterDataStatus.StopIterationNoBuffer;
  }
  decodeTrailers(trailers: HeaderMap): FilterTrailersStatus {
    this.request.trailers = trailers.clone();
    this.request.complete = true;
    return FilterTrailersStatus.StopIteration;
  }
  /** Envoy's router forwards request METADATA to the upstream request. */
  decodeMetadata(metadata: MetadataMap): FilterMetadataStatus {
    this.request.metadata.push(new Map(metadata));
    return FilterMetadataStatus.Continue;
  }
  onDestroy(): void {}
}

/** Wraps a filter to record every status it returns. */
function recording(name: string, filter: AnyStreamFilter, calls: FilterCall[]): AnyStreamFilter {
  const wrap = <A extends unknown[]>(callback: FilterCall["callback"], f: ((...a: A) => number) | undefined) =>
    f
      ? (...a: A): number => {
          const status = f.apply(filter, a);
          calls.push({ filter: name, callback, status });
          return status;
        }
      : undefined;
  return {
    setDecoderFilterCallbacks: filter.setDecoderFilterCallbacks?.bind(filter),
    setEncoderFilterCallbacks: filter.setEncoderFilterCallbacks?.bind(filter),
    decodeHeaders: wrap("decodeHeaders", filter.decodeHeaders),
    decodeData: wrap("decodeData", filter.decodeData),
    decodeTrailers: wrap("decodeTrailers", filter.decodeTrailers),
    decodeMetadata: wrap("decodeMetadata", filter.decodeMetadata),
    encodeHeaders: wrap("encodeHeaders", filter.encodeHeaders),
    encodeData: wrap("encodeData", filter.encodeData),
    encodeTrailers: wrap("encodeTrailers", filter.encodeTrailers),
    encodeMetadata: wrap("encodeMetadata", filter.encodeMetadata),
    log: filter.log?.bind(filter),
    onDestroy: filter.onDestroy.bind(filter),
  } as AnyStreamFilter;
}

export class EmulatedStream {
  readonly filterManager: FilterManager;
  /** Every filter callback of this stream, in order, with the status it returned. */
  readonly calls: FilterCall[] = [];
  /** What reached the downstream client (after the encoder filters). */
  readonly downstream = emptyMessage();
  /** Reset details when the stream was reset instead of answered. */
  resetReason: string | null = null;
  /** How many times a filter cleared the route cache (clear_route_cache). */
  routeCacheClears = 0;
  private readonly router: UpstreamStandIn;
  private readonly pluginFilters: Set<string>;
  private completed = false;

  /** @internal Use Emulator.newStream(). */
  constructor(
    readonly streamInfo: StreamInfo,
    filters: Array<{ name: string; filter: AnyStreamFilter; plugin: boolean }>,
    private readonly clock: VirtualClock,
    private readonly afterOperation: () => void,
    bufferLimitBytes?: number,
  ) {
    this.router = new UpstreamStandIn(streamInfo, clock);
    this.pluginFilters = new Set(filters.filter((f) => f.plugin).map((f) => f.name));
    this.filterManager = new FilterManager({
      streamInfo,
      filters: [...filters.map((f) => recording(f.name, f.filter, this.calls)), this.router],
      bufferLimitBytes,
      downstream: {
        encodeHeaders: (headers, endStream) => {
          this.downstream.headers = headers.clone();
          this.downstream.complete = endStream;
        },
        encodeData: (data, endStream) => {
          this.downstream.body = Buffer.concat([this.downstream.body, data.toBuffer()]);
          this.downstream.complete = endStream;
        },
        encodeTrailers: (trailers) => {
          this.downstream.trailers = trailers.clone();
          this.downstream.complete = true;
        },
        resetStream: (details) => {
          this.resetReason = details;
        },
        encodeMetadata: (metadata) => {
          this.downstream.metadata.push(new Map(metadata));
        },
        clearRouteCache: () => {
          this.routeCacheClears++;
        },
      },
    });
  }

  // ------------------------------------------------------------------ downstream → filters

  /** Request headers from the client. Returns the first plugin filter's status (undefined if not called). */
  sendRequestHeaders(headers: HeadersInit, options: { endStream?: boolean } = {}): number | undefined {
    return this.step("decodeHeaders", () => this.filterManager.decodeHeaders(toHeaderMap(headers), options.endStream ?? false));
  }

  /** A request body chunk. `endStream` defaults to true. */
  sendRequestBody(body: Body, options: { endStream?: boolean } = {}): number | undefined {
    return this.step("decodeData", () => this.filterManager.decodeData(toBody(body), options.endStream ?? true));
  }

  sendRequestTrailers(trailers: HeadersInit): number | undefined {
    return this.step("decodeTrailers", () => this.filterManager.decodeTrailers(toHeaderMap(trailers)));
  }

  /**
   * An HTTP/2 METADATA frame from the client, after the request headers and before its end
   * (Envoy's codec passes METADATA only on HTTP/2 with http2_protocol_options.allow_metadata).
   */
  sendRequestMetadata(metadata: MetadataInit): number | undefined {
    this.requireHttp2("sendRequestMetadata");
    if (!this.filterManager.requestHeadersMap) throw new Error("sendRequestMetadata(): METADATA before the request headers has no stream to go to");
    if (this.filterManager.remoteDecodeComplete) throw new Error("sendRequestMetadata(): the request already ended (HTTP/2 allows no frames after END_STREAM)");
    return this.step("decodeMetadata", () => this.filterManager.decodeMetadata(toMetadataMap(metadata)));
  }

  // ------------------------------------------------------------------ upstream → filters

  /** Response headers from the upstream (through the encoder filters, in reverse order). */
  sendResponseHeaders(headers: HeadersInit, options: { endStream?: boolean } = {}): number | undefined {
    const map = toHeaderMap(headers);
    if (!map.has(":status")) map.set(":status", "200");
    this.streamInfo.upstreamFirstByteMonotonicNs ??= this.clock.monotonicTimeNs();
    // Envoy's router marks responses that came from the upstream.
    this.streamInfo.responseCodeDetails ??= "via_upstream";
    const end = options.endStream ?? false;
    if (end) this.streamInfo.upstreamLastByteMonotonicNs = this.clock.monotonicTimeNs();
    return this.step("encodeHeaders", () => this.upstreamCallbacks().encodeHeaders(map, end));
  }

  /** A response body chunk. `endStream` defaults to true. */
  sendResponseBody(body: Body, options: { endStream?: boolean } = {}): number | undefined {
    const end = options.endStream ?? true;
    if (end) this.streamInfo.upstreamLastByteMonotonicNs = this.clock.monotonicTimeNs();
    return this.step("encodeData", () => this.upstreamCallbacks().encodeData(toBody(body), end));
  }

  sendResponseTrailers(trailers: HeadersInit): number | undefined {
    this.streamInfo.upstreamLastByteMonotonicNs = this.clock.monotonicTimeNs();
    return this.step("encodeTrailers", () => this.upstreamCallbacks().encodeTrailers(toHeaderMap(trailers)));
  }

  /** An HTTP/2 METADATA frame from the upstream (through the router, before or after response headers). */
  sendResponseMetadata(metadata: MetadataInit): number | undefined {
    this.requireHttp2("sendResponseMetadata");
    return this.step("encodeMetadata", () => this.upstreamCallbacks().encodeMetadata!(toMetadataMap(metadata)));
  }

  /** A whole upstream response: headers, optional body and trailers. */
  respond(response: { status?: number; headers?: HeadersInit; body?: Body; trailers?: HeadersInit } = {}): void {
    const headers = toHeaderMap(response.headers);
    headers.set(":status", String(response.status ?? 200));
    const hasBody = response.body !== undefined && response.body.length > 0;
    this.sendResponseHeaders(headers, { endStream: !hasBody && !response.trailers });
    if (hasBody && !this.filterManager.done) this.sendResponseBody(response.body!, { endStream: !response.trailers });
    if (response.trailers && !this.filterManager.done) this.sendResponseTrailers(response.trailers);
  }

  /**
   * Ends the stream as Envoy's connection manager does: access log (proxy_on_log) then destroy
   * (proxy_on_done, proxy_on_delete). Safe to call once; later calls do nothing.
   */
  complete(): void {
    if (this.completed) return;
    this.completed = true;
    this.streamInfo.completeMonotonicNs ??= this.clock.monotonicTimeNs();
    this.filterManager.finish();
    this.afterOperation();
  }

  // ------------------------------------------------------------------ inspection

  /** What reached the upstream (the router's place). */
  get upstream(): ReceivedMessage {
    return this.router.request;
  }

  /** The request headers as the filters left them (live map). */
  get requestHeaders(): HeaderMap | null {
    return this.filterManager.requestHeadersMap;
  }

  /** The local reply sent on this stream (by a filter or by the FilterManager), if any. */
  get localReply(): LocalReply | null {
    return this.filterManager.localReply;
  }

  /** A filter-state entry (proxy_set_property writes `wasm.<name>`). */
  filterState(key: string): FilterStateValue | undefined {
    return this.streamInfo.filterState.get(key);
  }

  /** The status a filter returned in its last call of `callback`. */
  lastStatus(callback: FilterCall["callback"], filter?: string): number | undefined {
    for (let i = this.calls.length - 1; i >= 0; i--) {
      const c = this.calls[i]!;
      if (c.callback === callback && (filter === undefined || c.filter === filter)) return c.status;
    }
    return undefined;
  }

  private upstreamCallbacks(): DecoderFilterCallbacks {
    if (!this.router.callbacks) throw new Error("the router stand-in has no callbacks");
    return this.router.callbacks;
  }

  private requireHttp2(operation: string): void {
    if (this.streamInfo.protocol !== "HTTP/2") {
      throw new Error(`${operation}(): METADATA frames exist only on HTTP/2 streams (this stream is ${this.streamInfo.protocol}; set streamInfo.protocol)`);
    }
  }

  private step(callback: FilterCall["callback"], run: () => void): number | undefined {
    if (this.completed) throw new Error(`${callback}: the stream was already completed`);
    const before = this.calls.length;
    run();
    this.afterOperation();
    return this.calls.slice(before).find((c) => c.callback === callback && this.pluginFilters.has(c.filter))?.status;
  }
}
