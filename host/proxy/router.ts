// The router, the terminal decoder filter of every HTTP filter chain (Envoy Router::Filter,
// source/common/router/router.cc; filters.md §3). It takes the route the connection manager
// cached (re-evaluated after clearRouteCache()), answers no-route / direct-response / no-cluster /
// no-healthy-upstream locally, applies the route's header mutations, host and prefix rewrites and
// timeouts, sends the request upstream, and retries per the retry policy and x-envoy-* headers.
// Local replies go back through the encoder filters via sendLocalReply, as in Envoy.
import type { RouteActionModel, RouteConfigModel } from "../config/model.js";
import type { Dispatcher, Logger, Timer } from "../envoy/server-context.js";
import { BodyBuffer } from "../http/body-buffer.js";
import {
  FilterDataStatus,
  FilterHeadersStatus,
  FilterTrailersStatus,
  type DecoderFilterCallbacks,
  type StreamDecoderFilter,
} from "../http/filter.js";
import { HeaderMap } from "../http/header-map.js";
import { ResponseFlag } from "../http/stream-info.js";
import type { Cluster, UpstreamHost } from "./cluster.js";
import { finalizeRequestHeaders, finalizeResponseHeaders } from "./header-mutation.js";
import { formatHeaders, logLazy } from "./logger.js";
import { RetryState, type ResetReason, type RetryBudget } from "./retry-state.js";
import type { RouteMatch } from "./route-matcher.js";
import { finalTimeout, setTimeoutHeaders, type TimeoutData } from "./router-timeouts.js";
import type { HcmStats } from "./stat-names.js";
import type { UpstreamRequest, UpstreamRequestCallbacks } from "./upstream-request.js";
import { newUpstreamRequest } from "./upstream-request-factory.js";

/** What the router needs from its connection manager and server. */
export interface RouterContext {
  /** The stream's cached route (Envoy callbacks_->route()). */
  route(): RouteMatch | undefined;
  cluster(name: string): { cluster: Cluster; retryBudget: RetryBudget } | undefined;
  routeConfig: RouteConfigModel;
  stats: HcmStats;
  dispatcher: Dispatcher;
  log: Logger;
  suppressEnvoyHeaders: boolean;
  /** Envoy's retry/shadow buffer limit: the connection's buffer limit. */
  bufferLimitBytes: number;
  /** Stop reading the downstream request until `resume` is called (upstream backpressure). */
  pauseDownstream(): () => void;
  random?(): number;
}

const connectFailures = new Set<ResetReason>(["local connection failure", "remote connection failure", "connection timeout"]);

/** Envoy Filter::streamResetReasonToResponseFlag. */
function resetFlag(reason: ResetReason): ResponseFlag {
  switch (reason) {
    case "local connection failure":
    case "remote connection failure":
    case "connection timeout":
      return ResponseFlag.UpstreamConnectionFailure;
    case "connection termination":
      return ResponseFlag.UpstreamConnectionTermination;
    case "local reset":
      return ResponseFlag.LocalReset;
    case "overflow":
      return ResponseFlag.UpstreamOverflow;
    case "protocol error":
      return ResponseFlag.UpstreamProtocolError;
    default:
      return ResponseFlag.UpstreamRemoteReset;
  }
}

/** StringUtil::replaceAllEmptySpace, used in response code details. */
const noSpaces = (s: string): string => s.replace(/\s/g, "_");

export class Router implements StreamDecoderFilter, UpstreamRequestCallbacks {
  private callbacks!: DecoderFilterCallbacks;
  private headers!: HeaderMap;
  private routeMatch: RouteMatch | undefined;
  private action!: RouteActionModel;
  private cluster!: Cluster;
  private retryBudget!: RetryBudget;
  private timeout: TimeoutData = { globalMs: 0, perTryMs: 0 };
  private retryState: RetryState | undefined;
  private upstream: UpstreamRequest | undefined;
  private pendingRetries = 0;
  private attemptCount = 1;
  private isRetry = false;
  private downstreamEndStream = false;
  private downstreamTrailers = false;
  private requestCompleteNs: bigint | undefined;
  private downstreamResponseStarted = false;
  private upstreamRequestStarted = false;
  private responseTimer: Timer | undefined;
  private perTryTimer: Timer | undefined;
  private timeoutResponseCode = 504;
  private includeAttemptCountInResponse = false;
  private includeAttemptCountInRequest = false;
  private readonly attemptedHosts = new Set<UpstreamHost>();
  private resumeDownstream: (() => void) | undefined;
  /** The current attempt has a connection (counted in upstream_rq_total / _active). */
  private upstreamReady = false;
  /** x-envoy-hedge-on-per-try-timeout (router.cc finalHedgingParams; no route hedge_policy here). */
  private hedgeOnPerTryTimeout = false;
  /**
   * Earlier attempts still awaiting headers after a per-try timeout with hedging: Envoy keeps
   * them in upstream_requests_ beside the newer attempt; the first good response wins.
   */
  private readonly hedged: UpstreamRequest[] = [];
  private destroyed = false;

  constructor(private readonly ctx: RouterContext) {}

  setDecoderFilterCallbacks(callbacks: DecoderFilterCallbacks): void {
    this.callbacks = callbacks;
  }

  private get streamInfo() {
    return this.callbacks.streamInfo;
  }

  // ------------------------------------------------------------------------- decoding

  decodeHeaders(headers: HeaderMap, endStream: boolean): FilterHeadersStatus {
    this.headers = headers;
    this.ctx.stats.rq_total.inc();
    const match = this.ctx.route();
    this.routeMatch = match;
    if (!match) {
      this.ctx.stats.no_route.inc();
      this.ctx.log.log("router", "debug", `no route match for URL '${headers.get(":path") ?? ""}'`);
      this.streamInfo.responseFlags |= ResponseFlag.NoRouteFound;
      this.callbacks.sendLocalReply({ status: 404, body: "", grpcStatus: null, details: "route_not_found" });
      return FilterHeadersStatus.StopIteration;
    }
    const action = match.route.action;
    if (action.kind === "direct_response") {
      this.ctx.stats.rq_direct_response.inc();
      const extra = new HeaderMap();
      finalizeResponseHeaders(extra, this.mutationLevels(), { streamInfo: this.streamInfo, requestHeaders: headers });
      this.callbacks.sendLocalReply({
        status: action.status,
        body: action.body ? action.body.toString("latin1") : "",
        headers: extra.entries(),
        grpcStatus: null,
        details: "direct_response",
      });
      return FilterHeadersStatus.StopIteration;
    }
    this.action = action;
    const found = this.ctx.cluster(action.cluster);
    if (!found) {
      this.ctx.stats.no_cluster.inc();
      this.streamInfo.responseFlags |= ResponseFlag.NoClusterFound;
      this.callbacks.sendLocalReply({ status: 503, body: "", grpcStatus: null, details: "cluster_not_found" });
      return FilterHeadersStatus.StopIteration;
    }
    this.cluster = found.cluster;
    this.retryBudget = found.retryBudget;
    logLazy(this.ctx.log, "router", "debug", () => `cluster '${action.cluster}' match for URL '${headers.get(":path") ?? ""}'`);

    const retryPolicy = action.retryPolicy ?? match.vhost.retryPolicy;
    // Envoy finalHedgingParams: exactly "true" or "false" overrides; the header goes either way
    // (RetryState.create removes it with the other retry headers).
    const hedge = headers.get("x-envoy-hedge-on-per-try-timeout");
    if (hedge === "true" || hedge === "false") this.hedgeOnPerTryTimeout = hedge === "true";
    this.timeout = finalTimeout(action.timeoutMs, retryPolicy?.perTryTimeoutMs ?? 0, headers, !this.ctx.suppressEnvoyHeaders, this.hedgeOnPerTryTimeout);
    if (headers.has("x-envoy-upstream-rq-timeout-alt-response")) {
      this.timeoutResponseCode = 204;
      headers.remove("x-envoy-upstream-rq-timeout-alt-response");
    }
    this.includeAttemptCountInRequest = match.vhost.includeRequestAttemptCount;
    this.includeAttemptCountInResponse = match.vhost.includeAttemptCountInResponse;
    if (this.includeAttemptCountInRequest) headers.set("x-envoy-attempt-count", String(this.attemptCount));
    this.streamInfo.upstream.requestAttemptCount = this.attemptCount;
    this.finalizeRequestHeaders(headers);
    // Envoy setUpstreamScheme: plaintext upstreams get :scheme http.
    headers.set(":scheme", "http");

    this.retryState = RetryState.create(retryPolicy, headers, {
      stats: this.cluster.stats,
      budget: this.retryBudget,
      createTimer: (cb) => this.ctx.dispatcher.createTimer(cb),
      random: this.ctx.random ?? Math.random,
    });
    logLazy(this.ctx.log, "router", "debug", () => `router decoding headers:\n${formatHeaders(headers)}`);

    this.downstreamEndStream = endStream;
    if (!this.startUpstream(endStream)) return FilterHeadersStatus.StopIteration;
    if (endStream) this.onRequestComplete();
    return FilterHeadersStatus.StopIteration;
  }

  decodeData(data: BodyBuffer, endStream: boolean): FilterDataStatus {
    let buffering = this.retryState?.enabled ?? false;
    const bufferedLength = this.callbacks.decodingBuffer()?.length ?? 0;
    if (buffering && bufferedLength + data.length > this.ctx.bufferLimitBytes) {
      // Envoy gives up on retrying once the request body outgrows the buffer limit.
      this.ctx.log.log("router", "debug", `The request payload has at least ${bufferedLength + data.length} bytes data which exceeds buffer limit ${this.ctx.bufferLimitBytes}. Give up on the retry/shadow.`);
      this.cluster.stats.retry_or_shadow_abandoned.inc();
      this.retryState?.resetRetry();
      this.retryState = undefined;
      buffering = false;
      if (!this.upstream) {
        this.cleanup();
        this.callbacks.sendLocalReply({
          status: 507,
          body: "exceeded request buffer limit while retrying upstream",
          headers: this.responseModifications(),
          grpcStatus: null,
          details: "request_payload_exceeded_retry_buffer_limit",
        });
        return FilterDataStatus.StopIterationNoBuffer;
      }
    }
    if (endStream) this.downstreamEndStream = true;
    if (buffering) {
      this.upstream?.sendData(data.toBuffer(), endStream);
      // Kept for a retry: Envoy buffers with addDecodedData(data, streaming = true).
      this.callbacks.addDecodedData(data, true);
    } else if (this.upstream) {
      this.sendUpstream(data.toBuffer(), endStream);
    } else if (data.length || endStream) {
      this.cleanup();
      this.callbacks.sendLocalReply({
        status: 503,
        body: "upstream is closed prematurely during decoding data from downstream",
        headers: this.responseModifications(),
        grpcStatus: null,
        details: "upstream_reset_before_response_started",
      });
      return FilterDataStatus.StopIterationNoBuffer;
    }
    if (endStream) this.onRequestComplete();
    return FilterDataStatus.StopIterationNoBuffer;
  }

  decodeTrailers(_trailers: HeaderMap): FilterTrailersStatus {
    // Envoy's HTTP/1 codec sends no trailers upstream unless enable_trailers; the body ends here.
    this.downstreamTrailers = true;
    this.downstreamEndStream = true;
    this.upstream?.sendData(Buffer.alloc(0), true);
    this.onRequestComplete();
    return FilterTrailersStatus.StopIteration;
  }

  /** Writes request body upstream, pausing the downstream while the upstream connection is full. */
  private sendUpstream(data: Buffer, endStream: boolean): void {
    const upstream = this.upstream!;
    if (!upstream.sendData(data, endStream) && !this.resumeDownstream) {
      this.resumeDownstream = this.ctx.pauseDownstream();
      upstream.onceDrained(() => {
        const resume = this.resumeDownstream;
        this.resumeDownstream = undefined;
        resume?.();
      });
    }
  }

  private onRequestComplete(): void {
    this.requestCompleteNs = this.ctx.dispatcher.monotonicTimeNs();
    if (!this.upstream) return;
    if (this.timeout.globalMs > 0) {
      this.responseTimer = this.ctx.dispatcher.createTimer(() => this.onResponseTimeout());
      this.responseTimer.enable(this.timeout.globalMs);
    }
    if (this.upstream.awaitingHeaders && this.upstreamReady) this.setupPerTryTimeout();
  }

  private mutationLevels() {
    const m = this.routeMatch!;
    return [m.route.headers, m.vhost.headers, this.ctx.routeConfig.headers];
  }

  /** Envoy RouteEntryImplBase::finalizeRequestHeaders: header mutations and rewrites. */
  private finalizeRequestHeaders(headers: HeaderMap): void {
    finalizeRequestHeaders(headers, this.mutationLevels(), { streamInfo: this.streamInfo, requestHeaders: headers });
    if (this.action.hostRewriteLiteral) headers.set(":authority", this.action.hostRewriteLiteral);
    if (this.action.prefixRewrite !== undefined) this.rewritePath(headers, this.action.prefixRewrite);
  }

  private rewritePath(headers: HeaderMap, rewrite: string): void {
    const path = headers.get(":path") ?? "";
    const m = this.routeMatch!.route.match;
    const q = path.search(/[?#]/);
    const query = q < 0 ? "" : path.slice(q);
    // prefix: the matched prefix is replaced; path and safe_regex: the whole path (query kept).
    const rewritten = m.path.kind === "prefix" ? rewrite + path.slice(m.path.value.length) : rewrite + query;
    if (rewritten === path) return;
    if (!this.ctx.suppressEnvoyHeaders) headers.set("x-envoy-original-path", path);
    headers.set(":path", rewritten);
  }

  /** Headers the router adds to every response it produces (Envoy modify_headers_). */
  private responseModifications(): Array<[string, string]> {
    return this.includeAttemptCountInResponse ? [["x-envoy-attempt-count", String(this.attemptCount)]] : [];
  }

  // ------------------------------------------------------------------------- upstream

  /** Picks a host and starts an attempt; answers 503 no healthy upstream when there is none. */
  private startUpstream(endStream: boolean): boolean {
    const policy = this.action.retryPolicy ?? this.routeMatch!.vhost.retryPolicy;
    const host = this.cluster.chooseHost(policy?.previousHosts ? this.attemptedHosts : undefined, policy?.hostSelectionMaxAttempts ?? 1);
    if (!host) {
      this.sendNoHealthyUpstream();
      return false;
    }
    this.attemptedHosts.add(host);
    // Envoy UpstreamRequest::onPoolReady: auto_host_rewrite uses the host's hostname.
    if (this.action.autoHostRewrite && host.hostname) this.headers.set(":authority", host.hostname);
    this.streamInfo.upstream.address = { ip: host.address, port: host.port };
    this.streamInfo.upstream.hostMetadata = host.metadata;
    this.upstreamReady = false;
    this.cluster.stats.upstream_rq_pending_total.inc();
    this.cluster.stats.upstream_rq_pending_active.add(1n);
    const upstream = newUpstreamRequest(host, this);
    this.upstream = upstream;
    upstream.start(this.headers, endStream);
    return true;
  }

  private sendNoHealthyUpstream(): void {
    this.streamInfo.responseFlags |= ResponseFlag.NoHealthyUpstream;
    this.chargeUpstreamCode(503);
    this.cleanup();
    this.callbacks.sendLocalReply({
      status: 503,
      body: "no healthy upstream",
      headers: this.responseModifications(),
      grpcStatus: null,
      details: "no_healthy_upstream",
    });
  }

  onPoolReady(request: UpstreamRequest): void {
    if (request !== this.upstream) return;
    this.upstreamReady = true;
    const stats = this.cluster.stats;
    stats.upstream_rq_pending_active.sub(1n);
    stats.upstream_rq_total.inc();
    stats.upstream_rq_active.add(1n);
    request.host.stats.rq_total++;
    request.host.stats.rq_active++;
    if (request.localAddress) this.streamInfo.upstream.localAddress = request.localAddress;
    // Envoy's firstUpstreamTxByteSent, the start of response.backend_latency.
    this.streamInfo.upstreamRequestSentMonotonicNs = this.ctx.dispatcher.monotonicTimeNs();
    if (this.downstreamEndStream && request.awaitingHeaders) this.setupPerTryTimeout();
  }

  private setupPerTryTimeout(): void {
    if (this.timeout.perTryMs <= 0 || this.perTryTimer?.enabled) return;
    const request = this.upstream;
    this.perTryTimer = this.ctx.dispatcher.createTimer(() => {
      if (request && request === this.upstream && request.awaitingHeaders) this.onPerTryTimeout(request);
    });
    this.perTryTimer.enable(this.timeout.perTryMs);
  }

  /** The attempt is over (response complete, reset or retried): release its pool accounting. */
  private finishAttempt(request: UpstreamRequest): void {
    const hedgedAt = this.hedged.indexOf(request);
    if (hedgedAt >= 0) {
      // Hedged attempts always had a connection: the per-try timer starts once the pool is ready.
      this.hedged.splice(hedgedAt, 1);
      this.cluster.stats.upstream_rq_active.sub(1n);
      request.host.stats.rq_active--;
      return;
    }
    if (request !== this.upstream) return;
    this.perTryTimer?.disable();
    if (this.upstreamReady) {
      this.cluster.stats.upstream_rq_active.sub(1n);
      request.host.stats.rq_active--;
    } else {
      this.cluster.stats.upstream_rq_pending_active.sub(1n);
    }
    this.upstreamReady = false;
    this.upstream = undefined;
  }

  onUpstreamHeaders(request: UpstreamRequest, headers: HeaderMap, endStream: boolean): void {
    const hedged = this.hedged.includes(request);
    if (request !== this.upstream && !hedged) return;
    if (!hedged) this.perTryTimer?.disable();
    this.streamInfo.upstreamFirstByteMonotonicNs = this.ctx.dispatcher.monotonicTimeNs();
    const status = Number(headers.get(":status"));
    for (const [k, v] of this.responseModifications()) headers.set(k, v);

    let couldNotRetry = false;
    if (this.retryState) {
      if (request.retried) {
        couldNotRetry = this.retryState.wouldRetryFromHeaders(headers) !== "no";
      } else {
        const retryStatus = this.retryState.shouldRetryHeaders(headers, () => this.doRetry());
        if (retryStatus === "yes") {
          this.pendingRetries++;
          this.cluster.stats.upstreamRq.chargeRetriedCode(status);
          request.host.stats.rq_error++;
          this.ctx.log.log("router", "debug", `upstream headers ${status}: retrying`);
          request.reset();
          this.finishAttempt(request);
          return;
        }
        if (retryStatus === "no_overflow") {
          this.streamInfo.responseFlags |= ResponseFlag.UpstreamOverflow;
          couldNotRetry = true;
        } else if (retryStatus === "no_retry_limit_exceeded") {
          this.streamInfo.responseFlags |= ResponseFlag.UpstreamRetryLimitExceeded;
          couldNotRetry = true;
        }
      }
    }
    // Envoy: a bad response waits for the other attempts in flight or scheduled.
    if (couldNotRetry && (this.pendingRetries > 0 || this.othersAwaitingHeaders(request))) {
      request.reset();
      this.finishAttempt(request);
      return;
    }
    this.retryState?.resetRetry();
    this.retryState = undefined;
    this.resetOtherUpstreams(request);

    if (this.requestCompleteNs !== undefined && !this.ctx.suppressEnvoyHeaders) {
      const ms = Number((this.ctx.dispatcher.monotonicTimeNs() - this.requestCompleteNs) / 1_000_000n);
      headers.set("x-envoy-upstream-service-time", String(ms));
    }
    this.chargeUpstreamCode(status);
    if (status >= 500) request.host.stats.rq_error++;
    else request.host.stats.rq_success++;
    this.streamInfo.responseCodeDetails = "via_upstream";
    this.streamInfo.responseCode = status;
    finalizeResponseHeaders(headers, this.mutationLevels(), { streamInfo: this.streamInfo, requestHeaders: this.headers });
    this.downstreamResponseStarted = true;
    if (endStream) this.onUpstreamComplete(request);
    this.callbacks.encodeHeaders(headers, endStream);
  }

  onUpstreamData(request: UpstreamRequest, data: BodyBuffer, endStream: boolean): void {
    if (request !== this.upstream || this.destroyed) return;
    if (endStream) this.onUpstreamComplete(request);
    this.callbacks.encodeData(data, endStream);
  }

  onUpstreamTrailers(request: UpstreamRequest, trailers: HeaderMap): void {
    if (request !== this.upstream || this.destroyed) return;
    this.onUpstreamComplete(request);
    this.callbacks.encodeTrailers(trailers);
  }

  private onUpstreamComplete(request: UpstreamRequest): void {
    this.streamInfo.upstreamLastByteMonotonicNs = this.ctx.dispatcher.monotonicTimeNs();
    if (this.requestCompleteNs !== undefined) {
      const ms = Number((this.ctx.dispatcher.monotonicTimeNs() - this.requestCompleteNs) / 1_000_000n);
      this.cluster.stats.upstreamRq.recordTime(ms, this.internalRequest());
    }
    this.finishAttempt(request);
    this.cleanup();
  }

  onUpstreamReset(request: UpstreamRequest, reason: ResetReason, transportFailureReason: string): void {
    if (request !== this.upstream && !this.hedged.includes(request)) return;
    this.ctx.log.log("router", "debug", `upstream reset: reset reason: ${reason}, transport failure reason: ${transportFailureReason}`);
    if (connectFailures.has(reason)) this.cluster.stats.upstream_rq_pending_failure_eject.inc();
    if (transportFailureReason) this.streamInfo.upstream.transportFailureReason = transportFailureReason;
    this.upstreamRequestStarted ||= request.requestStarted;
    request.host.stats.rq_error++;
    this.finishAttempt(request);
    if (this.maybeRetryReset(reason, request)) return;
    const code = reason === "protocol error" ? 502 : 503;
    if (!this.downstreamResponseStarted) this.chargeUpstreamCode(code);
    // Envoy: other attempts in flight or scheduled may still answer.
    if (this.pendingRetries > 0 || this.othersAwaitingHeaders(request)) return;
    const body =
      "upstream connect error or disconnect/reset before headers. " +
      (this.isRetry ? "retried and the latest " : "") +
      `reset reason: ${reason}` +
      (transportFailureReason ? `, transport failure reason: ${transportFailureReason}` : "");
    const basic = this.downstreamResponseStarted ? "upstream_reset_after_response_started" : "upstream_reset_before_response_started";
    const details = noSpaces(`${basic}{${reason}${transportFailureReason ? `|${transportFailureReason}` : ""}}`);
    this.onUpstreamAbort(code, resetFlag(reason), body, details);
  }

  private maybeRetryReset(reason: ResetReason, request: UpstreamRequest): boolean {
    if (this.downstreamResponseStarted || !this.retryState || request.retried) return false;
    const status = this.retryState.shouldRetryReset(reason, this.upstreamRequestStarted, () => this.doRetry());
    if (status === "yes") {
      this.pendingRetries++;
      return true;
    }
    if (status === "no_overflow") this.streamInfo.responseFlags |= ResponseFlag.UpstreamOverflow;
    else if (status === "no_retry_limit_exceeded") this.streamInfo.responseFlags |= ResponseFlag.UpstreamRetryLimitExceeded;
    return false;
  }

  private doRetry(): void {
    if (this.destroyed) return;
    this.ctx.log.log("router", "debug", "performing retry");
    this.isRetry = true;
    this.attemptCount++;
    this.streamInfo.upstream.requestAttemptCount = this.attemptCount;
    this.pendingRetries--;
    if (this.includeAttemptCountInRequest) this.headers.set("x-envoy-attempt-count", String(this.attemptCount));
    const elapsed = this.requestCompleteNs === undefined ? 0 : Number((this.ctx.dispatcher.monotonicTimeNs() - this.requestCompleteNs) / 1_000_000n);
    setTimeoutHeaders(elapsed, this.timeout, this.headers, !this.ctx.suppressEnvoyHeaders, this.hedgeOnPerTryTimeout);
    const buffered = this.callbacks.decodingBuffer();
    const endWithHeaders = !buffered && !this.downstreamTrailers && this.downstreamEndStream;
    if (!this.startUpstream(endWithHeaders)) return;
    if (buffered && this.upstream) this.upstream.sendData(Buffer.from(buffered.toBuffer()), this.downstreamEndStream);
    else if (!endWithHeaders && this.downstreamEndStream && this.upstream) this.upstream.sendData(Buffer.alloc(0), true);
  }

  onInternalError(request: UpstreamRequest, error: Error): void {
    this.ctx.log.log("router", "critical", `internal error on the upstream request: ${error.stack ?? error.message}`);
    this.finishAttempt(request);
    this.cleanup();
    this.callbacks.resetStream("internal_error");
  }

  // ------------------------------------------------------------------------- timeouts

  private onResponseTimeout(): void {
    this.ctx.log.log("router", "debug", "upstream timeout");
    const request = this.upstream;
    // Hedged attempts still in flight time out too (Envoy resets every request in upstream_requests_).
    let chargedHedged = false;
    for (const h of [...this.hedged]) {
      this.cluster.stats.upstream_rq_timeout.inc();
      h.host.stats.rq_timeout++;
      if (h.awaitingHeaders && !this.downstreamResponseStarted && !chargedHedged) {
        this.chargeUpstreamCode(this.timeoutResponseCode);
        chargedHedged = true;
      }
      h.reset();
      this.finishAttempt(h);
    }
    // Envoy counts the timeout whether or not an attempt is in flight (a retry may be backing off).
    if (request || !chargedHedged) this.cluster.stats.upstream_rq_timeout.inc();
    if (request) {
      request.host.stats.rq_timeout++;
      if (request.awaitingHeaders) this.chargeUpstreamCode(this.timeoutResponseCode);
      request.reset();
      this.finishAttempt(request);
    } else if (!this.downstreamResponseStarted && !chargedHedged) {
      this.chargeUpstreamCode(this.timeoutResponseCode);
    }
    this.onUpstreamTimeoutAbort("upstream_response_timeout");
  }

  /**
   * Envoy onSoftPerTryTimeout (hedge_on_per_try_timeout): the attempt is not reset; a retry starts
   * beside it (after the backoff) and whichever answers well first wins. No per-try timeout stat.
   */
  private onSoftPerTryTimeout(request: UpstreamRequest): void {
    if (this.downstreamResponseStarted || !this.retryState) return;
    const status = this.retryState.shouldHedgeRetryPerTryTimeout(() => this.doRetry());
    if (status === "yes") {
      this.pendingRetries++;
      request.retried = true;
      // The attempt moves aside with its pool accounting, so the retry can become the current one.
      this.hedged.push(request);
      this.upstream = undefined;
      this.upstreamReady = false;
    } else if (status === "no_overflow") {
      this.streamInfo.responseFlags |= ResponseFlag.UpstreamOverflow;
    } else if (status === "no_retry_limit_exceeded") {
      this.streamInfo.responseFlags |= ResponseFlag.UpstreamRetryLimitExceeded;
    }
  }

  /** Another attempt than `request` is in flight and has not answered (Envoy numRequestsAwaitingHeaders). */
  private othersAwaitingHeaders(request: UpstreamRequest): boolean {
    if (this.upstream && this.upstream !== request && this.upstream.awaitingHeaders) return true;
    return this.hedged.some((h) => h !== request && h.awaitingHeaders);
  }

  /** Envoy resetOtherUpstreams: the attempt whose response goes downstream ends all the others. */
  private resetOtherUpstreams(winner: UpstreamRequest): void {
    for (const other of [...this.hedged]) {
      if (other === winner) continue;
      other.reset();
      this.finishAttempt(other);
    }
    if (this.upstream && this.upstream !== winner) {
      const current = this.upstream;
      current.reset();
      this.finishAttempt(current);
    }
    const at = this.hedged.indexOf(winner);
    if (at < 0) return;
    // A hedged attempt won: it becomes the current one (Envoy setUpstreamInfo of the final request).
    this.hedged.splice(at, 1);
    this.upstream = winner;
    this.upstreamReady = true;
    this.streamInfo.upstream.address = { ip: winner.host.address, port: winner.host.port };
    this.streamInfo.upstream.hostMetadata = winner.host.metadata;
  }

  private onPerTryTimeout(request: UpstreamRequest): void {
    if (this.hedgeOnPerTryTimeout) {
      this.onSoftPerTryTimeout(request);
      return;
    }
    this.cluster.stats.upstream_rq_per_try_timeout.inc();
    request.host.stats.rq_timeout++;
    this.upstreamRequestStarted ||= request.requestStarted;
    request.reset();
    this.finishAttempt(request);
    if (this.maybeRetryReset("local reset", request)) return;
    this.chargeUpstreamCode(this.timeoutResponseCode);
    this.onUpstreamTimeoutAbort("upstream_per_try_timeout");
  }

  private onUpstreamTimeoutAbort(details: string): void {
    const body = this.timeoutResponseCode === 504 ? "upstream request timeout" : "";
    this.onUpstreamAbort(this.timeoutResponseCode, ResponseFlag.UpstreamRequestTimeout, body, details);
  }

  /** Envoy onUpstreamAbort: a local reply, or a reset when the response already started. */
  private onUpstreamAbort(code: number, flag: ResponseFlag, body: string, details: string): void {
    this.streamInfo.responseFlags |= flag;
    this.cleanup();
    this.callbacks.sendLocalReply({ status: code, body, headers: this.responseModifications(), grpcStatus: null, details });
  }

  // ------------------------------------------------------------------------- stats

  private internalRequest(): boolean {
    return this.headers.get("x-envoy-internal") === "true";
  }

  private chargeUpstreamCode(status: number): void {
    this.cluster.stats.upstreamRq.chargeCode(status, this.internalRequest());
  }

  // ------------------------------------------------------------------------- teardown

  private cleanup(): void {
    this.retryState?.resetRetry();
    this.retryState = undefined;
    this.responseTimer?.disable();
    this.perTryTimer?.disable();
    const resume = this.resumeDownstream;
    this.resumeDownstream = undefined;
    resume?.();
  }

  /** Downstream cannot take more response data (Envoy onAboveWriteBufferHighWatermark). */
  onAboveWriteBufferHighWatermark(): void {
    this.upstream?.onDownstreamBackedUp();
  }

  onBelowWriteBufferLowWatermark(): void {
    this.upstream?.onDownstreamDrained();
  }

  onDestroy(): void {
    this.destroyed = true;
    for (const h of [...this.hedged]) {
      this.cluster.stats.upstream_rq_cancelled.inc();
      h.reset();
      this.finishAttempt(h);
    }
    if (this.upstream) {
      // The downstream went away with an attempt still in flight.
      this.cluster.stats.upstream_rq_cancelled.inc();
      this.upstream.reset();
      this.finishAttempt(this.upstream);
    }
    this.cleanup();
  }
}
