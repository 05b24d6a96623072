// Envoy's stat families that the proxy creates eagerly (so /stats lists them at 0, as Envoy does)
// and charges as traffic flows. Names follow Envoy's ClusterTrafficStats, ConnectionManagerStats,
// ListenerStats and RouterStats (source/common/upstream/upstream_impl.h, http/conn_manager_impl.h).
import type { Counter, Gauge, Histogram, StatsStore } from "../envoy/server-context.js";

export class Scope {
  constructor(
    readonly store: StatsStore,
    readonly prefix: string,
  ) {}

  counter(name: string): Counter {
    return this.store.counter(this.prefix + name);
  }
  gauge(name: string): Gauge {
    return this.store.gauge(this.prefix + name);
  }
  histogram(name: string, unit: Histogram["unit"] = "milliseconds"): Histogram {
    return this.store.histogram(this.prefix + name, unit);
  }
  scope(name: string): Scope {
    return new Scope(this.store, `${this.prefix}${name}.`);
  }
}

function counters<K extends string>(scope: Scope, names: readonly K[]): Record<K, Counter> {
  return Object.fromEntries(names.map((n) => [n, scope.counter(n)])) as Record<K, Counter>;
}

function gauges<K extends string>(scope: Scope, names: readonly K[]): Record<K, Gauge> {
  return Object.fromEntries(names.map((n) => [n, scope.gauge(n)])) as Record<K, Gauge>;
}

const clusterCounters = [
  "upstream_cx_total",
  "upstream_cx_http1_total",
  "upstream_cx_http2_total",
  "upstream_cx_connect_fail",
  "upstream_cx_connect_timeout",
  "upstream_cx_destroy",
  "upstream_cx_destroy_local",
  "upstream_cx_destroy_remote",
  "upstream_cx_rx_bytes_total",
  "upstream_cx_tx_bytes_total",
  "upstream_rq_total",
  "upstream_rq_cancelled",
  "upstream_rq_timeout",
  "upstream_rq_per_try_timeout",
  "upstream_rq_rx_reset",
  "upstream_rq_tx_reset",
  "upstream_rq_pending_total",
  "upstream_rq_pending_failure_eject",
  "upstream_rq_retry",
  "upstream_rq_retry_success",
  "upstream_rq_retry_limit_exceeded",
  "upstream_rq_retry_overflow",
  "upstream_rq_retry_backoff_exponential",
  "upstream_rq_retry_backoff_ratelimited",
  "retry_or_shadow_abandoned",
  "membership_change",
  "update_attempt",
  "update_success",
  "update_failure",
  "update_no_rebuild",
  "assignment_stale",
  "assignment_timeout_received",
  "lb_healthy_panic",
  "default.total_match_count",
] as const;

const clusterGauges = [
  "upstream_cx_active",
  "upstream_rq_active",
  "upstream_rq_pending_active",
  "membership_healthy",
  "membership_degraded",
  "membership_excluded",
  "membership_total",
  "version",
  "circuit_breakers.default.cx_open",
  "circuit_breakers.default.cx_pool_open",
  "circuit_breakers.default.rq_open",
  "circuit_breakers.default.rq_pending_open",
  "circuit_breakers.default.rq_retry_open",
  "circuit_breakers.high.cx_open",
  "circuit_breakers.high.cx_pool_open",
  "circuit_breakers.high.rq_open",
  "circuit_breakers.high.rq_pending_open",
  "circuit_breakers.high.rq_retry_open",
] as const;

export type ClusterStats = Record<(typeof clusterCounters)[number], Counter> &
  Record<(typeof clusterGauges)[number], Gauge> & {
    scope: Scope;
    connectMs: Histogram;
    lengthMs: Histogram;
    upstreamRq: UpstreamRequestStats;
  };

/** cluster.<name>.* */
export function clusterStats(store: StatsStore, cluster: string): ClusterStats {
  const scope = new Scope(store, `cluster.${cluster}.`);
  return {
    ...counters(scope, clusterCounters),
    ...gauges(scope, clusterGauges),
    scope,
    connectMs: scope.histogram("upstream_cx_connect_ms"),
    lengthMs: scope.histogram("upstream_cx_length_ms"),
    upstreamRq: new UpstreamRequestStats(scope),
  };
}

const hcmCounters = [
  "downstream_cx_total",
  "downstream_cx_http1_total",
  "downstream_cx_destroy",
  "downstream_cx_destroy_remote",
  "downstream_cx_destroy_local",
  "downstream_cx_rx_bytes_total",
  "downstream_cx_tx_bytes_total",
  "downstream_rq_total",
  "downstream_rq_http1_total",
  "downstream_rq_completed",
  "downstream_rq_1xx",
  "downstream_rq_2xx",
  "downstream_rq_3xx",
  "downstream_rq_4xx",
  "downstream_rq_5xx",
  "downstream_rq_rx_reset",
  "downstream_rq_tx_reset",
  "downstream_rq_timeout",
  "downstream_rq_non_relative_path",
  "downstream_rq_ws_on_non_ws_route",
  // Router stats share the connection manager's prefix (Envoy RouterStats).
  "no_route",
  "no_cluster",
  "rq_direct_response",
  "rq_total",
  "rq_reset_after_downstream_response_started",
] as const;

const hcmGauges = ["downstream_cx_active", "downstream_cx_http1_active", "downstream_rq_active"] as const;

export type HcmStats = Record<(typeof hcmCounters)[number], Counter> &
  Record<(typeof hcmGauges)[number], Gauge> & {
    rqTime: Histogram;
    cxLength: Histogram;
  };

/** http.<stat_prefix>.* */
export function hcmStats(store: StatsStore, statPrefix: string): HcmStats {
  const scope = new Scope(store, `http.${statPrefix}.`);
  return {
    ...counters(scope, hcmCounters),
    ...gauges(scope, hcmGauges),
    rqTime: scope.histogram("downstream_rq_time"),
    cxLength: scope.histogram("downstream_cx_length_ms"),
  };
}

/** The N of Envoy's <N>xx response-code class counters: 1 to 5, or 0 for a status outside them. */
export function codeClassDigit(status: number): number {
  const c = Math.floor(status / 100);
  return c >= 1 && c <= 5 ? c : 0;
}

/** Response-code class counter name for Envoy's downstream_rq_<N>xx. */
export function codeClass(status: number): "1xx" | "2xx" | "3xx" | "4xx" | "5xx" | undefined {
  const c = codeClassDigit(status);
  return c !== 0 ? (`${c}xx` as "1xx") : undefined;
}

/**
 * vhost.<name>.vcluster.other.*: Envoy 1.19 created the catch-all virtual cluster's stats for every
 * virtual host (envoy-scenarios.md S5 shows them at 0). They are charged only for requests that
 * match a configured virtual cluster, which the local proxy does not support, so they stay 0.
 */
export function createVirtualClusterStats(store: StatsStore, vhost: string): void {
  const scope = new Scope(store, `vhost.${vhost}.vcluster.other.`);
  for (const n of [
    "upstream_rq_retry",
    "upstream_rq_retry_limit_exceeded",
    "upstream_rq_retry_overflow",
    "upstream_rq_retry_success",
    "upstream_rq_timeout",
    "upstream_rq_total",
  ]) {
    scope.counter(n);
  }
}

/**
 * Envoy CodeStatsImpl::chargeBasicResponseStat for one prefix of a cluster scope:
 * <prefix>upstream_rq_completed, _<N>xx and _<code>. Envoy interns these names once instead of
 * formatting them per response; here each counter is looked up on its first charge (so /stats
 * lists only codes seen, as Envoy does) and kept.
 */
class ResponseCodeCounters {
  private completed: Counter | undefined;
  private readonly classes: Array<Counter | undefined> = [];
  private readonly codes = new Map<number, Counter>();

  constructor(
    private readonly scope: Scope,
    private readonly prefix: string,
  ) {}

  charge(status: number): void {
    (this.completed ??= this.scope.counter(`${this.prefix}upstream_rq_completed`)).inc();
    const c = codeClassDigit(status);
    if (c !== 0) (this.classes[c] ??= this.scope.counter(`${this.prefix}upstream_rq_${c}xx`)).inc();
    let code = this.codes.get(status);
    if (code === undefined) this.codes.set(status, (code = this.scope.counter(`${this.prefix}upstream_rq_${status}`)));
    code.inc();
  }
}

/** A cluster's per-request stats that the router charges on every response (created on first use). */
export class UpstreamRequestStats {
  private readonly all: ResponseCodeCounters;
  private readonly internal: ResponseCodeCounters;
  private readonly external: ResponseCodeCounters;
  private readonly retry: ResponseCodeCounters;
  private rqTime: Histogram | undefined;
  private internalRqTime: Histogram | undefined;
  private externalRqTime: Histogram | undefined;

  constructor(private readonly scope: Scope) {
    this.all = new ResponseCodeCounters(scope, "");
    this.internal = new ResponseCodeCounters(scope, "internal.");
    this.external = new ResponseCodeCounters(scope, "external.");
    this.retry = new ResponseCodeCounters(scope, "retry.");
  }

  /** Envoy CodeStatsImpl::chargeResponseStat: the basic stats plus the internal./external. split. */
  chargeCode(status: number, internalRequest: boolean): void {
    this.all.charge(status);
    (internalRequest ? this.internal : this.external).charge(status);
  }

  /** A response that is retried: Envoy chargeBasicResponseStat(cluster scope, "retry", code). */
  chargeRetriedCode(status: number): void {
    this.retry.charge(status);
  }

  /** upstream_rq_time and its internal./external. twin (Envoy Filter::onUpstreamComplete). */
  recordTime(ms: number, internalRequest: boolean): void {
    (this.rqTime ??= this.scope.histogram("upstream_rq_time")).record(ms);
    if (internalRequest) (this.internalRqTime ??= this.scope.histogram("internal.upstream_rq_time")).record(ms);
    else (this.externalRqTime ??= this.scope.histogram("external.upstream_rq_time")).record(ms);
  }
}
