// proxy-runtime's metrics. Envoy names them `wasmcustom.<name>` (proxy-wasm-abi.md §2.9).
// Fixed on the way:
// - get_metric read the value with proxy_record_metric (which *sets* a gauge to the address of the
//   out-parameter); it reads with proxy_get_metric.
// - Metrics were defined in the constructor, and a failure threw (aborting the VM); a metric
//   constructed in top-level code therefore called the host during _initialize, where Envoy traps
//   (only proxy_log is allowed there, §2.12). A metric is now defined on first use, and a failure
//   is a returned status.
// - Gauge/Histogram.record(metric_id, value) ignored the object it was called on; they keep that
//   signature for compatibility, and Gauge.set(value) / Histogram.observe(value) act on the metric.
import { MetricType, WasmResult, defineMetric, getMetric, incrementMetric, lastWasmResult, recordMetric } from "../index";
import { MetricTypeValues, WasmResultValues } from "./enums";
import { reportFailure } from "./report";

export class MetricResult {
  result: WasmResultValues = WasmResultValues.Ok;
  metric_id: u32 = 0;
}

export function define_metric(typ: MetricTypeValues, name: string): MetricResult {
  const out = new MetricResult();
  out.metric_id = defineMetric(<MetricType>typ, name);
  if (out.metric_id == 0) out.result = lastWasmResult();
  return out;
}

/** Counter: adds (offset > 0, else BadArgument); gauge: adds or subtracts; histogram: BadArgument. */
export function increment_metric(metric_id: u32, offset: i64): WasmResultValues {
  return incrementMetric(metric_id, offset);
}

/** Counter: adds; gauge: sets; histogram: records a sample. */
export function record_metric(metric_id: u32, value: u64): WasmResultValues {
  return recordMetric(metric_id, value);
}

export class MetricData {
  result: WasmResultValues = WasmResultValues.Ok;
  data: u64 = 0;
}

/** Current value of a counter or gauge (histograms have none: BadArgument). */
export function get_metric(metric_id: u32): MetricData {
  const out = new MetricData();
  out.data = getMetric(metric_id);
  out.result = lastWasmResult();
  return out;
}

/** A named metric, defined with the host the first time it is used. */
class Metric {
  private id: u32 = 0;

  constructor(public readonly typ: MetricTypeValues, public readonly name: string) {}

  /** The host's id (defining the metric now if needed); 0 if the host refused (logged). */
  get metric_id(): u32 {
    let id = this.id;
    if (id == 0) {
      id = defineMetric(<MetricType>this.typ, this.name);
      if (id == 0) reportFailure("define_metric", lastWasmResult(), " " + this.name);
      this.id = id;
    }
    return id;
  }

  /**
   * proxy-runtime's signature, kept for compatibility: records `value` in the metric `metric_id`
   * (normally this.metric_id) — a gauge is set, a histogram gets a sample, a counter is added to.
   */
  record(metric_id: u32, value: u64): WasmResultValues {
    return recordMetric(metric_id, value);
  }

  protected incrementBy(offset: i64): WasmResultValues {
    const id = this.metric_id;
    return id == 0 ? WasmResult.BadArgument : incrementMetric(id, offset);
  }

  protected recordValue(value: u64): WasmResultValues {
    const id = this.metric_id;
    return id == 0 ? WasmResult.BadArgument : recordMetric(id, value);
  }

  protected value(): u64 {
    const id = this.metric_id;
    return id == 0 ? 0 : getMetric(id);
  }
}

export class Counter extends Metric {
  constructor(name: string) {
    super(MetricTypeValues.Counter, name);
  }

  /** Adds `offset` (Envoy rejects 0 with BadArgument). */
  increment(offset: u32): WasmResultValues {
    return this.incrementBy(offset);
  }

  get(): u64 {
    return this.value();
  }
}

export class Gauge extends Metric {
  constructor(name: string) {
    super(MetricTypeValues.Gauge, name);
  }

  /** Adds `offset` (may be negative). */
  increment(offset: i64): WasmResultValues {
    return this.incrementBy(offset);
  }

  /** Sets this gauge to `value`. */
  set(value: u64): WasmResultValues {
    return this.recordValue(value);
  }

  get(): i64 {
    return <i64>this.value();
  }
}

export class Histogram extends Metric {
  constructor(name: string) {
    super(MetricTypeValues.Histogram, name);
  }

  /** Kept from proxy-runtime; Envoy answers BadArgument (a histogram cannot be incremented). */
  increment(offset: i64): WasmResultValues {
    return this.incrementBy(offset);
  }

  /** Records `value` in this histogram. */
  observe(value: u64): WasmResultValues {
    return this.recordValue(value);
  }
}
