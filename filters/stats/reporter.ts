// The per-request work, run from on_log (the request is complete, filters.md §2.1 "Reporting
// happens in onLog"): compute the label values, find the metric ids of that label tuple in a
// bounded cache (defining the metrics, and so building their long encoded names, only on a miss),
// then record the request. Istio's Wasm stats plugin worked the same way (istio/proxy
// extensions/stats/plugin.cc report()); the label rules are filters.md §2.2.
import {
  Counter, LogLevel, MapType, MetricType, WasmResult, defineMetric, getFilterMetadata, getHeaderMapValue, getProperty,
  getPropertyBoolOr, getPropertyInt64Or, getPropertyString, incrementMetric, lastWasmResult, log, metricNameWithTags, recordMetric,
} from "proxy-wasm-as";
import { BoundedCache, TupleKey } from "./cache";
import { COUNT, DURATION_MS, EXPRESSION, PlannedMetric, StatsConfig } from "./config";
import { ExpressionContext, xdsPath } from "./expression";
import { evaluateAmount, evaluateDimension } from "./evaluate";
import * as L from "./labels";
import { Peers } from "./peers";
import { NO_SERVICE, ServiceInfo, serviceFromIstioMetadata } from "./service";
import { UNKNOWN_WORKLOAD, Workload } from "./workload";

const CONNECTION_PEER_SAN = ["connection", "uri_san_peer_certificate"];
const CONNECTION_LOCAL_SAN = ["connection", "uri_san_local_certificate"];
const CONNECTION_MTLS = ["connection", "mtls"];
const UPSTREAM_PEER_SAN = ["upstream", "uri_san_peer_certificate"];
const UPSTREAM_LOCAL_SAN = ["upstream", "uri_san_local_certificate"];
const RESPONSE_CODE = ["response", "code"];
const RESPONSE_FLAGS = ["response", "flags"];
const RESPONSE_GRPC_STATUS = ["response", "grpc_status"];
/** What the standard histograms record, by measure: request.duration (ns), request/response.total_size. */
const MEASURED = [["request", "duration"], ["request", "total_size"], ["response", "total_size"]];
const MEASURE_DIVISOR: i64[] = [1000000, 1, 1]; // Istio records whole milliseconds (truncated)

/** Istio's counters of its label-tuple cache (plugin.cc: tags wasm_filter and cache, filters.md §2.1). */
const CACHE_COUNTER = "wasm_filter.stats_filter.cache.";
/** Hits are added in batches, as Istio's plugin did, to keep a host call off most requests. */
const HIT_BATCH: i32 = 100;

export class StatsReporter {
  /** The metrics to emit (dropped ones left out, removed tags compacted away). */
  private readonly metrics: PlannedMetric[];
  /** The label row of the current request: the 25 standard labels, then one value per expression. */
  private readonly values: StaticArray<string>;
  /** Per row index: whether an emitted tag reads it (the others are neither computed nor keyed). */
  private readonly used: StaticArray<bool>;
  private readonly key: TupleKey = new TupleKey();
  private readonly metricIds: BoundedCache;
  private readonly services: BoundedCache;
  private readonly peers: Peers;
  /** Decimal text of status codes, made once each. */
  private readonly codes: StaticArray<string | null> = new StaticArray<string | null>(600);
  private readonly hits: Counter = new Counter(CACHE_COUNTER + "hit.metric_cache_count");
  private readonly misses: Counter = new Counter(CACHE_COUNTER + "miss.metric_cache_count");
  private readonly evictions: Counter = new Counter(CACHE_COUNTER + "evicted.metric_cache_count");
  private pendingHits: i32 = 0;
  /** This request's MEASURED values + 1, read on first use (0 = not read yet). */
  private readonly measured: StaticArray<i64> = new StaticArray<i64>(3);
  /** xds.cluster_name, xds.cluster_metadata, xds.route_name, xds.listener_direction (or legacy names). */
  private readonly xds: string[][];

  constructor(
    private readonly config: StatsConfig,
    /** This proxy's workload (node metadata). */
    private readonly local: Workload,
    /** A Reporter, or -1 to take it from xds.listener_direction per request. */
    private readonly fixedReporter: i32,
    context: ExpressionContext,
  ) {
    const size = L.STANDARD_LABEL_COUNT + config.expressions.length;
    const values = new StaticArray<string>(size);
    const used = new StaticArray<bool>(size);
    const metrics = new Array<PlannedMetric>();
    for (let i = 0; i < size; i++) unchecked((values[i] = L.UNKNOWN));
    for (let i = 0; i < config.metrics.length; i++) {
      const m = unchecked(config.metrics[i]);
      if (m.dropped) continue;
      const tags = new Array<string>();
      const sources = new Array<i32>();
      for (let t = 0; t < m.tags.length; t++) {
        const source = unchecked(m.sources[t]);
        if (source < 0) continue;
        tags.push(unchecked(m.tags[t]));
        sources.push(source);
        unchecked((used[source] = true));
      }
      m.tags = tags;
      m.sources = sources;
      metrics.push(m);
    }
    this.metrics = metrics;
    this.values = values;
    this.used = used;
    this.metricIds = new BoundedCache(config.maxMetricCacheSize);
    this.services = new BoundedCache(config.maxPeerCacheSize);
    this.peers = new Peers(config.maxPeerCacheSize, xdsPath("upstream_host_metadata", context));
    this.xds = [
      xdsPath("cluster_name", context), xdsPath("cluster_metadata", context), xdsPath("route_name", context),
      xdsPath("listener_direction", context),
    ];
  }

  /** Records the finished request (call from the stream's onLog). */
  report(): void {
    if (this.metrics.length == 0) return;
    this.computeLabels();
    const key = this.key;
    const values = this.values;
    key.reset();
    for (let i = 0, n = values.length; i < n; i++) if (unchecked(this.used[i])) key.add(unchecked(values[i]));
    let ids = changetype<StaticArray<u32> | null>(this.metricIds.get(key.ptr, key.length));
    if (ids === null) {
      ids = this.defineMetrics();
      if (this.metricIds.put(key.ptr, key.length, ids)) this.evictions.increment(1);
      this.misses.increment(1);
    } else if (++this.pendingHits == HIT_BATCH) {
      this.hits.increment(HIT_BATCH);
      this.pendingHits = 0;
    }
    this.record(ids!);
  }

  private computeLabels(): void {
    const v = this.values;
    const peers = this.peers;
    peers.reset();
    let reporter = this.fixedReporter;
    if (reporter < 0) {
      reporter = L.reporterForDirection(getPropertyInt64Or(unchecked(this.xds[3]), 0));
    }
    unchecked((v[L.REPORTER] = L.reporterLabel(<L.Reporter>reporter)));

    // Who is source and who destination, and whose certificates name them (filters.md §2.2):
    // the client side is the local workload calling the upstream peer; the server side is the
    // downstream peer calling the local workload (a waypoint: calling the upstream peer).
    const client = reporter == L.Reporter.ClientSidecar;
    const server = reporter == L.Reporter.ServerSidecar;
    let source = this.local;
    let destination = this.local;
    let security = L.UNKNOWN;
    if (!client) {
      const peer = peers.downstreamPeer();
      source = peer === null ? UNKNOWN_WORKLOAD : peer;
      const mtls = getPropertyBoolOr(CONNECTION_MTLS, false);
      if (lastWasmResult() == WasmResult.Ok) security = mtls ? "mutual_tls" : "none";
    }
    if (!server) {
      const peer = peers.upstreamPeerOrEndpoint();
      destination = peer === null ? UNKNOWN_WORKLOAD : peer;
    }
    this.setWorkload(0, source, getPropertyString(client ? UPSTREAM_LOCAL_SAN : CONNECTION_PEER_SAN));
    this.setWorkload(8, destination, getPropertyString(server ? CONNECTION_LOCAL_SAN : UPSTREAM_PEER_SAN));
    unchecked((v[L.CONNECTION_SECURITY_POLICY] = security));
    this.setDestinationService(client, destination);

    const protocol = L.requestProtocol(getHeaderMapValue(MapType.HttpRequestHeaders, "content-type"));
    unchecked((v[L.REQUEST_PROTOCOL] = protocol));
    unchecked((v[L.RESPONSE_CODE] = this.decimal(getPropertyInt64Or(RESPONSE_CODE, 0))));
    // Istio's Wasm plugin: a gRPC request without a status reports 2 (UNKNOWN); HTTP reports "".
    unchecked((v[L.GRPC_RESPONSE_STATUS] = protocol == "grpc" ? this.decimal(getPropertyInt64Or(RESPONSE_GRPC_STATUS, 2)) : ""));
    unchecked((v[L.RESPONSE_FLAGS] = L.responseFlagsLabel(<u64>getPropertyInt64Or(RESPONSE_FLAGS, 0))));

    const expressions = this.config.expressions;
    for (let i = 0, n = expressions.length; i < n; i++) {
      const at = L.STANDARD_LABEL_COUNT + i;
      if (unchecked(this.used[at])) unchecked((v[at] = evaluateDimension(unchecked(expressions[i]), this.peers)));
    }
  }

  /**
   * The labels of one side: `offset` 0 for source_*, 8 for destination_* (the two blocks match up
   * to *_version; the canonical and cluster labels of the destination come 3 later).
   */
  private setWorkload(offset: i32, w: Workload, principal: string | null): void {
    const v = this.values;
    const namespace = w.namespace.length > 0 ? w.namespace : L.namespaceFromPrincipal(principal);
    const late = offset == 0 ? 0 : 11;
    unchecked((v[L.SOURCE_WORKLOAD + offset] = w.workload));
    unchecked((v[L.SOURCE_WORKLOAD_NAMESPACE + offset] = L.orUnknown(namespace)));
    unchecked((v[L.SOURCE_PRINCIPAL + offset] = L.orUnknown(principal)));
    unchecked((v[L.SOURCE_APP + offset] = w.app));
    unchecked((v[L.SOURCE_VERSION + offset] = w.version));
    unchecked((v[L.SOURCE_CANONICAL_SERVICE + late] = w.canonicalService));
    unchecked((v[L.SOURCE_CANONICAL_REVISION + late] = w.canonicalRevision));
    unchecked((v[L.SOURCE_CLUSTER + late] = w.cluster));
  }

  /**
   * destination_service{,_name,_namespace}: the cluster's Istio service, else the Host header (unless
   * disable_host_header_fallback), else `unknown` on the client side or the destination workload's
   * canonical service on the server side; catch-all routes and passthrough/black-hole clusters
   * name themselves (filters.md §2.2; istio_stats.cc, extensions/common/context.cc).
   */
  private setDestinationService(client: bool, destination: Workload): void {
    const v = this.values;
    const cluster = getPropertyString(unchecked(this.xds[0]));
    const special = cluster !== null && L.isPassthroughOrBlackHole(cluster);
    const service = cluster === null || special ? NO_SERVICE : this.clusterService();
    let host = service.host;
    if (host.length == 0 && !this.config.disableHostHeaderFallback) {
      const authority = getHeaderMapValue(MapType.HttpRequestHeaders, ":authority");
      if (authority !== null) host = authority;
    }
    if (host.length == 0) host = client ? L.UNKNOWN : destination.canonicalService;
    unchecked((v[L.DESTINATION_SERVICE] = host));

    const route = getPropertyString(unchecked(this.xds[2]));
    const catchAll: string | null = route === null ? null : L.catchAllRouteCluster(route);
    let name = host;
    if (catchAll !== null) name = catchAll;
    else if (special) name = cluster!;
    else if (service.name.length > 0) name = service.name;
    else if (service.host.length > 0) name = L.serviceNameFromHost(service.host);
    unchecked((v[L.DESTINATION_SERVICE_NAME] = name));
    unchecked((v[L.DESTINATION_SERVICE_NAMESPACE] = service.namespace.length > 0
      ? service.namespace : unchecked(v[L.DESTINATION_WORKLOAD_NAMESPACE])));
  }

  private clusterService(): ServiceInfo {
    const bytes = getProperty(unchecked(this.xds[1]));
    if (bytes === null || bytes.byteLength == 0) return NO_SERVICE;
    const ptr = changetype<usize>(bytes);
    const size = <usize>bytes.byteLength;
    let service = changetype<ServiceInfo | null>(this.services.get(ptr, size));
    if (service === null) {
      service = serviceFromIstioMetadata(getFilterMetadata(bytes, "istio"));
      this.services.put(ptr, size, service!);
    }
    return service!;
  }

  /** A status code as decimal text (`fallback` when absent), made once per distinct code. */
  private decimal(n: i64): string {
    if (n < 0 || n >= 600) return n.toString();
    let s = unchecked(this.codes[<i32>n]);
    if (s === null) unchecked((this.codes[<i32>n] = s = n.toString()));
    return s!;
  }

  /** Defines every emitted metric for the current label row (the cache missed). */
  private defineMetrics(): StaticArray<u32> {
    const metrics = this.metrics;
    const ids = new StaticArray<u32>(metrics.length);
    const separator = this.config.fieldSeparator;
    for (let i = 0, n = metrics.length; i < n; i++) {
      const m = unchecked(metrics[i]);
      const values = new Array<string>(m.sources.length);
      for (let t = 0; t < values.length; t++) {
        const value = unchecked(this.values[unchecked(m.sources[t])]);
        // A value holding the field separator would end its tag early and corrupt the rest of
        // the name for Envoy's stats_tags regexes: the separator is replaced inside values.
        unchecked((values[t] = value.includes(separator) ? L.splitOn(value, separator).join("_") : value));
      }
      const name = metricNameWithTags(m.name, m.tags, values, this.config.valueSeparator, separator);
      const id = defineMetric(m.type, name);
      if (id == 0) log(LogLevel.Warn, "stats: the host refused to define metric ", name);
      unchecked((ids[i] = id));
    }
    return ids;
  }

  private record(ids: StaticArray<u32>): void {
    const metrics = this.metrics;
    const measured = this.measured;
    memory.fill(changetype<usize>(measured), 0, 24);
    for (let i = 0, n = metrics.length; i < n; i++) {
      const id = unchecked(ids[i]);
      const m = unchecked(metrics[i]);
      const measure = m.measure;
      let amount: i64 = 1;
      if (measure >= EXPRESSION) {
        amount = evaluateAmount(unchecked(this.config.expressions[measure - EXPRESSION]), this.peers);
      } else if (measure != COUNT) {
        const at = measure - DURATION_MS;
        if (unchecked(measured[at]) == 0) {
          const v = getPropertyInt64Or(unchecked(MEASURED[at]), -1);
          unchecked((measured[at] = v < 0 ? -1 : v / unchecked(MEASURE_DIVISOR[at]) + 1));
        }
        amount = unchecked(measured[at]) - 1; // stored +1 so that 0 means "not read yet"
      }
      if (id == 0 || amount < 0) continue;
      // Envoy rejects counter increments of 0 (BadArgument); there is nothing to add anyway.
      if (m.type != MetricType.Counter) recordMetric(id, <u64>amount);
      else if (amount > 0) incrementMetric(id, amount);
    }
  }
}
