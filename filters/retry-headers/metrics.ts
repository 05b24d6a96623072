// The filter's metrics (filters.md §3.4). Envoy creates them as `wasmcustom.<name>`: /stats lists
// them so, /stats/prometheus without the namespace and without the envoy_ prefix (filters.md §0;
// PrometheusStatsFormatter::metricName). They are defined at configure time so that they are
// listed (at 0) before the first request.
import { Counter, Histogram } from "proxy-wasm-as";

export class RetryHeadersMetrics {
  /** Requests to which a rule added at least one router header. */
  injected: Counter = new Counter("retry_headers_injected_total");
  /** Control headers removed from requests of untrusted clients. */
  stripped: Counter = new Counter("retry_headers_stripped_total");
  /** Control headers of trusted clients dropped or shortened because the router would not accept (all of) them. */
  invalid: Counter = new Counter("retry_headers_invalid_total");
  /** Control headers of trusted clients lowered to a configured cap. */
  clamped: Counter = new Counter("retry_headers_clamped_total");
  /** Upstream attempts per request that reached the router (upstream.request_attempt_count). */
  attempts: Histogram = new Histogram("retry_headers_upstream_attempts");

  define(): void {
    this.injected.id;
    this.stripped.id;
    this.invalid.id;
    this.clamped.id;
    this.attempts.id;
  }
}
