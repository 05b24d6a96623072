// Typed property values as Envoy serializes them (proxy-wasm-abi.md §5.3, Envoy `serializeValue`):
// string/bytes raw; int64/uint64/double as 8 bytes little-endian; bool as 1 byte; durations and
// timestamps as int64 nanoseconds; protobuf messages as wire bytes; maps as pairs (§5.1) with the
// values serialized recursively; lists as pairs with each item as the key and an empty value.
// A decoder returns null when the bytes do not have the shape of that type (wrong length, bad
// pairs) instead of guessing. Pure code: no host imports.
import { Header, HeaderBytes, decodePairs, decodePairsBytes } from "./pairs";

export class Int64Value {
  constructor(public value: i64) {}
}
export class Uint64Value {
  constructor(public value: u64) {}
}
export class DoubleValue {
  constructor(public value: f64) {}
}
export class BoolValue {
  constructor(public value: bool) {}
}

export function decodeString(bytes: ArrayBuffer): string {
  return String.UTF8.decode(bytes);
}

/** CEL int, also durations and timestamps (nanoseconds). */
export function decodeInt64(bytes: ArrayBuffer): Int64Value | null {
  return bytes.byteLength == 8 ? new Int64Value(load<i64>(changetype<usize>(bytes))) : null;
}

export function decodeUint64(bytes: ArrayBuffer): Uint64Value | null {
  return bytes.byteLength == 8 ? new Uint64Value(load<u64>(changetype<usize>(bytes))) : null;
}

export function decodeDouble(bytes: ArrayBuffer): DoubleValue | null {
  return bytes.byteLength == 8 ? new DoubleValue(load<f64>(changetype<usize>(bytes))) : null;
}

/** One byte, 0 or 1. */
export function decodeBool(bytes: ArrayBuffer): BoolValue | null {
  if (bytes.byteLength != 1) return null;
  const b = load<u8>(changetype<usize>(bytes));
  return b <= 1 ? new BoolValue(b == 1) : null;
}

/** A `google.protobuf.Duration` attribute (e.g. request.duration) in nanoseconds. */
export function decodeDuration(bytes: ArrayBuffer): Int64Value | null {
  return decodeInt64(bytes);
}

/** A `google.protobuf.Timestamp` attribute (e.g. request.time) in nanoseconds since the epoch. */
export function decodeTimestamp(bytes: ArrayBuffer): Int64Value | null {
  return decodeInt64(bytes);
}

/** A map attribute (e.g. request.headers) with string values; null if not a valid pairs buffer. */
export function decodeMap(bytes: ArrayBuffer): Header[] | null {
  return decodePairs(bytes);
}

/** A map attribute whose values are themselves serialized values (ints, messages, ...). */
export function decodeMapBytes(bytes: ArrayBuffer): HeaderBytes[] | null {
  return decodePairsBytes(bytes);
}

/** A list attribute of strings (e.g. connection.uri_san_peer_certificate in some versions). */
export function decodeList(bytes: ArrayBuffer): string[] | null {
  const pairs = decodeMap(bytes);
  if (pairs === null) return null;
  const out = new Array<string>(pairs.length);
  for (let i = 0; i < pairs.length; i++) unchecked((out[i] = unchecked(pairs[i]).name));
  return out;
}

// Encoders, for values written with setProperty and for tests.

function encodeFixed<T>(value: T): ArrayBuffer {
  const out = new ArrayBuffer(sizeof<T>());
  store<T>(changetype<usize>(out), value);
  return out;
}

export function encodeInt64(value: i64): ArrayBuffer {
  return encodeFixed<i64>(value);
}

export function encodeUint64(value: u64): ArrayBuffer {
  return encodeFixed<u64>(value);
}

export function encodeDouble(value: f64): ArrayBuffer {
  return encodeFixed<f64>(value);
}

export function encodeBool(value: bool): ArrayBuffer {
  return encodeFixed<u8>(value ? 1 : 0);
}
