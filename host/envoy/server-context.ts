// What the Wasm host needs from "the server" (Envoy's Server::Configuration::ServerFactoryContext):
// node identity, stats, logging, time and timers, and the cluster manager's async clients for
// callouts. The local proxy implements these for real traffic; the emulator implements them with a
// controllable clock, an in-memory stats store and scripted callout responders.
import type { HeaderMap } from "../http/header-map.js";

// ---- Node (bootstrap `node`), the `xds.node` attribute --------------------------------------

export interface NodeInfo {
  id: string;
  cluster: string;
  /** node.metadata as JSON (a google.protobuf.Struct). */
  metadata: Record<string, unknown>;
  locality?: { region?: string; zone?: string; sub_zone?: string };
}

// ---- Stats (Envoy's Stats::Store) ------------------------------------------------------------

export interface Counter {
  readonly name: string;
  readonly value: bigint;
  inc(by?: bigint): void;
}

export interface Gauge {
  readonly name: string;
  readonly value: bigint;
  set(v: bigint): void;
  add(v: bigint): void;
  sub(v: bigint): void;
}

export interface Histogram {
  readonly name: string;
  /** Envoy: milliseconds, bytes, percent or unspecified; only affects rendering. */
  readonly unit: "unspecified" | "milliseconds" | "bytes" | "percent";
  record(value: number): void;
  /** Recorded values, for tests and rendering (count, sum, bucket counts by upper bound). */
  readonly count: number;
  readonly sum: number;
}

export interface StatsStore {
  /** Get or create by full name, e.g. "cluster.httpbin_service.upstream_rq_retry". */
  counter(name: string): Counter;
  gauge(name: string): Gauge;
  histogram(name: string, unit?: Histogram["unit"]): Histogram;
  findCounter(name: string): Counter | undefined;
  findGauge(name: string): Gauge | undefined;
  findHistogram(name: string): Histogram | undefined;
  counters(): Counter[];
  gauges(): Gauge[];
  histograms(): Histogram[];
}

// ---- Logging (spdlog-style loggers, Envoy's component loggers) --------------------------------

export type LogLevel = "trace" | "debug" | "info" | "warning" | "error" | "critical" | "off";
export const logLevels: readonly LogLevel[] = ["trace", "debug", "info", "warning", "error", "critical", "off"];

export interface Logger {
  /** Level of a component logger such as "wasm", "http", "router", "main", "admin". */
  level(component: string): LogLevel;
  setLevel(component: string, level: LogLevel): void;
  /** Emits one line if `level` is enabled for the component. */
  log(component: string, level: Exclude<LogLevel, "off">, message: string): void;
}

// ---- Time and timers (Envoy's TimeSource and Dispatcher) ---------------------------------------

export interface TimeSource {
  /** Wall clock, ns since the epoch. */
  systemTimeNs(): bigint;
  /** Monotonic clock, ns. */
  monotonicTimeNs(): bigint;
}

export interface Timer {
  enable(ms: number): void;
  disable(): void;
  readonly enabled: boolean;
}

export interface Dispatcher extends TimeSource {
  createTimer(callback: () => void): Timer;
  /** Runs callback after the current call stack (Envoy dispatcher post / deferred work). */
  post(callback: () => void): void;
}

// ---- Cluster manager: async HTTP and gRPC clients used by proxy_http_call / proxy_grpc_* -------

export interface HttpCallCallbacks {
  onSuccess(headers: HeaderMap, body: Buffer, trailers: HeaderMap | null): void;
  /** The call failed without a response (reset, buffer overflow). Envoy reports code 11 "reset". */
  onFailure(reason: "reset" | "exceeded_response_buffer_limit"): void;
}

export interface AsyncRequest {
  cancel(): void;
}

export interface GrpcStreamCallbacks {
  onInitialMetadata(metadata: HeaderMap): void;
  onMessage(message: Buffer): void;
  onTrailingMetadata(metadata: HeaderMap): void;
  /** Terminal: status 0..16 and message (Envoy's onRemoteClose / onFailure). */
  onClose(status: number, message: string): void;
}

export interface GrpcStream {
  send(message: Buffer, endStream: boolean): void;
  /** Half-close the local side (proxy_grpc_close). */
  close(): void;
  /** Reset without delivering more callbacks (proxy_grpc_cancel). */
  cancel(): void;
}

export interface ClusterManager {
  hasCluster(name: string): boolean;
  /** Sends an HTTP request to a cluster; headers carry :method, :path and :authority. */
  httpCall(
    cluster: string,
    headers: HeaderMap,
    body: Buffer,
    trailers: HeaderMap | null,
    timeoutMs: number,
    callbacks: HttpCallCallbacks,
  ): AsyncRequest;
  /** Opens a gRPC stream to `cluster` for /<service>/<method>. Unary calls send one message. */
  grpcStream(
    cluster: string,
    service: string,
    method: string,
    initialMetadata: HeaderMap,
    timeoutMs: number,
    callbacks: GrpcStreamCallbacks,
  ): GrpcStream;
}

// ---- Everything together ------------------------------------------------------------------------

export interface ServerContext {
  node: NodeInfo;
  stats: StatsStore;
  log: Logger;
  dispatcher: Dispatcher;
  clusters: ClusterManager;
}
