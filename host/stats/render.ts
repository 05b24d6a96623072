// The admin API's stats formats: GET /stats text and JSON (Envoy stats_render.cc) and
// GET /stats/prometheus (Envoy source/server/admin/prometheus_stats.cc). Prometheus names come from
// the tag-extracted name, prefixed "envoy_"; a name in a registered custom namespace (Wasm's
// "wasmcustom", filters.md §0 / §2.4) loses the namespace and gets no prefix.
import type { Counter, Gauge, Histogram, StatsStore } from "../envoy/server-context.js";
import type { Tag, TagProducer } from "./tag-extractor.js";

/** Envoy's supported quantiles for /stats histogram summaries (HistogramStatisticsImpl). */
const quantiles = [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1];

/** Custom stat namespaces registered by extensions; Wasm registers "wasmcustom". */
export const customStatNamespaces: readonly string[] = ["wasmcustom"];

/** What the store's histograms can tell beyond count and sum (host/stats/store.ts HistogramImpl). */
interface DetailedHistogram extends Histogram {
  cumulativeBuckets?(): Array<{ upperBound: number; count: number }>;
  quantile?(q: number): number | undefined;
}

export interface StatsQuery {
  /** ?filter=: a regex the name must match somewhere. */
  filter?: RegExp;
  /** ?usedonly: only stats that moved (non-zero value, recorded histogram). */
  usedOnly?: boolean;
  /** ?type=: Counters, Gauges, Histograms, TextReadouts or All. */
  type?: string;
}

const wanted = (q: StatsQuery, kind: string): boolean => !q.type || q.type === "All" || q.type === kind;
const shown = (q: StatsQuery, name: string, used: boolean): boolean => (!q.filter || q.filter.test(name)) && (!q.usedOnly || used);

/** Like Envoy's "{}" formatting of a quantile: "3.0", "3.0499999999999998". */
function formatQuantile(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return "nan";
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

function histogramSummary(h: DetailedHistogram): string {
  if (h.count === 0) return "No recorded values";
  // The interval (since the last flush) quantiles are not kept, hence "nan" as before a flush.
  return quantiles.map((q) => `P${+(q * 100).toFixed(1)}(nan,${formatQuantile(h.quantile?.(q))})`).join(" ");
}

/** GET /stats: counters and gauges sorted by name, then histograms. */
export function renderStatsText(store: StatsStore, q: StatsQuery = {}): string {
  const lines: Array<[string, string]> = [];
  const numeric = (kind: string, stats: Array<Counter | Gauge>): void => {
    if (!wanted(q, kind)) return;
    for (const s of stats) if (shown(q, s.name, s.value !== 0n)) lines.push([s.name, `${s.name}: ${s.value}`]);
  };
  numeric("Counters", store.counters());
  numeric("Gauges", store.gauges());
  lines.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const histograms = wanted(q, "Histograms")
    ? store
        .histograms()
        .filter((h) => shown(q, h.name, h.count > 0))
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((h) => `${h.name}: ${histogramSummary(h)}`)
    : [];
  return [...lines.map((l) => l[1]), ...histograms].map((l) => `${l}\n`).join("");
}

/** GET /stats?format=json. */
export function renderStatsJson(store: StatsStore, q: StatsQuery = {}): string {
  const stats: unknown[] = [];
  const numeric: Array<Counter | Gauge> = [
    ...(wanted(q, "Counters") ? store.counters() : []),
    ...(wanted(q, "Gauges") ? store.gauges() : []),
  ].filter((s) => shown(q, s.name, s.value !== 0n));
  numeric.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const s of numeric) stats.push({ name: s.name, value: Number(s.value) });
  if (wanted(q, "Histograms")) {
    const hs = (store.histograms() as DetailedHistogram[]).filter((h) => shown(q, h.name, h.count > 0)).sort((a, b) => (a.name < b.name ? -1 : 1));
    stats.push({
      histograms: {
        supported_quantiles: quantiles.map((x) => x * 100),
        computed_quantiles: hs.map((h) => ({
          name: h.name,
          values: quantiles.map((x) => ({ interval: null, cumulative: h.count ? (h.quantile?.(x) ?? null) : null })),
        })),
      },
    });
  }
  return JSON.stringify({ stats }, null, 2);
}

/** Prometheus metric names must match [a-zA-Z_][a-zA-Z0-9_]*. */
const sanitizeName = (s: string): string => s.replace(/[^a-zA-Z0-9_]/g, "_");
const sanitizeValue = (s: string): string => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

/** Envoy PrometheusStatsFormatter::metricName; undefined when a custom name is not a valid metric. */
export function prometheusMetricName(tagExtractedName: string): string | undefined {
  const dot = tagExtractedName.indexOf(".");
  if (dot > 0 && customStatNamespaces.includes(tagExtractedName.slice(0, dot))) {
    const name = sanitizeName(tagExtractedName.slice(dot + 1));
    return name === "" || /^\d/.test(name) ? undefined : name;
  }
  return `envoy_${sanitizeName(tagExtractedName)}`;
}

const formatTags = (tags: Tag[]): string => tags.map((t) => `${sanitizeName(t.name)}="${sanitizeValue(t.value)}"`).join(",");

/** fmt's {:.32g}: up to 32 significant digits, trailing zeros dropped. */
export function formatG32(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  if (v === 0) return "0";
  let s = v.toPrecision(32);
  if (s.includes("e")) {
    const [m, e] = s.split("e") as [string, string];
    const mant = m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m;
    const exp = Number(e);
    return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s;
}

interface Group<T> {
  name: string;
  members: Array<{ stat: T; tags: Tag[] }>;
}

function groupByMetric<T extends { name: string }>(stats: T[], producer: TagProducer, q: StatsQuery, used: (s: T) => boolean): Group<T>[] {
  const groups = new Map<string, Group<T>>();
  for (const stat of stats) {
    if (!shown(q, stat.name, used(stat))) continue;
    const { tagExtractedName, tags } = producer.produceTags(stat.name);
    const metric = prometheusMetricName(tagExtractedName);
    if (!metric) continue;
    let g = groups.get(metric);
    if (!g) groups.set(metric, (g = { name: metric, members: [] }));
    g.members.push({ stat, tags });
  }
  const sorted = [...groups.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const g of sorted) g.members.sort((a, b) => (a.stat.name < b.stat.name ? -1 : 1));
  return sorted;
}

/** GET /stats/prometheus: counters, gauges, then histograms with cumulative buckets. */
export function renderPrometheus(store: StatsStore, producer: TagProducer, q: StatsQuery = {}): string {
  let out = "";
  const numeric = (stats: Array<Counter | Gauge>, type: string): void => {
    for (const g of groupByMetric(stats, producer, q, (s) => s.value !== 0n)) {
      out += `# TYPE ${g.name} ${type}\n`;
      for (const { stat, tags } of g.members) out += `${g.name}{${formatTags(tags)}} ${stat.value}\n`;
    }
  };
  if (wanted(q, "Counters")) numeric(store.counters(), "counter");
  if (wanted(q, "Gauges")) numeric(store.gauges(), "gauge");
  if (wanted(q, "Histograms")) {
    for (const g of groupByMetric(store.histograms() as DetailedHistogram[], producer, q, (h) => h.count > 0)) {
      out += `# TYPE ${g.name} histogram\n`;
      for (const { stat: h, tags } of g.members) {
        const t = formatTags(tags);
        const prefix = t ? `${t},` : "";
        for (const b of h.cumulativeBuckets?.() ?? []) out += `${g.name}_bucket{${prefix}le="${formatG32(b.upperBound)}"} ${b.count}\n`;
        out += `${g.name}_bucket{${prefix}le="+Inf"} ${h.count}\n`;
        out += `${g.name}_sum{${t}} ${formatG32(h.sum)}\n`;
        out += `${g.name}_count{${t}} ${h.count}\n`;
      }
    }
  }
  return out;
}
