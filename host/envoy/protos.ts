// Envoy's v3 API protos (shipped by @grpc/grpc-js-xds) loaded with protobufjs, and a strict
// converter from Envoy's JSON/YAML form (the proto3 JSON mapping) to protobuf messages.
//
// Strict like `envoy --mode validate`: an unknown field, a wrong type or an unknown `@type` is an
// error naming its JSON path. Both the proto field name (snake_case) and its JSON name
// (lowerCamelCase) are accepted, as Envoy accepts both. Types behind an Any are loaded on demand
// from the package's directory, so only what a config uses is parsed.
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import protobuf from "protobufjs";

const require = createRequire(import.meta.url);
const xdsDeps = join(dirname(require.resolve("@grpc/grpc-js-xds/package.json")), "deps");
const protobufjsDir = dirname(require.resolve("protobufjs/package.json"));
const includeDirs = [
  join(xdsDeps, "envoy-api"),
  join(xdsDeps, "xds"),
  join(xdsDeps, "googleapis"),
  join(xdsDeps, "protoc-gen-validate"),
  protobufjsDir,
];

/** A config error with the JSON path of the offending value, as Envoy reports it. */
export class ProtoJsonError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly typeName: string,
  ) {
    super(`${path || "<root>"}: ${reason} (in ${typeName})`);
    this.name = "ProtoJsonError";
  }
}

let sharedRoot: protobuf.Root | undefined;
const loadedDirs = new Set<string>();

function root(): protobuf.Root {
  if (sharedRoot) return sharedRoot;
  const r = new protobuf.Root();
  r.resolvePath = (_origin: string, target: string): string | null => {
    // protobufjs has the common well-known types built in; loading their files again would clash.
    if (/^google\/protobuf\/(any|duration|empty|field_mask|struct|timestamp|wrappers)\.proto$/.test(target)) {
      return null;
    }
    for (const d of includeDirs) {
      const p = join(d, target);
      if (existsSync(p)) return p;
    }
    return target;
  };
  sharedRoot = r;
  loadPackage("envoy.config.bootstrap.v3");
  return r;
}

function packageDir(pkg: string): string | undefined {
  const rel = pkg.split(".").join("/");
  for (const d of includeDirs) {
    const p = join(d, rel);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Loads every .proto of a package (e.g. "envoy.extensions.filters.http.wasm.v3"). */
function loadPackage(pkg: string): boolean {
  const dir = packageDir(pkg);
  if (!dir) return false;
  if (loadedDirs.has(dir)) return true;
  loadedDirs.add(dir);
  const files = readdirSync(dir).filter((f) => f.endsWith(".proto"));
  const rel = pkg.split(".").join("/");
  sharedRoot!.loadSync(
    files.map((f) => `${rel}/${f}`),
    { keepCase: true },
  );
  sharedRoot!.resolveAll();
  addNewerWasmPluginFields(sharedRoot!);
  return true;
}

/**
 * The protos shipped by @grpc/grpc-js-xds predate fields that current Envoy accepts on
 * envoy.extensions.wasm.v3.PluginConfig (proxy-wasm-abi.md §7.1, §6.5): failure_policy = 7
 * (Envoy ≥1.33, PR #36456), reload_config = 8 and allow_on_headers_stop_iteration = 9
 * (Envoy ≥1.35). Added here so configs written for current Envoy validate.
 */
function addNewerWasmPluginFields(r: protobuf.Root): void {
  // The wasm package also arrives as an import of other packages, so check after every load.
  const pluginConfig = r.lookup("envoy.extensions.wasm.v3.PluginConfig");
  if (!(pluginConfig instanceof protobuf.Type) || pluginConfig.fieldsById[7]) return;
  const ns = pluginConfig.parent as protobuf.Namespace;
  ns.add(new protobuf.Enum("FailurePolicy", { UNSPECIFIED: 0, FAIL_RELOAD: 1, FAIL_CLOSED: 2, FAIL_OPEN: 3 }));
  const reloadConfig = new protobuf.Type("ReloadConfig");
  reloadConfig.add(new protobuf.Field("backoff", 1, "envoy.config.core.v3.BackoffStrategy"));
  ns.add(reloadConfig);
  pluginConfig.add(new protobuf.Field("failure_policy", 7, "envoy.extensions.wasm.v3.FailurePolicy"));
  pluginConfig.add(new protobuf.Field("reload_config", 8, "envoy.extensions.wasm.v3.ReloadConfig"));
  pluginConfig.add(new protobuf.Field("allow_on_headers_stop_iteration", 9, "google.protobuf.BoolValue"));
  loadPackage("envoy.config.core.v3");
  r.resolveAll();
}

/** Looks up a message type by full name ("envoy.config.core.v3.Node"), loading its package. */
export function lookupType(fullName: string): protobuf.Type | undefined {
  const r = root();
  const name = fullName.replace(/^\./, "");
  const find = (): protobuf.Type | undefined => {
    try {
      return r.lookupType(name);
    } catch {
      return undefined;
    }
  };
  let t = find();
  if (t) return t;
  const parts = name.split(".");
  for (let i = parts.length - 1; i > 0 && !t; i--) {
    if (loadPackage(parts.slice(0, i).join("."))) t = find();
  }
  return t;
}

/** Resolves an Any type URL ("type.googleapis.com/<full name>") to its message type. */
export function typeFromUrl(url: string): protobuf.Type | undefined {
  const slash = url.lastIndexOf("/");
  if (slash < 0) return undefined;
  return lookupType(url.slice(slash + 1));
}

const lowerCamel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function jsonKeyIndex(type: protobuf.Type): Map<string, protobuf.Field> {
  const cached = keyIndexCache.get(type);
  if (cached) return cached;
  const m = new Map<string, protobuf.Field>();
  for (const f of type.fieldsArray) {
    m.set(f.name, f);
    m.set(lowerCamel(f.name), f);
    m.set(snake(f.name), f);
    const jsonName = (f.options as Record<string, unknown> | undefined)?.json_name;
    if (typeof jsonName === "string") m.set(jsonName, f);
  }
  keyIndexCache.set(type, m);
  return m;
}
const keyIndexCache = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

/** The field a JSON key names (proto name or lowerCamelCase JSON name), as the converter reads it. */
export function fieldForJsonKey(type: protobuf.Type, key: string): protobuf.Field | undefined {
  return jsonKeyIndex(type).get(key);
}

/** The google.protobuf wrapper messages (DoubleValue, ..., BytesValue). */
export const wrapperTypes: ReadonlySet<string> = new Set([
  "google.protobuf.DoubleValue",
  "google.protobuf.FloatValue",
  "google.protobuf.Int64Value",
  "google.protobuf.UInt64Value",
  "google.protobuf.Int32Value",
  "google.protobuf.UInt32Value",
  "google.protobuf.BoolValue",
  "google.protobuf.StringValue",
  "google.protobuf.BytesValue",
]);

const fullNameOf = (t: protobuf.ReflectionObject): string => t.fullName.replace(/^\./, "");

function fieldById(type: protobuf.Type, id: number): protobuf.Field {
  const f = type.fieldsById[id];
  if (!f) throw new Error(`${type.fullName} has no field ${id}`);
  return f;
}

/** Parses a proto3 JSON Duration ("1s", "0.25s", "1.5s"). Returns [seconds, nanos]. */
export function parseDuration(s: string): [number, number] | undefined {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(s);
  if (!m) return undefined;
  const sign = m[1] ? -1 : 1;
  const nanos = m[3] ? Number(m[3].padEnd(9, "0")) : 0;
  return [sign * Number(m[2]), sign * nanos];
}

function typeError(path: string, type: protobuf.Type, expected: string, got: unknown): ProtoJsonError {
  const what = got === null ? "null" : Array.isArray(got) ? "array" : typeof got;
  return new ProtoJsonError(path, `expected ${expected}, got ${what}`, fullNameOf(type));
}

function convertScalar(f: protobuf.Field, v: unknown, path: string, owner: protobuf.Type): unknown {
  switch (f.type) {
    case "string":
      if (typeof v !== "string") throw typeError(path, owner, "a string", v);
      return v;
    case "bool":
      if (typeof v !== "boolean") throw typeError(path, owner, "a boolean", v);
      return v;
    case "bytes":
      if (typeof v !== "string") throw typeError(path, owner, "base64 bytes", v);
      return Buffer.from(v, "base64");
    case "double":
    case "float":
      if (typeof v === "number") return v;
      if (typeof v === "string" && /^(-?\d+(\.\d+)?([eE][-+]?\d+)?|NaN|-?Infinity)$/.test(v)) return Number(v);
      throw typeError(path, owner, "a number", v);
    default: {
      // Integer types; 64-bit ones may be JSON strings.
      const is64 = /64$/.test(f.type);
      let n: number | bigint;
      if (typeof v === "number" && Number.isInteger(v)) n = v;
      else if (typeof v === "string" && /^-?\d+$/.test(v)) n = is64 ? BigInt(v) : Number(v);
      else throw typeError(path, owner, `an integer (${f.type})`, v);
      const unsigned = f.type.startsWith("u") || f.type.startsWith("fixed");
      if (unsigned && (typeof n === "bigint" ? n < 0n : n < 0)) {
        throw new ProtoJsonError(path, `expected a non-negative integer (${f.type})`, fullNameOf(owner));
      }
      if (!is64 && typeof n === "number" && (n > 0xffffffff || n < -0x80000000)) {
        throw new ProtoJsonError(path, `integer out of range for ${f.type}`, fullNameOf(owner));
      }
      if (typeof n === "number") return n;
      const Long = protobuf.util.Long as unknown as { fromString(s: string, unsigned: boolean): unknown };
      return Long.fromString(n.toString(), unsigned);
    }
  }
}

function convertEnum(e: protobuf.Enum, v: unknown, path: string, owner: protobuf.Type): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && v in e.values) return e.values[v]!;
  throw new ProtoJsonError(
    path,
    `unknown value ${JSON.stringify(v)} for enum ${fullNameOf(e)}`,
    fullNameOf(owner),
  );
}

function convertValue(json: unknown, path: string): Record<string, unknown> {
  const valueType = lookupType("google.protobuf.Value")!;
  const name = (id: number): string => fieldById(valueType, id).name;
  if (json === null) return { [name(1)]: 0 };
  if (typeof json === "number") return { [name(2)]: json };
  if (typeof json === "string") return { [name(3)]: json };
  if (typeof json === "boolean") return { [name(4)]: json };
  if (Array.isArray(json)) return { [name(6)]: convertListValue(json, path) };
  if (typeof json === "object") return { [name(5)]: convertStruct(json as Record<string, unknown>, path) };
  throw new ProtoJsonError(path, "not a JSON value", "google.protobuf.Value");
}

function convertStruct(json: Record<string, unknown>, path: string): Record<string, unknown> {
  const structType = lookupType("google.protobuf.Struct")!;
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) fields[k] = convertValue(v, `${path}.${k}`);
  return { [fieldById(structType, 1).name]: fields };
}

function convertListValue(json: unknown[], path: string): Record<string, unknown> {
  const listType = lookupType("google.protobuf.ListValue")!;
  return { [fieldById(listType, 1).name]: json.map((v, i) => convertValue(v, `${path}[${i}]`)) };
}

/** Converts proto3 JSON for `type` into a plain object protobufjs can `fromObject`. */
function convertMessage(type: protobuf.Type, json: unknown, path: string): Record<string, unknown> {
  const name = fullNameOf(type);
  switch (name) {
    case "google.protobuf.Struct":
      if (json === null || typeof json !== "object" || Array.isArray(json)) throw typeError(path, type, "an object", json);
      return convertStruct(json as Record<string, unknown>, path);
    case "google.protobuf.Value":
      return convertValue(json, path);
    case "google.protobuf.ListValue":
      if (!Array.isArray(json)) throw typeError(path, type, "an array", json);
      return convertListValue(json, path);
    case "google.protobuf.Duration": {
      const d = typeof json === "string" ? parseDuration(json) : undefined;
      if (!d) throw new ProtoJsonError(path, `invalid duration ${JSON.stringify(json)} (want e.g. "1.5s")`, name);
      return { [fieldById(type, 1).name]: d[0], [fieldById(type, 2).name]: d[1] };
    }
    case "google.protobuf.Timestamp": {
      const ms = typeof json === "string" ? Date.parse(json) : NaN;
      if (Number.isNaN(ms)) throw new ProtoJsonError(path, `invalid timestamp ${JSON.stringify(json)}`, name);
      return { [fieldById(type, 1).name]: Math.floor(ms / 1000), [fieldById(type, 2).name]: (ms % 1000) * 1e6 };
    }
    case "google.protobuf.Any":
      return convertAny(type, json, path);
  }
  if (wrapperTypes.has(name)) {
    const f = fieldById(type, 1);
    return { [f.name]: convertScalar(f, json, path, type) };
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw typeError(path, type, "an object", json);
  const out: Record<string, unknown> = {};
  const keys = jsonKeyIndex(type);
  const oneofSeen = new Map<string, string>();
  for (const [k, v] of Object.entries(json as Record<string, unknown>)) {
    const fpath = path ? `${path}.${k}` : k;
    const f = keys.get(k);
    if (!f) throw new ProtoJsonError(fpath, "Cannot find field", name);
    if (v === null && fullNameOf(f.resolvedType ?? type) !== "google.protobuf.Value") continue;
    if (f.partOf) {
      const prev = oneofSeen.get(f.partOf.name);
      if (prev) throw new ProtoJsonError(fpath, `oneof ${f.partOf.name} already set by ${prev}`, name);
      oneofSeen.set(f.partOf.name, k);
    }
    out[f.name] = convertField(type, f, v, fpath);
  }
  return out;
}

function convertField(owner: protobuf.Type, f: protobuf.Field, v: unknown, path: string): unknown {
  f.resolve();
  if (f instanceof protobuf.MapField) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw typeError(path, owner, "an object (map)", v);
    const m: Record<string, unknown> = {};
    for (const [mk, mv] of Object.entries(v as Record<string, unknown>)) m[mk] = convertSingle(owner, f, mv, `${path}.${mk}`);
    return m;
  }
  if (f.repeated) {
    if (!Array.isArray(v)) throw typeError(path, owner, "an array", v);
    return v.map((x, i) => convertSingle(owner, f, x, `${path}[${i}]`));
  }
  return convertSingle(owner, f, v, path);
}

function convertSingle(owner: protobuf.Type, f: protobuf.Field, v: unknown, path: string): unknown {
  const rt = f.resolvedType;
  if (rt instanceof protobuf.Type) return convertMessage(rt, v, path);
  if (rt instanceof protobuf.Enum) return convertEnum(rt, v, path, owner);
  return convertScalar(f, v, path, owner);
}

function convertAny(anyType: protobuf.Type, json: unknown, path: string): Record<string, unknown> {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw typeError(path, anyType, "an object", json);
  const { "@type": url, ...rest } = json as Record<string, unknown>;
  if (typeof url !== "string") throw new ProtoJsonError(`${path}.@type`, "missing @type", "google.protobuf.Any");
  const inner = typeFromUrl(url);
  if (!inner) throw new ProtoJsonError(`${path}.@type`, `unknown type URL ${JSON.stringify(url)}`, "google.protobuf.Any");
  const innerName = fullNameOf(inner);
  const special = innerName.startsWith("google.protobuf.") && innerName !== "google.protobuf.Empty";
  const innerJson = special ? rest.value : rest;
  const bytes = encodeMessage(inner, convertMessage(inner, innerJson, path));
  return { [fieldById(anyType, 1).name]: url, [fieldById(anyType, 2).name]: bytes };
}

function encodeMessage(type: protobuf.Type, plain: Record<string, unknown>): Uint8Array {
  return type.encode(type.fromObject(plain)).finish();
}

/** Validates Envoy JSON for `typeName` and returns its protobuf encoding. Throws ProtoJsonError. */
export function encodeJson(typeName: string, json: unknown, path = ""): Uint8Array {
  const type = lookupType(typeName);
  if (!type) throw new Error(`unknown proto type ${typeName}`);
  return encodeMessage(type, convertMessage(type, json, path));
}

/** Decodes protobuf bytes of `typeName` into a plain object (proto field names, enums as names). */
export function decodeToObject(typeName: string, bytes: Uint8Array): Record<string, unknown> {
  const type = lookupType(typeName);
  if (!type) throw new Error(`unknown proto type ${typeName}`);
  return type.toObject(type.decode(bytes), { enums: String, longs: String, bytes: String, defaults: false });
}
