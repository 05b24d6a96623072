// Envoy's ClusterManager for the local proxy: the static clusters, initialized (DNS resolved)
// before listeners start, and the async HTTP and gRPC clients Wasm callouts use (proxy_http_call,
// proxy_grpc_*; the gRPC one in grpc-client.ts). Envoy's async client runs its own router, so a
// callout that cannot reach the cluster still completes with the router's local reply (503
// upstream connect error, 504 upstream request timeout).
import type { ClusterModel } from "../config/model.js";
import type {
  AsyncRequest,
  ClusterManager,
  Dispatcher,
  GrpcStream,
  GrpcStreamCallbacks,
  HttpCallCallbacks,
  Logger,
  StatsStore,
} from "../envoy/server-context.js";
import type { BodyBuffer } from "../http/body-buffer.js";
import { HeaderMap } from "../http/header-map.js";
import { Cluster, type Resolver } from "./cluster.js";
import { AsyncGrpcStream } from "./grpc-client.js";
import { RetryBudget, type ResetReason } from "./retry-state.js";
import { Scope } from "./stat-names.js";
import type { UpstreamRequest, UpstreamRequestCallbacks } from "./upstream-request.js";
import { newUpstreamRequest } from "./upstream-request-factory.js";

export interface ClusterEntry {
  cluster: Cluster;
  retryBudget: RetryBudget;
}

export class ProxyClusterManager implements ClusterManager {
  private readonly clusters = new Map<string, ClusterEntry>();

  constructor(
    models: ClusterModel[],
    private readonly stats: StatsStore,
    private readonly log: Logger,
    private readonly dispatcher: Dispatcher,
    resolver?: Resolver,
  ) {
    const cm = new Scope(stats, "cluster_manager.");
    for (const m of models) {
      const cluster = new Cluster(m, stats, log, resolver);
      this.clusters.set(m.name, { cluster, retryBudget: new RetryBudget(cluster.stats) });
      cm.counter("cluster_added").inc();
    }
    cm.gauge("active_clusters").set(BigInt(models.length));
    cm.gauge("warming_clusters").set(0n);
  }

  /** Envoy initializes every cluster (first DNS resolution) before starting workers. */
  async initialize(): Promise<void> {
    await Promise.all([...this.clusters.values()].map((c) => c.cluster.initialize()));
  }

  get(name: string): ClusterEntry | undefined {
    return this.clusters.get(name);
  }

  all(): ClusterEntry[] {
    return [...this.clusters.values()];
  }

  hasCluster(name: string): boolean {
    return this.clusters.has(name);
  }

  httpCall(
    cluster: string,
    headers: HeaderMap,
    body: Buffer,
    _trailers: HeaderMap | null,
    timeoutMs: number,
    callbacks: HttpCallCallbacks,
  ): AsyncRequest {
    const entry = this.clusters.get(cluster);
    if (!entry) {
      let cancelled = false;
      this.dispatcher.post(() => cancelled || callbacks.onFailure("reset"));
      return { cancel: () => (cancelled = true) };
    }
    return new AsyncHttpRequest(entry.cluster, headers, body, timeoutMs, callbacks, this.dispatcher, this.log);
  }

  grpcStream(
    cluster: string,
    service: string,
    method: string,
    initialMetadata: HeaderMap,
    timeoutMs: number,
    callbacks: GrpcStreamCallbacks,
  ): GrpcStream {
    const entry = this.clusters.get(cluster);
    // The Wasm host checks the cluster first (proxy-wasm-abi.md §2.7); this is a programming error.
    if (!entry) throw new Error(`gRPC call to unknown cluster ${JSON.stringify(cluster)}`);
    return new AsyncGrpcStream(entry.cluster, service, method, initialMetadata, timeoutMs, callbacks, this.dispatcher, this.log);
  }

  close(): void {
    for (const c of this.clusters.values()) c.cluster.close();
  }
}

/** One proxy_http_call: a single upstream attempt with the router's local replies. */
class AsyncHttpRequest implements AsyncRequest, UpstreamRequestCallbacks {
  private upstream: UpstreamRequest | undefined;
  private responseHeaders: HeaderMap | undefined;
  private readonly body: Buffer[] = [];
  private timer: ReturnType<Dispatcher["createTimer"]> | undefined;
  private done = false;

  constructor(
    private readonly cluster: Cluster,
    headers: HeaderMap,
    requestBody: Buffer,
    timeoutMs: number,
    private readonly callbacks: HttpCallCallbacks,
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
  ) {
    const host = cluster.chooseHost();
    if (!host) {
      this.localReply(503, "no healthy upstream");
      return;
    }
    const h = headers.clone();
    if (timeoutMs > 0) h.set("x-envoy-expected-rq-timeout-ms", String(timeoutMs));
    if (!h.has(":scheme")) h.set(":scheme", "http");
    if (requestBody.length && !h.has("content-length")) h.set("content-length", String(requestBody.length));
    cluster.stats.upstream_rq_pending_total.inc();
    const upstream = newUpstreamRequest(host, this);
    this.upstream = upstream;
    upstream.start(h, requestBody.length === 0);
    if (requestBody.length) upstream.sendData(requestBody, true);
    if (timeoutMs > 0) {
      this.timer = dispatcher.createTimer(() => {
        cluster.stats.upstream_rq_timeout.inc();
        this.upstream?.reset();
        this.localReply(504, "upstream request timeout");
      });
      this.timer.enable(timeoutMs);
    }
  }

  onPoolReady(): void {
    this.cluster.stats.upstream_rq_total.inc();
  }

  onUpstreamHeaders(_r: UpstreamRequest, headers: HeaderMap, endStream: boolean): void {
    this.responseHeaders = headers;
    this.cluster.stats.upstreamRq.chargeCode(Number(headers.get(":status")), false);
    if (endStream) this.complete();
  }

  onUpstreamData(_r: UpstreamRequest, data: BodyBuffer, endStream: boolean): void {
    if (data.length) this.body.push(data.toBuffer());
    if (endStream) this.complete();
  }

  onUpstreamTrailers(_r: UpstreamRequest, trailers: HeaderMap): void {
    this.complete(trailers);
  }

  onUpstreamReset(_r: UpstreamRequest, reason: ResetReason, transportFailureReason: string): void {
    if (this.responseHeaders) return this.finish(() => this.callbacks.onFailure("reset"));
    this.localReply(
      503,
      `upstream connect error or disconnect/reset before headers. reset reason: ${reason}${transportFailureReason ? `, transport failure reason: ${transportFailureReason}` : ""}`,
    );
  }

  onInternalError(_r: UpstreamRequest, error: Error): void {
    this.log.log("wasm", "critical", `internal error in an http call: ${error.stack ?? error.message}`);
    this.finish(() => this.callbacks.onFailure("reset"));
  }

  private localReply(status: number, body: string): void {
    this.cluster.stats.upstreamRq.chargeCode(status, false);
    const headers = new HeaderMap([
      [":status", String(status)],
      ["content-length", String(body.length)],
      ["content-type", "text/plain"],
    ]);
    this.finish(() => this.callbacks.onSuccess(headers, Buffer.from(body, "latin1"), null));
  }

  private complete(trailers: HeaderMap | null = null): void {
    const headers = this.responseHeaders!;
    const body = Buffer.concat(this.body);
    this.finish(() => this.callbacks.onSuccess(headers, body, trailers));
  }

  /** Delivers the outcome once, from the dispatcher, never inside the caller's stack. */
  private finish(deliver: () => void): void {
    if (this.done) return;
    this.done = true;
    this.timer?.disable();
    this.dispatcher.post(() => {
      try {
        deliver();
      } catch (e) {
        this.log.log("wasm", "error", `http call callback failed: ${(e as Error).message}`);
      }
    });
  }

  cancel(): void {
    this.done = true;
    this.timer?.disable();
    this.upstream?.reset();
  }
}
