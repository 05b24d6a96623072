// Fuzz target module: the SDK's decoders, one export per decoder, driven by test/fuzz. The driver
// writes an input into the buffer from `input(size)`, calls a target with its length, and reads
// what the target left in the output buffer (`outputPtr()`/`outputLength()`), so that Node can
// check the result against an independent implementation. A target must never trap: the
// decoders' contract is "null (or an error) on malformed input, never abort".
//
// Return values: 1 decoded (output = the decoded value, re-encoded as described per target),
// 0 rejected, -1 the SDK contradicted itself (e.g. a re-encoding differs from the input).
import "proxy-wasm-as/assembly/runtime/abort";
import { base64DecodeBytes, base64Encode } from "proxy-wasm-as/assembly/codec/base64";
import { JsonType, JsonValue, parseJsonBytes } from "proxy-wasm-as/assembly/codec/json";
import { decodeFilterMetadata, decodeNode } from "proxy-wasm-as/assembly/codec/node";
import { decodePairs, decodePairsBytes, encodePairsBytes, readPairs, validatePairs } from "proxy-wasm-as/assembly/codec/pairs";
import { decodePath } from "proxy-wasm-as/assembly/codec/path";
import { ProtoReader, WireType } from "proxy-wasm-as/assembly/codec/protobuf";
import { decodeListValue, decodeStruct, decodeValue, encodeStruct } from "proxy-wasm-as/assembly/codec/struct";
import {
  decodeBool,
  decodeDouble,
  decodeInt64,
  decodeList,
  decodeMapBytes,
  decodeString,
  decodeUint64,
} from "proxy-wasm-as/assembly/codec/values";

let inputBuffer = new ArrayBuffer(0);
let output = new ArrayBuffer(0);

/** A buffer of at least `size` bytes for the next input; returns its address. */
export function input(size: i32): usize {
  if (inputBuffer.byteLength < size) inputBuffer = new ArrayBuffer(size);
  return changetype<usize>(inputBuffer);
}

export function outputPtr(): usize {
  return changetype<usize>(output);
}

export function outputLength(): i32 {
  return output.byteLength;
}

/** The input as its own ArrayBuffer, so decoders see exactly `len` bytes. */
function bytes(len: i32): ArrayBuffer {
  return inputBuffer.slice(0, len);
}

function setOutputText(s: string): void {
  // UTF-16 keeps lone surrogates intact, so Node compares exactly what the decoder produced.
  output = String.UTF16.encode(s);
}

function sameBytes(a: ArrayBuffer, b: ArrayBuffer): bool {
  if (a.byteLength != b.byteLength) return false;
  return memory.compare(changetype<usize>(a), changetype<usize>(b), <usize>a.byteLength) == 0;
}

/**
 * Header pairs (proxy-wasm-abi.md §5.1) from a buffer: returns the pair count (≥ 0) or -2 when
 * rejected; re-encoding an accepted buffer must give the same bytes back (the format has no slack),
 * else -1. Output: the re-encoding.
 */
export function pairs(len: i32): i32 {
  const buffer = bytes(len);
  const decoded = decodePairsBytes(buffer);
  output = new ArrayBuffer(0);
  if (decoded === null) return -2;
  if (len == 0) return 0;
  const again = encodePairsBytes(decoded);
  if (again === null || !sameBytes(again, buffer)) return -1;
  output = again;
  // The string decoder must accept exactly what the bytes decoder accepts.
  const strings = decodePairs(buffer);
  if (strings === null || strings.length != decoded.length) return -1;
  return decoded.length;
}

/**
 * The hot path's variant: validate and read pairs in place, as the SDK does with a buffer the
 * host allocated. Returns the count or -2.
 */
export function pairsInPlace(len: i32): i32 {
  const ptr = changetype<usize>(inputBuffer);
  const count = validatePairs(ptr, <usize>len);
  if (count < 0) return -2;
  const headers = readPairs(ptr, count);
  return headers.length;
}

/** JSON text (UTF-8): 1 and the value re-serialized by the SDK, or 0 and the error. */
export function json(len: i32): i32 {
  const result = parseJsonBytes(bytes(len));
  if (result.value === null) {
    setOutputText(result.describe());
    return 0;
  }
  setOutputText(result.value!.stringify());
  return 1;
}

/** Base64 given as bytes: 1 and the decoded bytes, or 0. Decode(encode(x)) must be x, else -1. */
export function base64(len: i32): i32 {
  const buffer = bytes(len);
  const again = base64DecodeBytes(String.UTF8.encode(base64Encode(buffer)));
  if (again === null || !sameBytes(again, buffer)) return -1;
  const decoded = base64DecodeBytes(buffer);
  if (decoded === null) {
    output = new ArrayBuffer(0);
    return 0;
  }
  output = decoded;
  return 1;
}

function structResult(value: JsonValue | null): i32 {
  if (value === null) {
    output = new ArrayBuffer(0);
    return 0;
  }
  setOutputText(value.stringify());
  return 1;
}

/** google.protobuf.Struct: 1 and the value as JSON, or 0. */
export function struct(len: i32): i32 {
  const value = decodeStruct(bytes(len));
  if (value !== null && value.type != JsonType.Object) return -1;
  return structResult(value);
}

/** google.protobuf.Value: 1 and the value as JSON, or 0. */
export function structValue(len: i32): i32 {
  return structResult(decodeValue(bytes(len)));
}

/** google.protobuf.ListValue: 1 and the array as JSON, or 0. */
export function listValue(len: i32): i32 {
  const value = decodeListValue(bytes(len));
  if (value !== null && value.type != JsonType.Array) return -1;
  return structResult(value);
}

/**
 * JSON object text → SDK Struct encoder → SDK Struct decoder: 1 and the encoded Struct bytes when
 * the round trip gives the same JSON, 0 when the text is not a JSON object, -1 on a difference.
 */
export function structRoundTrip(len: i32): i32 {
  const parsed = parseJsonBytes(bytes(len));
  output = new ArrayBuffer(0);
  if (parsed.value === null || parsed.value!.type != JsonType.Object) return 0;
  const encoded = encodeStruct(parsed.value!);
  if (encoded === null) return -1;
  const decoded = decodeStruct(encoded);
  if (decoded === null || decoded.stringify() != sortedCopy(parsed.value!).stringify()) return -1;
  output = encoded;
  return 1;
}

/** The value with object keys sorted (the Struct encoder writes keys sorted, and a decoder keeps wire order). */
function sortedCopy(v: JsonValue): JsonValue {
  if (v.type == JsonType.Array) {
    const out = JsonValue.newArray();
    for (let i = 0; i < v.length; i++) out.push(sortedCopy(v.at(i)!));
    return out;
  }
  if (v.type != JsonType.Object) return v;
  const out = JsonValue.newObject();
  const keys = v.keys();
  keys.sort();
  for (let i = 0; i < keys.length; i++) out.set(unchecked(keys[i]), sortedCopy(v.get(unchecked(keys[i]))!));
  return out;
}

/** envoy.config.core.v3.Node (xds.node): 1 and "id\0cluster\0metadata JSON", or 0. */
export function node(len: i32): i32 {
  const n = decodeNode(bytes(len));
  if (n === null) {
    output = new ArrayBuffer(0);
    return 0;
  }
  setOutputText(n.id + "\0" + n.cluster + "\0" + n.metadata.stringify());
  return 1;
}

/** envoy.config.core.v3.Metadata, filter "istio": 1 and the Struct as JSON, or 0. */
export function filterMetadata(len: i32): i32 {
  return structResult(decodeFilterMetadata(bytes(len), "istio"));
}

/**
 * Property values (proxy-wasm-abi.md §5.3), every typed decoder on the same bytes: a bit per
 * decoder that accepted (string 1, int64 2, uint64 4, double 8, bool 16, map 32, list 64).
 * Fixed-size decoders must accept exactly their size; map and list exactly valid pairs.
 */
export function property(len: i32): i32 {
  const buffer = bytes(len);
  let accepted = 0;
  if (decodeString(buffer).length >= 0) accepted |= 1;
  if (decodeInt64(buffer) !== null) accepted |= 2;
  if (decodeUint64(buffer) !== null) accepted |= 4;
  if (decodeDouble(buffer) !== null) accepted |= 8;
  if (decodeBool(buffer) !== null) accepted |= 16;
  if (decodeMapBytes(buffer) !== null) accepted |= 32;
  if (decodeList(buffer) !== null) accepted |= 64;
  return accepted;
}

/** A property path (§5.2): the number of segments; output = segments re-joined with NUL (UTF-16). */
export function path(len: i32): i32 {
  const segments = decodePath(bytes(len));
  setOutputText(segments.join("\0"));
  return segments.length;
}

/** Raw protobuf: walks every field (recursing into length-delimited ones as messages); 1 ok, 0 malformed. */
export function protobuf(len: i32): i32 {
  return walk(new ProtoReader(bytes(len)), 0) ? 1 : 0;
}

function walk(r: ProtoReader, depth: i32): bool {
  while (r.next()) {
    if (r.wireType == WireType.LengthDelimited && depth < 8) {
      // Whether or not the payload is a message, reading it as one must not trap.
      walk(r.readMessage(), depth + 1);
    } else {
      r.skip();
    }
  }
  return r.ok;
}
