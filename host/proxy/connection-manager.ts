// The HTTP connection manager of one listener (Envoy Http::ConnectionManagerImpl over the HTTP/1.1
// codec): it turns each request into Envoy's header map (:authority, :path, :method, :scheme),
// applies ConnectionManagerUtility's mutations before any filter runs, caches the route, runs the
// HTTP filter chain through the shared FilterManager with the router last, writes the response
// (date, server, hop-by-hop cleanup), and charges the downstream stats.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { HcmModel, ListenerModel } from "../config/model.js";
import type { Counter, Dispatcher, Logger, StatsStore } from "../envoy/server-context.js";
import { BodyBuffer } from "../http/body-buffer.js";
import type { FilterFactory, StreamFilter } from "../http/filter.js";
import { FilterManager, type AnyStreamFilter, type DownstreamCallbacks } from "../http/filter-manager.js";
import { HeaderMap } from "../http/header-map.js";
import { newStreamInfo, ResponseFlag, type ConnectionInfo, type StreamInfo } from "../http/stream-info.js";
import type { ProxyClusterManager } from "./cluster-manager.js";
import { internalAddressMatcher, localAddress, mutateRequestHeaders, mutateResponseHeaders } from "./conn-manager-utility.js";
import { DispatchBatcher } from "./dispatch-batcher.js";
import { formatHeaders, logLazy } from "./logger.js";
import { RouteMatcher, type RouteMatch } from "./route-matcher.js";
import { Router } from "./router.js";
import { codeClassDigit, createVirtualClusterStats, hcmStats, Scope, type HcmStats } from "./stat-names.js";

/** Per downstream connection: Envoy's connection info and the worker the connection is pinned to. */
export interface DownstreamConnection {
  info: ConnectionInfo;
  worker: number;
}

export interface ConnectionManagerOptions {
  listener: ListenerModel;
  stats: StatsStore;
  log: Logger;
  dispatcher: Dispatcher;
  clusters: ProxyClusterManager;
  /** The Wasm filters' factories for a worker, in http_filters order (router excluded). */
  filterFactories(worker: number): FilterFactory[];
  /** listener.<address>. stats scope. */
  listenerScope: Scope;
}

export class ConnectionManager {
  readonly hcm: HcmModel;
  readonly stats: HcmStats;
  readonly routes: RouteMatcher;
  readonly isInternal: (ip: string) => boolean;
  readonly localInfoAddress = localAddress();
  /** http.<stat_prefix>.downstream_rq_completed (index 0) and _<N>xx (index N). */
  private readonly hcmCodes: Counter[];
  /** The same counters under listener.<address>.http.<stat_prefix>. */
  private readonly listenerCodes: Counter[];

  constructor(readonly options: ConnectionManagerOptions) {
    this.hcm = options.listener.hcm;
    this.stats = hcmStats(options.stats, this.hcm.statPrefix);
    this.routes = new RouteMatcher(this.hcm.routeConfig);
    this.isInternal = internalAddressMatcher(this.hcm.internalAddress);
    for (const vh of this.hcm.routeConfig.virtualHosts) createVirtualClusterStats(options.stats, vh.name);
    const s = this.stats;
    this.hcmCodes = [s.downstream_rq_completed, s.downstream_rq_1xx, s.downstream_rq_2xx, s.downstream_rq_3xx, s.downstream_rq_4xx, s.downstream_rq_5xx];
    const listenerHttp = options.listenerScope.scope(`http.${this.hcm.statPrefix}`);
    this.listenerCodes = ["completed", "1xx", "2xx", "3xx", "4xx", "5xx"].map((n) => listenerHttp.counter(`downstream_rq_${n}`));
  }

  /** A new downstream connection on this listener. */
  onConnection(socket: Socket): void {
    const s = this.stats;
    s.downstream_cx_total.inc();
    s.downstream_cx_http1_total.inc();
    s.downstream_cx_active.add(1n);
    s.downstream_cx_http1_active.add(1n);
    const started = process.hrtime.bigint();
    socket.once("close", () => {
      s.downstream_cx_active.sub(1n);
      s.downstream_cx_http1_active.sub(1n);
      s.downstream_cx_destroy.inc();
      s.downstream_cx_rx_bytes_total.inc(BigInt(socket.bytesRead));
      s.downstream_cx_tx_bytes_total.inc(BigInt(socket.bytesWritten));
      s.cxLength.record(Number(process.hrtime.bigint() - started) / 1e6);
    });
  }

  onRequest(req: IncomingMessage, res: ServerResponse, conn: DownstreamConnection): void {
    const stream = new ActiveStream(this, req, res, conn);
    try {
      stream.start();
    } catch (e) {
      stream.internalError(e as Error);
    }
  }

  /** Envoy ActiveStream::chargeStats: counted when the response headers are encoded. */
  chargeResponseCode(status: number): void {
    this.hcmCodes[0]!.inc();
    this.listenerCodes[0]!.inc();
    const c = codeClassDigit(status);
    if (c !== 0) {
      this.hcmCodes[c]!.inc();
      this.listenerCodes[c]!.inc();
    }
  }
}

/** Envoy's default max_headers_count. */
const MAX_REQUEST_HEADERS_COUNT = 100;

const isUpgrade = (req: IncomingMessage): boolean =>
  req.headers.upgrade !== undefined && /(^|,)\s*upgrade\s*(,|$)/i.test(req.headers.connection ?? "");

const hasBody = (req: IncomingMessage): boolean => {
  const cl = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (cl !== undefined && cl !== "0");
};

/** One request/response exchange (Envoy ConnectionManagerImpl::ActiveStream). */
class ActiveStream implements DownstreamCallbacks {
  private readonly streamInfo: StreamInfo;
  private manager!: FilterManager;
  private router!: Router;
  private cachedRoute: RouteMatch | undefined | null = null;
  private requestHeaders!: HeaderMap;
  private finished = false;

  constructor(
    private readonly cm: ConnectionManager,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly conn: DownstreamConnection,
  ) {
    const d = cm.options.dispatcher;
    const listener = cm.options.listener;
    this.streamInfo = newStreamInfo({
      connection: { ...conn.info },
      startTimeNs: d.systemTimeNs(),
      startMonotonicNs: d.monotonicTimeNs(),
      protocol: req.httpVersion === "1.0" ? "HTTP/1.0" : "HTTP/1.1",
      listenerDirection: listener.trafficDirection,
      listenerMetadata: listener.metadata,
      filterChainName: listener.filterChainName,
    });
  }

  start(): void {
    const s = this.cm.stats;
    s.downstream_rq_total.inc();
    s.downstream_rq_http1_total.inc();
    s.downstream_rq_active.add(1n);
    this.res.sendDate = false;
    this.res.once("close", () => this.onClose());
    if (this.req.httpVersion !== "1.1") {
      // Envoy's HTTP/1 codec rejects HTTP/1.0 unless http_protocol_options.accept_http_10.
      this.replyWithoutFilters(426, "Upgrade Required", "http1.codec_error");
      return;
    }
    if (this.req.rawHeaders.length / 2 > MAX_REQUEST_HEADERS_COUNT) {
      // Envoy's codec: more than max_headers_count (100) headers.
      this.replyWithoutFilters(431, "Request Header Fields Too Large", "http1.too_many_headers");
      return;
    }
    const headers = this.buildRequestHeaders();
    if (!headers) {
      this.replyWithoutFilters(400, "Bad Request", "http1.codec_error");
      return;
    }
    if (!headers.get(":authority")) {
      // Envoy requires a host: "missing_host_header" before any filter exists.
      this.replyWithoutFilters(400, "", "missing_host_header", false);
      return;
    }
    this.requestHeaders = headers;
    const mutated = mutateRequestHeaders(
      headers,
      { remote: this.conn.info.source.ip, localInfoAddress: this.cm.localInfoAddress },
      this.cm.hcm,
      this.cm.isInternal,
      this.cm.hcm.routeConfig.internalOnlyHeaders,
    );
    // Envoy replaces the stream's downstream remote address with the trusted client address.
    this.streamInfo.connection.source = { ip: mutated.finalRemoteAddress, port: mutated.finalRemoteAddress === this.conn.info.source.ip ? this.conn.info.source.port : 0 };
    this.streamInfo.requestId = headers.get("x-request-id");
    this.streamInfo.requestHeaders = headers;
    this.refreshRoute();

    const opts = this.cm.options;
    this.router = new Router({
      route: () => this.route(),
      cluster: (name) => opts.clusters.get(name),
      routeConfig: this.cm.hcm.routeConfig,
      stats: this.cm.stats,
      dispatcher: opts.dispatcher,
      log: opts.log,
      suppressEnvoyHeaders: this.routerConfig().suppressEnvoyHeaders,
      bufferLimitBytes: opts.listener.bufferLimitBytes,
      pauseDownstream: () => {
        this.req.pause();
        return () => this.req.resume();
      },
    });
    const filters: AnyStreamFilter[] = opts.filterFactories(this.conn.worker).map((f) => f(this.streamInfo) as StreamFilter);
    filters.push(this.router);
    this.manager = new FilterManager({ streamInfo: this.streamInfo, filters, downstream: this, bufferLimitBytes: opts.listener.bufferLimitBytes });
    if (isUpgrade(this.req)) {
      // No upgrade_configs are supported, so Envoy rejects the upgrade with a 403 that still
      // travels through the (default) filter chain.
      this.cm.stats.downstream_rq_ws_on_non_ws_route.inc();
      this.req.resume();
      this.manager.sendLocalReply({ status: 403, body: "", grpcStatus: null, details: "upgrade_failed" });
      return;
    }
    logLazy(opts.log, "http", "debug", () => `request headers complete (end_stream=${!hasBody(this.req)}):\n${formatHeaders(headers)}`);

    const body = hasBody(this.req);
    this.manager.decodeHeaders(headers, !body);
    if (!body) {
      this.req.resume();
      return;
    }
    const batcher = new DispatchBatcher((data, endStream) => {
      try {
        if (!this.finished && !this.manager.remoteDecodeComplete) this.manager.decodeData(data, endStream);
      } catch (e) {
        this.internalError(e as Error);
      }
    });
    this.req.on("data", (chunk: Buffer) => batcher.push(chunk));
    this.req.on("end", () => batcher.end());
    this.req.on("error", () => batcher.cancel());
  }

  private routerConfig(): { suppressEnvoyHeaders: boolean } {
    const last = this.cm.hcm.httpFilters[this.cm.hcm.httpFilters.length - 1];
    return { suppressEnvoyHeaders: last?.kind === "router" ? last.suppressEnvoyHeaders : false };
  }

  /** Envoy's HTTP/1 codec: Host becomes :authority, the request line :method and :path. */
  private buildRequestHeaders(): HeaderMap | undefined {
    let path = this.req.url ?? "/";
    let authority = this.req.headers.host;
    if (/^https?:\/\//i.test(path)) {
      // An absolute-form request target carries the authority (Envoy allow_absolute_url).
      try {
        const u = new URL(path);
        authority = u.host;
        path = `${u.pathname}${u.search}`;
      } catch {
        return undefined;
      }
    } else if (!path.startsWith("/") && path !== "*") {
      return undefined;
    }
    const headers = new HeaderMap([
      [":authority", authority ?? ""],
      [":path", path],
      [":method", this.req.method ?? "GET"],
    ]);
    const raw = this.req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i]!.toLowerCase();
      // Expect: 100-continue is answered locally (Node sends the 100) and removed, as Envoy does
      // without proxy_100_continue.
      if (k === "host" || (k === "expect" && raw[i + 1]!.toLowerCase() === "100-continue")) continue;
      headers.add(k, raw[i + 1]!);
    }
    return headers;
  }

  // ---------------------------------------------------------------- route cache

  /** Envoy refreshCachedRoute(): the route and what StreamInfo reports about it. */
  private refreshRoute(): void {
    const match = this.cm.routes.route(this.requestHeaders);
    this.cachedRoute = match;
    const si = this.streamInfo;
    si.virtualHostName = match?.vhost.name;
    si.virtualHostMetadata = match?.vhost.metadata;
    si.routeName = match?.route.name;
    si.routeMetadata = match?.route.metadata;
    const action = match?.route.action;
    if (action?.kind === "route") {
      si.clusterName = action.cluster;
      si.clusterMetadata = this.cm.options.clusters.get(action.cluster)?.cluster.model.metadata;
    } else {
      si.clusterName = undefined;
      si.clusterMetadata = undefined;
    }
  }

  private route(): RouteMatch | undefined {
    if (this.cachedRoute === null) this.refreshRoute();
    return this.cachedRoute ?? undefined;
  }

  clearRouteCache(): void {
    this.cachedRoute = null;
  }

  // ---------------------------------------------------------------- downstream (codec) side

  encodeHeaders(headers: HeaderMap, endStream: boolean): void {
    if (this.res.headersSent || this.res.destroyed) return;
    mutateResponseHeaders(headers, this.requestHeaders ?? null, this.cm.hcm);
    const status = Number(headers.get(":status")) || 500;
    this.streamInfo.responseCode = status;
    this.cm.chargeResponseCode(status);
    // Envoy's HTTP/1 encoder: a response ending with its headers carries content-length: 0.
    const bodiless = status < 200 || status === 204 || status === 304 || this.requestHeaders?.get(":method") === "HEAD";
    if (endStream && !bodiless && !headers.has("content-length")) headers.set("content-length", "0");
    const flat: string[] = [];
    for (const [k, v] of headers) if (!k.startsWith(":")) flat.push(k, v);
    try {
      // Envoy sends no Connection header on a persistent HTTP/1.1 connection, and
      // "connection: close" (Node adds it) when the client asked to close.
      if (this.res.shouldKeepAlive) this.res.removeHeader("connection");
      this.res.writeHead(status, flat);
      if (endStream) this.res.end();
    } catch (e) {
      this.cm.options.log.log("http", "debug", `cannot encode response headers: ${(e as Error).message}`);
      this.resetStream("codec_error");
    }
  }

  encodeData(data: BodyBuffer, endStream: boolean): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    try {
      const ok = data.length ? this.res.write(data.toBuffer()) : true;
      if (endStream) this.res.end();
      else if (!ok) {
        // Downstream is slower than upstream: stop reading the upstream response until it drains.
        this.router.onAboveWriteBufferHighWatermark();
        this.res.once("drain", () => this.router.onBelowWriteBufferLowWatermark());
      }
    } catch (e) {
      this.cm.options.log.log("http", "debug", `cannot encode response data: ${(e as Error).message}`);
      this.resetStream("codec_error");
    }
  }

  encodeTrailers(_trailers: HeaderMap): void {
    // Envoy's HTTP/1 codec drops trailers unless http_protocol_options.enable_trailers.
    if (!this.res.destroyed && !this.res.writableEnded) this.res.end();
  }

  resetStream(details: string): void {
    this.cm.options.log.log("http", "debug", `resetting stream: ${details}`);
    this.cm.stats.downstream_rq_tx_reset.inc();
    if (!this.streamInfo.responseCodeDetails) this.streamInfo.responseCodeDetails = details;
    // Envoy's codec wrote encoded response headers out at once; Node holds them until the first
    // body write. Send them before the reset, so the client sees what a client of Envoy sees.
    if (this.res.headersSent && !this.res.writableEnded) this.res.flushHeaders();
    this.res.destroy();
  }

  /** An exception escaped the stream's processing: a bug, logged, and the stream is reset. */
  internalError(error: Error): void {
    this.cm.options.log.log("http", "critical", `internal error on a stream: ${error.stack ?? error.message}`);
    this.resetStream("internal_error");
  }

  /** Envoy DownstreamFilterManager::sendLocalReply: "Sending local reply with details <details>" at debug. */
  onLocalReply(reply: { details: string }): void {
    this.cm.options.log.log("http", "debug", `Sending local reply with details ${reply.details}`);
  }

  /** A reply before any filter exists: codec errors (which close the connection), missing host. */
  private replyWithoutFilters(status: number, body: string, details: string, close = true): void {
    this.onLocalReply({ details });
    this.streamInfo.responseCodeDetails = details;
    const headers = new HeaderMap([
      [":status", String(status)],
      ["content-length", String(Buffer.byteLength(body))],
    ]);
    if (body) headers.set("content-type", "text/plain");
    mutateResponseHeaders(headers, null, this.cm.hcm);
    this.cm.chargeResponseCode(status);
    const flat: string[] = [];
    for (const [k, v] of headers) if (!k.startsWith(":")) flat.push(k, v);
    if (close) {
      // The codec closes the connection after a protocol error.
      flat.push("connection", "close");
      this.res.shouldKeepAlive = false;
    } else {
      this.res.removeHeader("connection");
    }
    this.res.writeHead(status, flat);
    this.res.end(body);
  }

  private onClose(): void {
    if (this.finished) return;
    this.finished = true;
    const s = this.cm.stats;
    s.downstream_rq_active.sub(1n);
    const d = this.cm.options.dispatcher;
    this.streamInfo.completeMonotonicNs = d.monotonicTimeNs();
    if (!this.res.writableFinished) {
      // The client went away before the response completed.
      this.streamInfo.responseFlags |= ResponseFlag.DownstreamConnectionTermination;
      s.downstream_rq_rx_reset.inc();
    }
    s.rqTime.record(Number(this.streamInfo.completeMonotonicNs - this.streamInfo.startMonotonicNs) / 1e6);
    this.manager?.finish();
  }
}
