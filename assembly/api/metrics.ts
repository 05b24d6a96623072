// Metrics (proxy-wasm-abi.md §2.9). Envoy names them `wasmcustom.<name>` and strips the prefix in
// /stats and /stats/prometheus output. Each metric is defined on first use (never at module start,
// where the host forbids it) and its id cached. Tags cannot cross the ABI: encode them into the
// name with metricNameWithTags and recover them with Envoy `stats_tags` regexes (filters.md §2.4).
import { proxy_define_metric, proxy_get_metric, proxy_increment_metric, proxy_record_metric } from "../abi/imports";
import { MetricType, WasmResult } from "../abi/enums";
import { OUT_VALUE, encodeArg, encodedSize } from "../runtime/memory";
import { setLastResult } from "../runtime/state";

/** Defines (or looks up again) a metric; returns its id, or 0 on failure (see lastWasmResult). */
export function defineMetric(type: MetricType, name: string): u32 {
  const n = encodeArg(name);
  store<u32>(OUT_VALUE, 0);
  if (setLastResult(proxy_define_metric(type, n, encodedSize, OUT_VALUE)) != WasmResult.Ok) return 0;
  return load<u32>(OUT_VALUE);
}

/** Current value of a counter or gauge (histograms have none: BadArgument, returns 0). */
export function getMetric(id: u32): u64 {
  store<u64>(OUT_VALUE, 0);
  if (setLastResult(proxy_get_metric(id, OUT_VALUE)) != WasmResult.Ok) return 0;
  return load<u64>(OUT_VALUE);
}

export function incrementMetric(id: u32, offset: i64): WasmResult {
  return proxy_increment_metric(id, offset);
}

export function recordMetric(id: u32, value: u64): WasmResult {
  return proxy_record_metric(id, value);
}

/** A named metric whose id is defined lazily and cached. */
export class Metric {
  private metricId: u32 = 0;

  constructor(public readonly type: MetricType, public readonly name: string) {}

  /** The host id, defining the metric on first use; 0 if the host refused (see lastWasmResult). */
  get id(): u32 {
    let id = this.metricId;
    if (id == 0) this.metricId = id = defineMetric(this.type, this.name);
    return id;
  }
}

export class Counter extends Metric {
  constructor(name: string) {
    super(MetricType.Counter, name);
  }
  /** Adds `offset` (must be > 0: Envoy rejects 0 and negatives with BadArgument). */
  increment(offset: i64 = 1): WasmResult {
    const id = this.id;
    return id == 0 ? WasmResult.BadArgument : proxy_increment_metric(id, offset);
  }
  get(): u64 {
    const id = this.id;
    return id == 0 ? 0 : getMetric(id);
  }
}

export class Gauge extends Metric {
  constructor(name: string) {
    super(MetricType.Gauge, name);
  }
  set(value: i64): WasmResult {
    const id = this.id;
    return id == 0 ? WasmResult.BadArgument : proxy_record_metric(id, <u64>value);
  }
  /** Adds `delta` (may be negative). */
  add(delta: i64): WasmResult {
    const id = this.id;
    return id == 0 ? WasmResult.BadArgument : proxy_increment_metric(id, delta);
  }
  get(): i64 {
    const id = this.id;
    return id == 0 ? 0 : <i64>getMetric(id);
  }
}

export class Histogram extends Metric {
  constructor(name: string) {
    super(MetricType.Histogram, name);
  }
  record(value: u64): WasmResult {
    const id = this.id;
    return id == 0 ? WasmResult.BadArgument : proxy_record_metric(id, value);
  }
}


/**
 * `<tag><valueSeparator><value><fieldSeparator>` for each tag in order, then `name`. The default
 * separators are Istio's "=.=" and ";.;" (filters.md §2.4), recovered by Envoy `stats_tags`
 * regexes `(<tag>=\.=(.*?);\.;)`; e.g.
 * "reporter=.=destination;.;response_code=.=200;.;istio_requests_total". `tagNames` and
 * `tagValues` are parallel; extra values are ignored, missing ones are empty.
 */
export function metricNameWithTags(
  name: string, tagNames: string[], tagValues: string[],
  valueSeparator: string = "=.=", fieldSeparator: string = ";.;",
): string {
  const parts = new Array<string>();
  for (let i = 0, n = tagNames.length; i < n; i++) {
    parts.push(unchecked(tagNames[i]));
    parts.push(valueSeparator);
    parts.push(i < tagValues.length ? unchecked(tagValues[i]) : "");
    parts.push(fieldSeparator);
  }
  parts.push(name);
  return parts.join("");
}
