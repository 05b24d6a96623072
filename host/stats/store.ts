// An in-memory Envoy Stats::Store: counters and gauges as uint64 (bigint), histograms with Envoy's
// default bucket bounds (filters.md §2.3, envoy source/common/stats/histogram_impl.cc
// defaultBuckets). Tag extraction and /stats rendering live with the proxy; this store only keeps
// values by full name (e.g. "wasmcustom.reporter=.=destination;.;istio_requests_total").
import type { Counter, Gauge, Histogram, StatsStore } from "../envoy/server-context.js";

/** Envoy's default histogram bucket upper bounds (histogram_impl.cc defaultBuckets). */
export const defaultHistogramBuckets: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

class CounterImpl implements Counter {
  private v = 0n;
  constructor(readonly name: string) {}
  get value(): bigint {
    return this.v;
  }
  inc(by = 1n): void {
    this.v = u64(this.v + by);
  }
}

// Envoy gauges are uint64: subtracting below zero wraps around, as it does in a release build.
class GaugeImpl implements Gauge {
  private v = 0n;
  constructor(readonly name: string) {}
  get value(): bigint {
    return this.v;
  }
  set(v: bigint): void {
    this.v = u64(v);
  }
  add(v: bigint): void {
    this.v = u64(this.v + v);
  }
  sub(v: bigint): void {
    this.v = u64(this.v - v);
  }
}

export class HistogramImpl implements Histogram {
  private n = 0;
  private total = 0;
  /** Count of recorded values ≤ each bound (non-cumulative per bucket; index = bucket). */
  private readonly perBucket: number[];
  private minValue = Infinity;
  private maxValue = -Infinity;

  constructor(
    readonly name: string,
    readonly unit: Histogram["unit"],
    readonly bounds: readonly number[] = defaultHistogramBuckets,
  ) {
    this.perBucket = new Array<number>(bounds.length + 1).fill(0);
  }

  record(value: number): void {
    if (!Number.isFinite(value)) throw new RangeError(`histogram ${this.name}: cannot record ${value}`);
    this.n++;
    this.total += value;
    this.minValue = Math.min(this.minValue, value);
    this.maxValue = Math.max(this.maxValue, value);
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.perBucket[i]!++;
  }

  get count(): number {
    return this.n;
  }
  get sum(): number {
    return this.total;
  }

  /** Cumulative counts per upper bound, as Prometheus buckets show them (le="bound"). */
  cumulativeBuckets(): Array<{ upperBound: number; count: number }> {
    let acc = 0;
    return this.bounds.map((upperBound, i) => {
      acc += this.perBucket[i]!;
      return { upperBound, count: acc };
    });
  }

  /** Approximate quantile (q in [0,1]) by linear interpolation inside the bucket. */
  quantile(q: number): number | undefined {
    if (this.n === 0) return undefined;
    const target = q * this.n;
    let acc = 0;
    for (let i = 0; i < this.perBucket.length; i++) {
      const c = this.perBucket[i]!;
      if (c > 0 && acc + c >= target) {
        const lo = Math.max(i === 0 ? this.minValue : this.bounds[i - 1]!, this.minValue);
        const hi = Math.min(i < this.bounds.length ? this.bounds[i]! : this.maxValue, this.maxValue);
        return lo + ((hi - lo) * (target - acc)) / c;
      }
      acc += c;
    }
    return this.maxValue;
  }
}

export interface StatsStoreOptions {
  /** Bucket bounds by name prefix (bootstrap stats_config.histogram_bucket_settings, first match). */
  histogramBuckets?: Array<{ prefix: string; buckets: number[] }>;
}

export class MemoryStatsStore implements StatsStore {
  private readonly counterMap = new Map<string, CounterImpl>();
  private readonly gaugeMap = new Map<string, GaugeImpl>();
  private readonly histogramMap = new Map<string, HistogramImpl>();

  constructor(private readonly options: StatsStoreOptions = {}) {}

  counter(name: string): Counter {
    return getOrCreate(this.counterMap, name, () => new CounterImpl(name));
  }

  gauge(name: string): Gauge {
    return getOrCreate(this.gaugeMap, name, () => new GaugeImpl(name));
  }

  histogram(name: string, unit: Histogram["unit"] = "unspecified"): HistogramImpl {
    return getOrCreate(this.histogramMap, name, () => {
      const custom = this.options.histogramBuckets?.find((b) => name.startsWith(b.prefix));
      return new HistogramImpl(name, unit, custom?.buckets ?? defaultHistogramBuckets);
    });
  }

  findCounter(name: string): Counter | undefined {
    return this.counterMap.get(name);
  }
  findGauge(name: string): Gauge | undefined {
    return this.gaugeMap.get(name);
  }
  findHistogram(name: string): HistogramImpl | undefined {
    return this.histogramMap.get(name);
  }
  counters(): Counter[] {
    return [...this.counterMap.values()];
  }
  gauges(): Gauge[] {
    return [...this.gaugeMap.values()];
  }
  histograms(): HistogramImpl[] {
    return [...this.histogramMap.values()];
  }
}

function getOrCreate<T>(map: Map<string, T>, name: string, create: () => T): T {
  if (name === "") throw new Error("a stat name must not be empty");
  let s = map.get(name);
  if (!s) map.set(name, (s = create()));
  return s;
}
