// The plugin configuration: Istio's stats PluginConfig as JSON (filters.md §2.5), validated
// completely at configure time (every problem is one message naming its JSON path), and turned
// into the plan of what to emit, as Istio's Wasm stats plugin did (istio/proxy
// extensions/stats/plugin.cc initializeDimensions):
// - the four HTTP standard metrics start with the 25 standard labels in Istio's order;
//   custom definitions start with no tags;
// - metrics[] entries apply in order to the metric they name (or to all): `drop` stops a metric,
//   `tags_to_remove` removes tags, `dimensions` (sorted by tag) replace the value of an existing
//   tag in place or append a new tag.
// A tag's source is an index into the per-request value row: 0..24 the standard labels, 25 + i
// the configuration's expression i. Field names are the proto's snake_case names, as Istio
// writes them. Pure code.
import { JsonValue, MetricType, parseJson } from "proxy-wasm-as";
import { Expression, ExpressionContext, ExpressionKind, ValueType, parseExpression } from "./expression";
import { Reporter, STANDARD_LABELS, STANDARD_LABEL_COUNT } from "./labels";

/** Istio's standard metrics by short name; the first four are the HTTP metrics this filter emits. */
const STANDARD_METRICS = " requests_total request_duration_milliseconds request_bytes response_bytes " +
  "request_messages_total response_messages_total tcp_sent_bytes_total tcp_received_bytes_total " +
  "tcp_connections_opened_total tcp_connections_closed_total ";
const HTTP_METRICS = ["requests_total", "request_duration_milliseconds", "request_bytes", "response_bytes"];

/** What a metric records: Measure values below EXPRESSION, or EXPRESSION + the index of an expression. */
export const COUNT: i32 = 0;
export const DURATION_MS: i32 = 1;
export const REQUEST_BYTES: i32 = 2;
export const RESPONSE_BYTES: i32 = 3;
export const EXPRESSION: i32 = 4;

export class PlannedMetric {
  constructor(
    /** Short name, as metrics[].name refers to it. */
    public shortName: string,
    /** Name after the tags: `<stat_prefix>_<short name>`. */
    public name: string,
    public type: MetricType,
    public measure: i32,
  ) {}
  dropped: bool = false;
  /** Parallel: tag names and their value-row sources (-1 once removed). */
  tags: string[] = [];
  sources: i32[] = [];
}

export class StatsConfig {
  statPrefix: string = "istio";
  fieldSeparator: string = ";.;";
  valueSeparator: string = "=.=";
  disableHostHeaderFallback: bool = false;
  /** A Reporter, or -1 to derive it from the root id or the listener direction. */
  reporter: i32 = -1;
  maxMetricCacheSize: i32 = 1000;
  maxPeerCacheSize: i32 = 500;
  /** Every metric, dropped ones included. */
  metrics: PlannedMetric[] = [];
  /** The distinct expressions (by text) of dimensions and definitions. */
  expressions: Expression[] = [];
}

/** [a-zA-Z_][a-zA-Z0-9_]*: a name Prometheus and the stats_tags regexes take as it is. */
export function isPlainName(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const letter = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c == 0x5f;
    if (!letter && !(i > 0 && c >= 0x30 && c <= 0x39)) return false;
  }
  return s.length > 0;
}

/** A google.protobuf.Duration in JSON: decimal seconds and an "s", e.g. "15s", "0.5s". */
export function isDurationText(s: string): bool {
  const n = s.length - 1;
  if (n < 1 || s.charCodeAt(n) != 0x73) return false;
  let dot = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x2e && !dot && i > 0 && i < n - 1) dot = true;
    else if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * Reads the configuration one JSON object at a time (`obj`, at JSON path `at`), keeping the first
 * problem in `error` ("<json path>: <problem>").
 */
export class ConfigParser {
  error: string = "";
  config: StatsConfig = new StatsConfig();
  obj: JsonValue = JsonValue.newObject();
  at: string = "";
  /** Dimension tags added by metrics[] so far (tags_to_remove may name them). */
  added: string[] = [];

  constructor(public context: ExpressionContext) {}

  fail(field: string, problem: string): void {
    let path = this.at + field;
    if (path.endsWith(".")) path = path.substring(0, path.length - 1);
    if (this.error.length == 0) this.error = (path.length > 0 ? path + ": " : "") + problem;
  }

  /** Reads `obj` next, refusing members not in `fields` (space-separated, with spaces around). */
  enter(obj: JsonValue, at: string, fields: string): bool {
    this.obj = obj;
    this.at = at;
    if (!obj.isObject()) this.fail("", "must be an object");
    const keys = obj.keys();
    for (let i = 0; i < keys.length; i++) if (!fields.includes(" " + unchecked(keys[i]) + " ")) this.fail(unchecked(keys[i]), "unknown field");
    return this.error.length == 0;
  }

  /** The member, or null when absent (a JSON null is a value of the wrong type, as the schema says). */
  member(field: string): JsonValue | null {
    return this.obj.get(field);
  }

  string(field: string, fallback: string): string {
    const v = this.member(field);
    if (v === null) return fallback;
    if (!v.isString()) this.fail(field, "must be a string");
    return v.asString();
  }

  /** proto3 JSON booleans, and "true"/"false" as Istio's own configs wrote `"debug": "false"`. */
  bool(field: string): bool {
    const v = this.member(field);
    if (v === null) return false;
    const s = v.asString();
    if (!v.isBool() && s != "true" && s != "false") this.fail(field, "must be a boolean");
    return v.asBool() || s == "true";
  }

  integer(field: string, fallback: i32, min: i32): i32 {
    const v = this.member(field);
    if (v === null) return fallback;
    const n = v.asNumber();
    if (!(n == Math.trunc(n) && n >= min && n <= 1000000)) this.fail(field, "must be an integer from " + min.toString() + " to 1000000");
    return <i32>n;
  }

  array(field: string): JsonValue[] {
    const v = this.member(field);
    if (v !== null && !v.isArray()) this.fail(field, "must be an array");
    return v === null ? [] : v.values();
  }

  /** Index of the expression in config.expressions (shared by text); -1 if refused. */
  expression(source: string, field: string): i32 {
    const list = this.config.expressions;
    const text = source.trim();
    for (let i = 0; i < list.length; i++) if (unchecked(list[i]).text == text) return i;
    const parsed = parseExpression(text, this.context);
    list.push(parsed);
    if (parsed.error.length == 0) return list.length - 1;
    this.fail(field, parsed.error);
    return -1;
  }

  top(root: JsonValue): void {
    const c = this.config;
    if (!this.enter(root, "", " debug max_peer_cache_size stat_prefix field_separator value_separator disable_host_header_fallback tcp_reporting_duration metrics definitions reporter max_metric_cache_size ")) return;
    this.bool("debug"); // deprecated by Istio: accepted, ignored
    c.maxPeerCacheSize = this.integer("max_peer_cache_size", 500, 0);
    c.maxMetricCacheSize = this.integer("max_metric_cache_size", 1000, 1);
    c.statPrefix = this.string("stat_prefix", "istio");
    if (!isPlainName(c.statPrefix)) this.fail("stat_prefix", "must match [a-zA-Z_][a-zA-Z0-9_]*");
    c.fieldSeparator = this.string("field_separator", ";.;");
    c.valueSeparator = this.string("value_separator", "=.=");
    if (c.fieldSeparator.length == 0 || c.valueSeparator.length == 0 || c.fieldSeparator == c.valueSeparator) {
      this.fail("field_separator", "field_separator and value_separator must be non-empty and differ");
    }
    c.disableHostHeaderFallback = this.bool("disable_host_header_fallback");
    if (!isDurationText(this.string("tcp_reporting_duration", "15s"))) this.fail("tcp_reporting_duration", "must be a duration such as \"15s\"");
    const reporter = this.member("reporter");
    if (reporter !== null) {
      // istio stats.Reporter (proto3 JSON: name or number) plus this filter's two sidecar values.
      const n = reporter.asNumber();
      const name = n == 0 ? "UNSPECIFIED" : n == 1 ? "SERVER_GATEWAY" : reporter.asString();
      c.reporter = name == "SERVER_GATEWAY" ? Reporter.ServerGateway : name == "CLIENT_SIDECAR" ? Reporter.ClientSidecar
        : name == "SERVER_SIDECAR" ? Reporter.ServerSidecar : name == "UNSPECIFIED" ? -1 : -2;
      if (c.reporter == -2) this.fail("reporter", "must be UNSPECIFIED, SERVER_GATEWAY, CLIENT_SIDECAR or SERVER_SIDECAR");
    }
    for (let i = 0; i < HTTP_METRICS.length; i++) {
      const short = unchecked(HTTP_METRICS[i]);
      const m = new PlannedMetric(short, c.statPrefix + "_" + short, i == 0 ? MetricType.Counter : MetricType.Histogram, i);
      m.tags = STANDARD_LABELS.slice(0);
      for (let t = 0; t < STANDARD_LABEL_COUNT; t++) m.sources.push(t);
      c.metrics.push(m);
    }
    // Definitions first: metrics[].name may name them.
    const definitions = this.array("definitions");
    const metrics = this.array("metrics");
    for (let i = 0; i < definitions.length && this.error.length == 0; i++) this.definition(unchecked(definitions[i]), "definitions[" + i.toString() + "].");
    for (let i = 0; i < metrics.length && this.error.length == 0; i++) this.metric(unchecked(metrics[i]), "metrics[" + i.toString() + "].");
  }

  find(name: string): PlannedMetric | null {
    const metrics = this.config.metrics;
    for (let i = 0; i < metrics.length; i++) if (unchecked(metrics[i]).shortName == name) return unchecked(metrics[i]);
    return null;
  }

  definition(v: JsonValue, at: string): void {
    if (!this.enter(v, at, " name value type ")) return;
    const name = this.string("name", "");
    if (!isPlainName(name)) this.fail("name", "must match [a-zA-Z_][a-zA-Z0-9_]*");
    if (this.find(name) !== null || STANDARD_METRICS.includes(" " + name + " ")) this.fail("name", "\"" + name + "\" is a standard metric or already defined");
    let type = MetricType.Counter;
    const t = this.member("type");
    if (t !== null) {
      // proto3 JSON enums may be numbers: COUNTER 0, GAUGE 1, HISTOGRAM 2.
      const s = t.asString();
      const n = t.asNumber();
      type = s == "COUNTER" || n == 0 ? MetricType.Counter : s == "GAUGE" || n == 1 ? MetricType.Gauge
        : s == "HISTOGRAM" || n == 2 ? MetricType.Histogram : -1;
      if (type < 0) this.fail("type", "must be COUNTER, GAUGE or HISTOGRAM");
    }
    const value = this.string("value", "");
    const index = this.expression(value, "value");
    if (index < 0) return;
    const e = unchecked(this.config.expressions[index]);
    const integer = e.kind == ExpressionKind.Constant ? e.amount >= 0 : e.type != ValueType.Bool && e.type != ValueType.Time;
    if (!integer) this.fail("value", "\"" + value + "\" is not an integer expression");
    this.config.metrics.push(new PlannedMetric(name, this.config.statPrefix + "_" + name, type, EXPRESSION + index));
  }

  metric(v: JsonValue, at: string): void {
    if (!this.enter(v, at, " dimensions name tags_to_remove match drop ")) return;
    const name = this.string("name", "");
    const drop = this.bool("drop");
    if (this.string("match", "").length > 0) this.fail("match", "not implemented (by Istio either)");
    if (name.length > 0 && !STANDARD_METRICS.includes(" " + name + " ") && this.find(name) === null) this.fail("name", "unknown metric \"" + name + "\"");
    const remove = this.array("tags_to_remove");
    for (let i = 0; i < remove.length; i++) {
      const tag = unchecked(remove[i]).asString();
      if (!unchecked(remove[i]).isString()) this.fail("tags_to_remove[" + i.toString() + "]", "must be a string");
      if (!STANDARD_LABELS.includes(tag) && !this.added.includes(tag)) {
        this.fail("tags_to_remove[" + i.toString() + "]", "\"" + tag + "\" is neither a standard label nor an added dimension");
      }
    }
    const dims = this.member("dimensions");
    const tags = dims === null ? new Array<string>() : dims.keys();
    if (dims !== null && !dims.isObject()) this.fail("dimensions", "must be an object of tag: expression");
    // Istio sorts the dimension tags so that the tag order, and so the stat name, is deterministic.
    for (let i = 1; i < tags.length; i++) {
      const k = unchecked(tags[i]);
      let j = i - 1;
      for (; j >= 0 && unchecked(tags[j]) > k; j--) unchecked((tags[j + 1] = tags[j]));
      unchecked((tags[j + 1] = k));
    }
    const sources = new Array<i32>(tags.length);
    for (let i = 0; i < tags.length; i++) {
      const tag = unchecked(tags[i]);
      const field = "dimensions." + tag;
      const e = dims!.get(tag)!;
      if (!isPlainName(tag)) this.fail(field, "a tag name must match [a-zA-Z_][a-zA-Z0-9_]*");
      if (!e.isString()) this.fail(field, "must be an expression string");
      const index = this.expression(e.asString(), field);
      if (index >= 0 && unchecked(this.config.expressions[index]).type == ValueType.Time) this.fail(field, "a duration or timestamp cannot be a dimension");
      unchecked((sources[i] = STANDARD_LABEL_COUNT + index));
      if (!this.added.includes(tag)) this.added.push(tag);
    }
    if (this.error.length > 0) return;

    const metrics = this.config.metrics;
    for (let i = 0; i < metrics.length; i++) {
      const m = unchecked(metrics[i]);
      if (name.length > 0 && name != m.shortName) continue;
      if (drop) m.dropped = true;
      if (drop) continue;
      for (let r = 0; r < remove.length; r++) {
        const found = m.tags.indexOf(unchecked(remove[r]).asString());
        if (found >= 0) unchecked((m.sources[found] = -1));
      }
      for (let t = 0; t < tags.length; t++) {
        const found = m.tags.indexOf(unchecked(tags[t]));
        if (found >= 0) unchecked((m.sources[found] = sources[t]));
        else {
          m.tags.push(unchecked(tags[t]));
          m.sources.push(unchecked(sources[t]));
        }
      }
    }
  }
}

/**
 * Parses and validates the plugin configuration: the result's `config` is usable when its `error`
 * is "". Empty text is the default configuration (Istio sends none when a WasmPlugin has no
 * pluginConfig).
 */
export function parseConfig(text: string, context: ExpressionContext): ConfigParser {
  const parser = new ConfigParser(context);
  const json = parseJson(text.trim().length > 0 ? text : "{}");
  if (json.ok) parser.top(json.value!);
  else parser.error = "not valid JSON: " + json.describe();
  return parser;
}
