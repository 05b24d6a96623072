// JSON inputs for the fuzzers: random JSON values, pathological JSON texts (deep nesting, long
// strings, odd numbers and escapes), and values generated from a filter's config.schema.json that
// are mostly valid — each node has a small chance of being wrong (another type, a number past its
// bounds, an unknown key, a required key left out) — so the parser gets past its first check and
// into the code that interprets fields.
import type { Prng } from "./prng.js";
import { stringFromPattern } from "./regex-gen.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, unknown>;

/** Strings that mean something to the filters' configurations (attribute paths, CIDRs, durations, headers, ...). */
const vocabulary = [
  "", " ", "0", "-1", "1s", "0.5s", "1000s", "-1s", "1.5", "1e3", "true", "null", "GET", "POST", "*",
  "x-foo", "X-Foo", "x-envoy-retry-on", "x-envoy-max-retries", ":path", ":authority", "host",
  "5xx", "gateway-error,reset", "connect-failure,refused-stream", "retriable-status-codes",
  "10.0.0.0/8", "192.168.1.1/32", "::1/128", "fe80::/10", "10.0.0.1", "300.1.1.1/8", "1.2.3.4/33",
  "^/api/.*$", "/api/(v1|v2)/[a-z]+", "(unclosed", "a{2,3}", "\\d+", "[^a]",
  "request.host", "request.path", "request.headers['x-foo']", "request.headers[\"x-foo\"]", "response.code",
  "response.size", "request.size", "connection.mtls", "source.address", "destination.port",
  "node.metadata['CLUSTER_ID']", "downstream_peer.cluster_id", "upstream_peer.workload_name",
  "filter_state['wasm.istio_operationId']", "xds.cluster_name", "'literal'", "42", "request.headers['",
  "INBOUND", "OUTBOUND", "UNSPECIFIED", "SERVER_GATEWAY", "COUNTER", "GAUGE", "HISTOGRAM", "OFF", "IETF_DRAFT_10",
  "istio", "requests_total", "request_duration_milliseconds", "source_workload", "destination_cluster",
  "=.=", ";.;", "%REQ(x-foo)%", "%DOWNSTREAM_REMOTE_ADDRESS%", "{header:x-foo}",
  "é", "日本", "\u0000", "\u001f", "\ud800", "\udfff", "😀", "\\", "\"", "a".repeat(300),
];

const numbers = [0, -0, 1, -1, 2, 7, 10, 20, 59, 60, 100, 255, 256, 429, 503, 599, 600, 1000, 65535, 65536, 2147483647,
  2147483648, 4294967295, 4294967296, 9007199254740991, 9007199254740992, 1e21, 1e308, -1e308, 0.5, 1.5, 1e-7, 31536000, 31536001];

export function randomString(rng: Prng): string {
  if (rng.chance(0.6)) return rng.pick(vocabulary);
  const alphabet = rng.pick(["abcdefghijklmnopqrstuvwxyz_", "abc-_.:/*0123456789", "\"\\/\b\f\n\r\t{}[],:", "αβγ日本😀é\u0000\u007f"]);
  const chars = [...alphabet];
  let s = "";
  for (let n = rng.length(40); n > 0; n--) s += rng.pick(chars);
  return s;
}

export function randomNumber(rng: Prng): number {
  if (rng.chance(0.6)) return rng.pick(numbers) * (rng.chance(0.1) ? -1 : 1);
  return rng.chance(0.5) ? rng.range(-1000, 100000) : (rng.float() - 0.5) * 10 ** rng.range(-5, 25);
}

/** A random JSON value; object keys come from `keys` half of the time (a schema's field names). */
export function randomJson(rng: Prng, keys: readonly string[] = [], depth = 0): Json {
  const kind = rng.int(depth > 4 ? 4 : 6);
  switch (kind) {
    case 0:
      return rng.chance(0.3) ? null : rng.chance(0.5);
    case 1:
      return randomNumber(rng);
    case 2:
    case 3:
      return randomString(rng);
    case 4: {
      const out: Json[] = [];
      for (let n = rng.length(6); n > 0; n--) out.push(randomJson(rng, keys, depth + 1));
      return out;
    }
    default: {
      const out: { [key: string]: Json } = {};
      for (let n = rng.length(6); n > 0; n--) {
        const key = keys.length && rng.chance(0.5) ? rng.pick(keys) : randomString(rng);
        out[key] = randomJson(rng, keys, depth + 1);
      }
      return out;
    }
  }
}

/** JSON texts that stress a reader rather than a config: nesting past any limit, odd literals. */
export function pathologicalJsonText(rng: Prng): string {
  switch (rng.int(8)) {
    case 0: {
      const depth = rng.pick([127, 128, 129, 200, 5000]);
      return "[".repeat(depth) + "]".repeat(rng.chance(0.8) ? depth : rng.int(depth));
    }
    case 1: {
      const depth = rng.pick([100, 129, 1000]);
      return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
    }
    case 2:
      return `"${"\\u".repeat(rng.range(1, 3))}${rng.pick(["d800", "dfff", "zzzz", "00", "0000", "d83d\\ude00", "d83d"])}"`;
    case 3:
      return rng.pick(["-", "--1", "01", "1.", ".5", "1e", "1e+", "-0", "1E400", "-1e-400", "0x10", "NaN", "Infinity", "+1", "1.0e-0"]);
    case 4:
      return rng.pick(["tru", "nul", "falsey", "[1,]", "{,}", '{"a"}', '{"a":}', '{"a":1,}', "[1 2]", '{"a" 1}', "\ufeff{}", "{}\u0000", "  {}  "]);
    case 5:
      return `{${Array.from({ length: rng.range(100, 2000) }, (_, i) => `"k${i % 50}":${i}`).join(",")}}`;
    case 6:
      return `"${"x".repeat(rng.range(1000, 70000))}"`;
    default:
      return JSON.stringify(randomJson(rng));
  }
}

// ------------------------------------------------------------------ schema-driven generation

function resolve(root: Schema, s: Schema): Schema {
  let cur = s;
  for (let i = 0; i < 16 && typeof cur.$ref === "string"; i++) {
    const ref = cur.$ref as string;
    if (!ref.startsWith("#/")) break;
    let node: unknown = root;
    for (const part of ref.slice(2).split("/")) node = (node as Schema)[part];
    cur = { ...(node as Schema), ...Object.fromEntries(Object.entries(cur).filter(([k]) => k !== "$ref")) };
  }
  return cur;
}

/**
 * The conjunction of two schemas, as far as generation needs it: properties merged key by key
 * (`true` adds no constraint), required lists joined, other keywords of `b` win. Conditionals
 * (if/then/else, not) are left out: generated values may break them, which is fine for fuzzing.
 */
function mergeSchemas(a: Schema, b: Schema | boolean): Schema {
  if (typeof b === "boolean") return a;
  const { if: _if, then: _then, else: _else, not: _not, ...rest } = b;
  const out: Schema = { ...a, ...rest };
  if (a.properties || b.properties) {
    const props: Record<string, Schema | boolean> = { ...((a.properties as Record<string, Schema>) ?? {}) };
    for (const [k, v] of Object.entries((b.properties as Record<string, Schema | boolean>) ?? {})) {
      const base = props[k];
      props[k] = base === undefined || base === true ? v : mergeSchemas(base as Schema, v);
    }
    out.properties = props;
  }
  if (a.required || b.required) out.required = [...new Set([...((a.required as string[]) ?? []), ...((b.required as string[]) ?? [])])];
  return out;
}

/** Every string a schema mentions as a value (enum, const, default, examples) and every property name. */
export function schemaVocabulary(schema: Schema): { strings: string[]; keys: string[] } {
  const strings = new Set<string>();
  const keys = new Set<string>();
  const visit = (node: unknown, key?: string): void => {
    if (typeof node === "string" && key !== "description" && key !== "$ref" && key !== "$schema" && key !== "$id" && key !== "pattern") strings.add(node);
    if (Array.isArray(node)) node.forEach((n) => visit(n, key === "enum" || key === "examples" ? key : undefined));
    else if (node && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) {
        if (k === "properties" && v && typeof v === "object") Object.keys(v).forEach((p) => keys.add(p));
        if (k !== "description") visit(v, k);
      }
    }
  };
  visit(schema);
  return { strings: [...strings], keys: [...keys] };
}

export class SchemaGenerator {
  private readonly strings: string[];
  readonly keys: string[];

  constructor(
    private readonly root: Schema,
    /** Chance that a node is generated wrong on purpose. */
    private readonly errorRate = 0.04,
  ) {
    const v = schemaVocabulary(root);
    this.strings = [...v.strings, ...vocabulary];
    this.keys = v.keys;
  }

  /** The schema's own examples (valid by its authors' word), if any. */
  examples(): Json[] {
    return (this.root.examples as Json[] | undefined) ?? [];
  }

  generate(rng: Prng, schema: Schema = this.root, depth = 0): Json {
    const s = resolve(this.root, schema);
    if (rng.chance(this.errorRate) || depth > 12) return randomJson(rng, this.keys, 3);
    if (s.const !== undefined) return s.const as Json;
    if (Array.isArray(s.enum)) return rng.pick(s.enum as Json[]);
    const alternatives = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
    if (alternatives?.length) return this.generate(rng, mergeSchemas({ ...s, anyOf: undefined, oneOf: undefined }, rng.pick(alternatives)), depth + 1);
    if (Array.isArray(s.allOf)) return this.generate(rng, (s.allOf as Schema[]).reduce(mergeSchemas, { ...s, allOf: undefined }), depth + 1);
    if (s.default !== undefined && rng.chance(0.15)) return s.default as Json;
    const types = Array.isArray(s.type) ? (s.type as string[]) : s.type ? [s.type as string] : s.properties ? ["object"] : ["string", "number", "boolean"];
    switch (rng.pick(types)) {
      case "object":
        return this.object(rng, s, depth);
      case "array": {
        const min = (s.minItems as number | undefined) ?? 0;
        const max = Math.min((s.maxItems as number | undefined) ?? min + 4, min + 6);
        const n = rng.chance(this.errorRate) ? max + 1 : rng.range(min, max);
        return Array.from({ length: n }, () => this.generate(rng, (s.items as Schema | undefined) ?? {}, depth + 1));
      }
      case "integer":
      case "number":
        return this.number(rng, s);
      case "boolean":
        return rng.chance(0.5);
      case "null":
        return null;
      default:
        return this.string(rng, s);
    }
  }

  private object(rng: Prng, s: Schema, depth: number): Json {
    const out: { [key: string]: Json } = {};
    const props = (s.properties as Record<string, Schema> | undefined) ?? {};
    const required = new Set((s.required as string[] | undefined) ?? []);
    for (const [name, sub] of Object.entries(props)) {
      const include = required.has(name) ? !rng.chance(this.errorRate) : rng.chance(0.5);
      if (include) out[name] = this.generate(rng, sub, depth + 1);
    }
    if (s.additionalProperties && typeof s.additionalProperties === "object") {
      const namePattern = ((s.propertyNames as Schema | undefined)?.pattern as string | undefined) ?? "";
      for (let n = rng.range(0, 3); n > 0; n--) {
        const key = this.string(rng, { pattern: namePattern || undefined, minLength: 1 });
        out[key] = this.generate(rng, s.additionalProperties as Schema, depth + 1);
      }
    } else if (rng.chance(this.errorRate)) {
      out[randomString(rng)] = randomJson(rng, this.keys, 3);
    }
    return out;
  }

  private number(rng: Prng, s: Schema): number {
    const min = (s.minimum as number | undefined) ?? (s.exclusiveMinimum as number | undefined) ?? -1000;
    const max = (s.maximum as number | undefined) ?? (s.exclusiveMaximum as number | undefined) ?? Math.max(min + 1000, 100000);
    const integer = s.type === "integer";
    const r = rng.int(10);
    let n: number;
    if (r === 0) n = min;
    else if (r === 1) n = max;
    else if (r === 2 && rng.chance(this.errorRate * 5)) n = rng.chance(0.5) ? min - 1 : max + 1;
    else if (r === 3 && !integer) n = min + rng.float() * (max - min);
    else n = min + rng.int(Math.min(max - min, 1e9) + 1);
    return integer ? Math.round(n) : n;
  }

  private string(rng: Prng, s: Schema): string {
    const pattern = typeof s.pattern === "string" ? safeRegExp(s.pattern) : null;
    const minLength = (s.minLength as number | undefined) ?? 0;
    const maxLength = (s.maxLength as number | undefined) ?? Infinity;
    const fits = (c: string | null): c is string => c !== null && c.length >= minLength && c.length <= maxLength && (!pattern || pattern.test(c));
    const fromPattern = (): string | null => (pattern ? stringFromPattern(rng, s.pattern as string) : null);
    const attempts: Array<[number, () => string | null]> = [
      [pattern && rng.chance(0.6) ? 8 : 0, fromPattern],
      [16, () => rng.pick(this.strings)],
      [8, () => identifier(rng)],
      [8, fromPattern],
    ];
    for (const [n, candidate] of attempts) {
      for (let i = 0; i < n; i++) {
        const c = candidate();
        if (fits(c)) return c;
      }
    }
    return maxLength === 0 ? "" : randomString(rng);
  }
}

function identifier(rng: Prng): string {
  const first = "abcdefghijklmnopqrstuvwxyz_";
  const rest = `${first}0123456789`;
  let s = first[rng.int(first.length)]!;
  for (let n = rng.range(0, 14); n > 0; n--) s += rest[rng.int(rest.length)]!;
  return s;
}

const regexCache = new Map<string, RegExp | null>();
function safeRegExp(pattern: string): RegExp | null {
  if (!regexCache.has(pattern)) {
    let re: RegExp | null = null;
    try {
      re = new RegExp(pattern, "u");
    } catch {
      re = null;
    }
    regexCache.set(pattern, re);
  }
  return regexCache.get(pattern)!;
}

/**
 * Structural mutations of a JSON value: a node replaced by a random value, a key dropped or
 * added, a number pushed to a boundary, a string emptied or doubled, an array item duplicated.
 */
export function mutateJson(rng: Prng, value: Json, keys: readonly string[] = []): Json {
  const copy = structuredClone(value) as Json;
  const nodes: Array<{ parent: Json[] | { [k: string]: Json }; key: string | number }> = [];
  const collect = (v: Json): void => {
    if (Array.isArray(v)) v.forEach((item, i) => (nodes.push({ parent: v, key: i }), collect(item)));
    else if (v && typeof v === "object") for (const [k, item] of Object.entries(v)) nodes.push({ parent: v, key: k }), collect(item);
  };
  collect(copy);
  if (!nodes.length) return randomJson(rng, keys);
  for (let n = rng.range(1, 3); n > 0; n--) {
    const { parent, key } = rng.pick(nodes);
    const target = (parent as Record<string | number, Json>)[key as never] as Json;
    const set = (v: Json): void => void ((parent as Record<string | number, Json>)[key as never] = v);
    switch (rng.int(7)) {
      case 0:
        set(randomJson(rng, keys, 2));
        break;
      case 1:
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        break;
      case 2:
        if (!Array.isArray(parent)) parent[rng.chance(0.5) && keys.length ? rng.pick(keys) : randomString(rng)] = randomJson(rng, keys, 2);
        else parent.push(structuredClone(target));
        break;
      case 3:
        set(typeof target === "number" ? rng.pick([target - 1, target + 1, -target, target * 1e6, 0.5, 2 ** 64]) : randomNumber(rng));
        break;
      case 4:
        set(typeof target === "string" ? rng.pick(["", target + target, target.toUpperCase(), ` ${target}`, `${target}\u0000`]) : randomString(rng));
        break;
      case 5:
        set(typeof target === "string" || typeof target === "number" ? String(target) : [target]);
        break;
      default:
        set(rng.pick([null, true, false, {}, []]));
    }
  }
  return copy;
}
