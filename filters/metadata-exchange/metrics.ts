// Counters of the filter. Envoy stores them as wasmcustom.metadata_exchange.* (so /stats shows
// them) and strips the namespace in /stats/prometheus: metadata_exchange_*, without the envoy_
// prefix (filters.md §0 "Custom metrics"; PrometheusStatsFormatter::metricName). The prefix is the
// one Istio's TCP metadata exchange uses (metadata_exchange.header_not_found, ...).
import { Counter } from "proxy-wasm-as";

export class MetadataExchangeMetrics {
  /** A peer metadata value that is not base64 of a google.protobuf.Struct. */
  readonly malformed: Counter = new Counter("metadata_exchange.peer_metadata_malformed");
  /** A peer header value longer than max_peer_header_bytes. */
  readonly oversize: Counter = new Counter("metadata_exchange.peer_header_oversize");
  readonly cacheHits: Counter = new Counter("metadata_exchange.peer_cache_hits");
  readonly cacheMisses: Counter = new Counter("metadata_exchange.peer_cache_misses");
  /** Requests from downstream that carried peer headers in edge mode (removed, not trusted). */
  readonly untrusted: Counter = new Counter("metadata_exchange.untrusted_peer_headers");

  /** Defines every counter now, so that all of them appear in /stats from the start. */
  defineAll(): void {
    this.malformed.id;
    this.oversize.id;
    this.cacheHits.id;
    this.cacheMisses.id;
    this.untrusted.id;
  }
}
