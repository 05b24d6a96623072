// `--config-yaml` is merged over `-c` the way Envoy does it: bootstrap.MergeFrom(override), i.e.
// protobuf merge semantics (Envoy server/options_impl + MessageUtil::loadFromYaml, then
// Protobuf::Message::MergeFrom): singular messages merge recursively, repeated fields append, map
// entries replace by key, proto3 scalars overwrite only when not the default value, and setting
// one member of a oneof clears the others.
import protobuf from "protobufjs";
import { wrapperTypes } from "../envoy/protos.js";
import { fullName, type JsonObject } from "./proto-json.js";

const replacedWholeTypes = new Set([
  "google.protobuf.Any",
  "google.protobuf.Duration",
  "google.protobuf.Timestamp",
  "google.protobuf.Value",
  "google.protobuf.ListValue",
]);

function isDefaultScalar(v: unknown): boolean {
  return v === 0 || v === "0" || v === "" || v === false;
}

/** Merges canonical JSON `over` into a copy of canonical JSON `base`, both of `type`. */
export function mergeMessage(type: protobuf.Type, base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const field = type.fields[key];
    if (!field) continue;
    field.resolve();
    if (field.partOf) {
      for (const sibling of field.partOf.fieldsArray) if (sibling.name !== key) delete out[sibling.name];
    }
    out[key] = mergeField(field, out[key], value);
  }
  return out;
}

function mergeField(field: protobuf.Field, base: unknown, over: unknown): unknown {
  const t = field.resolvedType;
  if (field instanceof protobuf.MapField) return { ...((base as JsonObject | undefined) ?? {}), ...(over as JsonObject) };
  if (field.repeated) return [...((base as unknown[] | undefined) ?? []), ...(over as unknown[])];
  if (base === undefined) return over;
  if (t instanceof protobuf.Type) {
    const name = fullName(t);
    if (name === "google.protobuf.Struct") return { ...(base as JsonObject), ...(over as JsonObject) };
    // A wrapper is a message holding one proto3 scalar: a default value does not overwrite.
    if (wrapperTypes.has(name)) return isDefaultScalar(over) ? base : over;
    if (replacedWholeTypes.has(name)) return over;
    return mergeMessage(t, base as JsonObject, over as JsonObject);
  }
  // oneof members have presence, so setting one always overwrites.
  if (field.partOf) return over;
  if (t instanceof protobuf.Enum) return t.values[over as string] === 0 || over === 0 ? base : over;
  return isDefaultScalar(over) ? base : over;
}
