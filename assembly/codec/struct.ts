// google.protobuf.Struct / Value / ListValue in protobuf wire format, mapped onto JsonValue
// (Struct = object, ListValue = array, Value = any JSON value; numbers are doubles). Istio's peer
// metadata (x-envoy-peer-metadata, the downstream_peer/upstream_peer filter state) and the metadata
// of xds.node are Structs (docs/architecture.md "Peer metadata"; filters.md §1.1).
// Encoding is deterministic: Struct keys are written in sorted order. Decoding rejects wrong wire
// types and truncated input; the reason is available from lastStructError(). Pure code.
import { JsonType, JsonValue } from "./json";
import { ProtoReader, ProtoWriter, WireType } from "./protobuf";

/** Struct nesting limit, against stack exhaustion on hostile input. */
export const STRUCT_MAX_DEPTH: i32 = 100;

let structError = "";

/** Why the last decode returned null ("" after a successful decode). */
export function lastStructError(): string {
  return structError;
}

function fail(message: string): JsonValue | null {
  if (structError.length == 0) structError = message;
  return null;
}

function expectWire(r: ProtoReader, wire: WireType, what: string): bool {
  if (r.wireType == wire) return true;
  fail(what + " has wire type " + (<i32>r.wireType).toString() + ", expected " + (<i32>wire).toString());
  return false;
}

/** Decodes a serialized google.protobuf.Struct into an object; null if malformed. */
export function decodeStruct(bytes: ArrayBuffer): JsonValue | null {
  structError = "";
  return readStruct(new ProtoReader(bytes), 0);
}

/** Decodes a serialized google.protobuf.Value; null if malformed. */
export function decodeValue(bytes: ArrayBuffer): JsonValue | null {
  structError = "";
  return readValue(new ProtoReader(bytes), 0);
}

/** Decodes a serialized google.protobuf.ListValue into an array; null if malformed. */
export function decodeListValue(bytes: ArrayBuffer): JsonValue | null {
  structError = "";
  return readList(new ProtoReader(bytes), 0);
}

/** Reads a Struct from an already positioned reader (e.g. a sub-message of another message). */
export function readStruct(r: ProtoReader, depth: i32): JsonValue | null {
  if (depth > STRUCT_MAX_DEPTH) return fail("Struct nested deeper than " + STRUCT_MAX_DEPTH.toString() + " levels");
  const obj = JsonValue.newObject();
  while (r.next()) {
    if (r.field != 1) {
      r.skip();
      continue;
    }
    if (!expectWire(r, WireType.LengthDelimited, "Struct.fields")) return null;
    const entry = r.readMessage();
    let key = "";
    let value = JsonValue.nullValue();
    while (entry.next()) {
      if (entry.field == 1) {
        if (!expectWire(entry, WireType.LengthDelimited, "Struct.fields key")) return null;
        key = entry.readString();
      } else if (entry.field == 2) {
        if (!expectWire(entry, WireType.LengthDelimited, "Struct.fields value")) return null;
        const v = readValue(entry.readMessage(), depth + 1);
        if (v === null) return null;
        value = v;
      } else {
        entry.skip();
      }
    }
    if (!entry.ok) return fail("Struct entry: " + entry.error);
    obj.set(key, value);
  }
  if (!r.ok) return fail("Struct: " + r.error);
  return obj;
}

function readList(r: ProtoReader, depth: i32): JsonValue | null {
  if (depth > STRUCT_MAX_DEPTH) return fail("ListValue nested deeper than " + STRUCT_MAX_DEPTH.toString() + " levels");
  const list = JsonValue.newArray();
  while (r.next()) {
    if (r.field != 1) {
      r.skip();
      continue;
    }
    if (!expectWire(r, WireType.LengthDelimited, "ListValue.values")) return null;
    const v = readValue(r.readMessage(), depth + 1);
    if (v === null) return null;
    list.push(v);
  }
  if (!r.ok) return fail("ListValue: " + r.error);
  return list;
}

function readValue(r: ProtoReader, depth: i32): JsonValue | null {
  if (depth > STRUCT_MAX_DEPTH) return fail("Value nested deeper than " + STRUCT_MAX_DEPTH.toString() + " levels");
  // A Value with no kind set reads as null. With several kinds present, the last one wins (oneof).
  let value = JsonValue.nullValue();
  while (r.next()) {
    switch (r.field) {
      case 1: // null_value (enum NullValue)
        if (!expectWire(r, WireType.Varint, "Value.null_value")) return null;
        r.readVarint();
        value = JsonValue.nullValue();
        break;
      case 2: // number_value
        if (!expectWire(r, WireType.Fixed64, "Value.number_value")) return null;
        value = JsonValue.fromNumber(r.readDouble());
        break;
      case 3: // string_value
        if (!expectWire(r, WireType.LengthDelimited, "Value.string_value")) return null;
        value = JsonValue.fromString(r.readString());
        break;
      case 4: // bool_value
        if (!expectWire(r, WireType.Varint, "Value.bool_value")) return null;
        value = JsonValue.fromBool(r.readBool());
        break;
      case 5: { // struct_value
        if (!expectWire(r, WireType.LengthDelimited, "Value.struct_value")) return null;
        const s = readStruct(r.readMessage(), depth + 1);
        if (s === null) return null;
        value = s;
        break;
      }
      case 6: { // list_value
        if (!expectWire(r, WireType.LengthDelimited, "Value.list_value")) return null;
        const l = readList(r.readMessage(), depth + 1);
        if (l === null) return null;
        value = l;
        break;
      }
      default:
        r.skip();
    }
  }
  if (!r.ok) return fail("Value: " + r.error);
  return value;
}

/** Encodes an object as a google.protobuf.Struct (keys sorted); null if `obj` is not an object. */
export function encodeStruct(obj: JsonValue): ArrayBuffer | null {
  if (obj.type != JsonType.Object) return null;
  return writeStruct(obj).finish();
}

/** Encodes any JsonValue as a google.protobuf.Value. */
export function encodeValue(value: JsonValue): ArrayBuffer {
  return writeValue(value).finish();
}

/** Encodes an array as a google.protobuf.ListValue; null if `list` is not an array. */
export function encodeListValue(list: JsonValue): ArrayBuffer | null {
  if (list.type != JsonType.Array) return null;
  return writeList(list).finish();
}

export function writeStruct(obj: JsonValue): ProtoWriter {
  const w = new ProtoWriter();
  const keys = obj.keys();
  keys.sort();
  for (let i = 0, n = keys.length; i < n; i++) {
    const key = unchecked(keys[i]);
    const entry = new ProtoWriter();
    entry.string(1, key);
    entry.message(2, writeValue(obj.get(key)!));
    w.message(1, entry);
  }
  return w;
}

function writeList(list: JsonValue): ProtoWriter {
  const w = new ProtoWriter();
  for (let i = 0, n = list.length; i < n; i++) w.message(1, writeValue(list.at(i)!));
  return w;
}

function writeValue(value: JsonValue): ProtoWriter {
  const w = new ProtoWriter();
  switch (value.type) {
    case JsonType.Null: w.uint64(1, 0); break;
    case JsonType.Number: w.double(2, value.asNumber()); break;
    case JsonType.String: w.string(3, value.asString()); break;
    case JsonType.Bool: w.bool(4, value.asBool()); break;
    case JsonType.Object: w.message(5, writeStruct(value)); break;
    case JsonType.Array: w.message(6, writeList(value)); break;
  }
  return w;
}
