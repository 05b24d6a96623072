// Canonical form of already-validated Envoy JSON: every key is the proto field name (snake_case,
// whatever spelling the user wrote), enums are names, and an Any keeps its "@type" next to the
// canonical fields of the message it carries. The rest of host/config reads only this form.
import protobuf from "protobufjs";
import { fieldForJsonKey, typeFromUrl, wrapperTypes } from "../envoy/protos.js";

export type JsonObject = Record<string, unknown>;

/** Well-known types whose JSON form is kept as written (proto3 JSON mapping). */
const opaqueTypes = new Set([
  "google.protobuf.Struct",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
  "google.protobuf.Duration",
  "google.protobuf.Timestamp",
  ...wrapperTypes,
]);

export const fullName = (t: protobuf.ReflectionObject): string => t.fullName.replace(/^\./, "");

export function isOpaque(type: protobuf.Type): boolean {
  return opaqueTypes.has(fullName(type)) || fullName(type) === "google.protobuf.Any";
}

/** The message type an Any names, or undefined for an unknown URL. */
export function anyType(any: JsonObject): protobuf.Type | undefined {
  return typeof any["@type"] === "string" ? typeFromUrl(any["@type"]) : undefined;
}

/** Converts validated JSON of `type` to canonical form (see the file comment). */
export function canonicalize(type: protobuf.Type, json: unknown): unknown {
  const name = fullName(type);
  if (name === "google.protobuf.Any") return canonicalAny(json as JsonObject);
  if (opaqueTypes.has(name)) return json;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(json as JsonObject)) {
    const field = fieldForJsonKey(type, key);
    if (!field || value === null) continue;
    out[field.name] = canonicalField(field, value);
  }
  return out;
}

function canonicalAny(any: JsonObject): JsonObject {
  const inner = anyType(any);
  if (!inner) return any;
  const { "@type": url, ...rest } = any;
  if (fullName(inner).startsWith("google.protobuf.") && fullName(inner) !== "google.protobuf.Empty") {
    return { "@type": url, value: rest.value };
  }
  return { "@type": url, ...(canonicalize(inner, rest) as JsonObject) };
}

function canonicalField(field: protobuf.Field, value: unknown): unknown {
  field.resolve();
  if (field instanceof protobuf.MapField) {
    const m: JsonObject = {};
    for (const [k, v] of Object.entries(value as JsonObject)) m[k] = canonicalSingle(field, v);
    return m;
  }
  if (field.repeated) return (value as unknown[]).map((v) => canonicalSingle(field, v));
  return canonicalSingle(field, value);
}

function canonicalSingle(field: protobuf.Field, value: unknown): unknown {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) return canonicalize(t, value);
  if (t instanceof protobuf.Enum) return typeof value === "number" ? (t.valuesById[value] ?? value) : value;
  return value;
}
