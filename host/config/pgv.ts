// protoc-gen-validate rules carried by Envoy's protos ((validate.rules) field options), checked
// over canonical JSON as Envoy's MessageUtil::validate does after parsing. The rule kinds Envoy's
// bootstrap, listener, route, cluster and Wasm messages use are covered; other kinds are not
// checked. Errors name the JSON path and the violated rule.
import protobuf from "protobufjs";
import { parseDuration } from "../envoy/protos.js";
import { ConfigError, joinPath } from "./errors.js";
import { anyType, fullName, isOpaque, type JsonObject } from "./proto-json.js";

type Options = Record<string, unknown>;

/** Field options under (validate.rules), keys relative to it ("string.min_len", ...). */
function rulesOf(options: Options | undefined, prefix = "(validate.rules)."): Options {
  const rules: Options = {};
  if (!options) return rules;
  for (const [k, v] of Object.entries(options)) if (k.startsWith(prefix)) rules[k.slice(prefix.length)] = v;
  return rules;
}

function sub(rules: Options, prefix: string): Options {
  const out: Options = {};
  for (const [k, v] of Object.entries(rules)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

const headerName = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
const headerValue = /^[^\u0000\n\r]*$/;

function fail(path: string, owner: protobuf.Type, field: protobuf.Field, reason: string): ConfigError {
  return new ConfigError(`${path}: ${reason} (validation rule of ${fullName(owner)}.${field.name})`, path);
}

function durationNanos(v: unknown): bigint | undefined {
  if (typeof v === "string") {
    const d = parseDuration(v);
    return d ? BigInt(d[0]) * 1_000_000_000n + BigInt(d[1]) : undefined;
  }
  if (v && typeof v === "object") {
    const o = v as { seconds?: unknown; nanos?: unknown };
    return BigInt(Number(o.seconds ?? 0)) * 1_000_000_000n + BigInt(Number(o.nanos ?? 0));
  }
  return undefined;
}

function checkNumber(rules: Options, n: number, fail: (reason: string) => ConfigError): void {
  const num = (k: string): number | undefined => (rules[k] === undefined ? undefined : Number(rules[k]));
  const c = num("const"), lt = num("lt"), lte = num("lte"), gt = num("gt"), gte = num("gte");
  if (c !== undefined && n !== c) throw fail(`value must equal ${c}`);
  if (lt !== undefined && !(n < lt)) throw fail(`value must be less than ${lt}`);
  if (lte !== undefined && !(n <= lte)) throw fail(`value must be less than or equal to ${lte}`);
  if (gt !== undefined && !(n > gt)) throw fail(`value must be greater than ${gt}`);
  if (gte !== undefined && !(n >= gte)) throw fail(`value must be greater than or equal to ${gte}`);
}

function checkDuration(rules: Options, v: unknown, fail: (reason: string) => ConfigError): void {
  const ns = durationNanos(v);
  if (ns === undefined) return;
  const bound = (k: string): bigint | undefined => {
    const b = sub(rules, `${k}.`);
    if (b.seconds === undefined && b.nanos === undefined) return undefined;
    return BigInt(Number(b.seconds ?? 0)) * 1_000_000_000n + BigInt(Number(b.nanos ?? 0));
  };
  const show = (b: bigint): string => `${Number(b) / 1e9}s`;
  const lt = bound("lt"), lte = bound("lte"), gt = bound("gt"), gte = bound("gte");
  if (lt !== undefined && !(ns < lt)) throw fail(`value must be less than ${show(lt)}`);
  if (lte !== undefined && !(ns <= lte)) throw fail(`value must be less than or equal to ${show(lte)}`);
  if (gt !== undefined && !(ns > gt)) throw fail(`value must be greater than ${show(gt)}`);
  if (gte !== undefined && !(ns >= gte)) throw fail(`value must be greater than or equal to ${show(gte)}`);
}

/** Checks one (non-repeated) value against scalar/duration/enum rules. */
function checkValue(field: protobuf.Field, rules: Options, v: unknown, fail: (reason: string) => ConfigError): void {
  const t = field.resolvedType;
  const str = sub(rules, "string.");
  if (typeof v === "string" && Object.keys(str).length) {
    const len = [...v].length;
    const bytes = Buffer.byteLength(v);
    if (str.min_len !== undefined && len < Number(str.min_len)) throw fail(`value length must be at least ${str.min_len} characters`);
    if (str.max_len !== undefined && len > Number(str.max_len)) throw fail(`value length must be at most ${str.max_len} characters`);
    if (str.min_bytes !== undefined && bytes < Number(str.min_bytes)) throw fail(`value length must be at least ${str.min_bytes} bytes`);
    if (str.max_bytes !== undefined && bytes > Number(str.max_bytes)) throw fail(`value length must be at most ${str.max_bytes} bytes`);
    if (str.prefix !== undefined && !v.startsWith(String(str.prefix))) throw fail(`value does not have prefix ${JSON.stringify(str.prefix)}`);
    if (str.well_known_regex === "HTTP_HEADER_NAME" && str.strict !== false && !headerName.test(v)) throw fail("value does not match regex pattern of an HTTP header name");
    if (str.well_known_regex === "HTTP_HEADER_VALUE" && str.strict !== false && !headerValue.test(v)) throw fail("value does not match regex pattern of an HTTP header value");
  }
  for (const kind of ["uint32", "int32", "uint64", "int64", "double", "float", "fixed32", "fixed64", "sint32", "sint64"]) {
    const r = sub(rules, `${kind}.`);
    if (Object.keys(r).length && (typeof v === "number" || typeof v === "string")) checkNumber(r, Number(v), fail);
  }
  const d = sub(rules, "duration.");
  if (Object.keys(d).length) checkDuration(d, v, fail);
  if (t instanceof protobuf.Enum && rules["enum.defined_only"] === true && typeof v === "number" && !(v in t.valuesById)) {
    throw fail("value must be one of the defined enum values");
  }
}

/** Validates canonical JSON of `type` against its protoc-gen-validate rules. */
export function validateRules(type: protobuf.Type, msg: JsonObject, path: string): void {
  for (const oneof of type.oneofsArray) {
    if (oneof.options?.["(validate.required)"] === true && !oneof.fieldsArray.some((f) => msg[f.name] !== undefined)) {
      throw new ConfigError(
        `${path || "<root>"}: one of ${oneof.fieldsArray.map((f) => f.name).join(", ")} must be set (validation rule of ${fullName(type)}.${oneof.name})`,
        path,
      );
    }
  }
  for (const field of type.fieldsArray) {
    field.resolve();
    const fpath = joinPath(path, field.name);
    const rules = rulesOf(field.options as Options | undefined);
    const v = msg[field.name];
    const failHere = (p: string) => (reason: string) => fail(p, type, field, reason);
    if (v === undefined) {
      // An unset oneof member is not checked (PGV applies its rules only to the member chosen).
      if (field.partOf) continue;
      if (rules["message.required"] === true || rules["any.required"] === true || rules["duration.required"] === true) {
        throw failHere(fpath)("value is required");
      }
      if (rules["repeated.min_items"] !== undefined && Number(rules["repeated.min_items"]) > 0) {
        throw failHere(fpath)(`value must contain at least ${rules["repeated.min_items"]} item(s)`);
      }
      if (rules["map.min_pairs"] !== undefined && Number(rules["map.min_pairs"]) > 0) {
        throw failHere(fpath)(`value must contain at least ${rules["map.min_pairs"]} pair(s)`);
      }
      if (field.type === "string" && Object.keys(sub(rules, "string.")).length) checkValue(field, rules, "", failHere(fpath));
      continue;
    }
    if (field instanceof protobuf.MapField) {
      const n = Object.keys(v as JsonObject).length;
      if (rules["map.min_pairs"] !== undefined && n < Number(rules["map.min_pairs"])) {
        throw failHere(fpath)(`value must contain at least ${rules["map.min_pairs"]} pair(s)`);
      }
      for (const [k, item] of Object.entries(v as JsonObject)) validateNested(field, item, joinPath(fpath, k));
      continue;
    }
    if (field.repeated) {
      const items = v as unknown[];
      if (rules["repeated.min_items"] !== undefined && items.length < Number(rules["repeated.min_items"])) {
        throw failHere(fpath)(`value must contain at least ${rules["repeated.min_items"]} item(s)`);
      }
      if (rules["repeated.max_items"] !== undefined && items.length > Number(rules["repeated.max_items"])) {
        throw failHere(fpath)(`value must contain no more than ${rules["repeated.max_items"]} item(s)`);
      }
      const itemRules = sub(rules, "repeated.items.");
      items.forEach((item, i) => {
        const ipath = joinPath(fpath, i);
        checkValue(field, itemRules, item, failHere(ipath));
        validateNested(field, item, ipath);
      });
      continue;
    }
    // Wrapped scalars (UInt32Value, ...) are plain JSON scalars here, so scalar rules apply to them.
    checkValue(field, rules, v, failHere(fpath));
    validateNested(field, v, fpath);
  }
}

function validateNested(field: protobuf.Field, v: unknown, path: string): void {
  const t = field.resolvedType;
  if (!(t instanceof protobuf.Type) || v === null || typeof v !== "object") return;
  if (fullName(t) === "google.protobuf.Any") {
    const inner = anyType(v as JsonObject);
    if (inner && !isOpaque(inner)) validateRules(inner, v as JsonObject, path);
    return;
  }
  if (!isOpaque(t)) validateRules(t, v as JsonObject, path);
}
