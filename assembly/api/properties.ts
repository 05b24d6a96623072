// Properties (proxy-wasm-abi.md §2.3, §5.2, §5.3, §7.2): Envoy's attribute tree read by path
// segments, plus filter state written with setProperty. Envoy stores `setProperty(["x"], v)` as
// filter state "wasm.x"; reading an unknown top-level name ["x"] falls back to it.
import { proxy_set_property } from "../abi/imports";
import { WasmResult } from "../abi/enums";
import { Header } from "../codec/pairs";
import { pathMaxSize, writePath } from "../codec/path";
import { JsonValue } from "../codec/json";
import { decodeStruct } from "../codec/struct";
import { BoolValue, DoubleValue, Int64Value, Uint64Value, decodeMap } from "../codec/values";
import { OUT_PTR, OUT_SIZE, maxUtf8, putUtf8, releaseOut, reserveScratch, takeBytes, takeString } from "../runtime/memory";
import { fetchProperty, fixed8, takeFixed8 } from "../runtime/property-fetch";
import { setLastResult } from "../runtime/state";

/** Raw serialized value; null if absent (NotFound) or unreadable (see lastWasmResult). */
export function getProperty(path: string[]): ArrayBuffer | null {
  return fetchProperty(path) ? takeBytes() : null;
}

/** A string or bytes attribute as UTF-8 text; null if absent. */
export function getPropertyString(path: string[]): string | null {
  return fetchProperty(path) ? takeString() : null;
}

/** Reads an 8-byte attribute into `fixed8`; false (host block freed) if absent or not 8 bytes. */
function fetchFixed8(path: string[]): bool {
  return fetchProperty(path) && takeFixed8();
}

/** An int attribute (also durations and timestamps, in ns); null if absent or not 8 bytes. */
export function getPropertyInt64(path: string[]): Int64Value | null {
  return fetchFixed8(path) ? new Int64Value(<i64>fixed8) : null;
}

/** A uint attribute (e.g. connection.id); null if absent or not 8 bytes. */
export function getPropertyUint64(path: string[]): Uint64Value | null {
  return fetchFixed8(path) ? new Uint64Value(fixed8) : null;
}

/** A double attribute; null if absent or not 8 bytes. */
export function getPropertyDouble(path: string[]): DoubleValue | null {
  return fetchFixed8(path) ? new DoubleValue(reinterpret<f64>(fixed8)) : null;
}

/** A bool attribute (one byte, 0 or 1); null if absent or malformed. */
export function getPropertyBool(path: string[]): BoolValue | null {
  const v = readBool(path);
  return v > 1 ? null : new BoolValue(v == 1);
}

/** A bool attribute as 0 or 1; 2 if absent or malformed (SerializationFailure: not one byte 0 or 1). */
function readBool(path: string[]): u32 {
  if (!fetchProperty(path)) return 2;
  const ptr = load<usize>(OUT_PTR);
  const b: u32 = load<u32>(OUT_SIZE) == 1 ? load<u8>(ptr) : 2;
  releaseOut();
  if (b > 1) setLastResult(WasmResult.SerializationFailure);
  return b;
}

// The *Or getters read the same attributes without allocating a value object: for attributes a
// filter reads on every request. `fallback` comes back when the attribute is absent or malformed;
// lastWasmResult() tells which (Ok, NotFound, SerializationFailure).

/** getPropertyInt64 without allocation: the value, or `fallback`. */
export function getPropertyInt64Or(path: string[], fallback: i64): i64 {
  return fetchFixed8(path) ? <i64>fixed8 : fallback;
}

/** getPropertyUint64 without allocation: the value, or `fallback`. */
export function getPropertyUint64Or(path: string[], fallback: u64): u64 {
  return fetchFixed8(path) ? fixed8 : fallback;
}

/** getPropertyDouble without allocation: the value, or `fallback`. */
export function getPropertyDoubleOr(path: string[], fallback: f64): f64 {
  return fetchFixed8(path) ? reinterpret<f64>(fixed8) : fallback;
}

/** getPropertyBool without allocation: the value, or `fallback`. */
export function getPropertyBoolOr(path: string[], fallback: bool): bool {
  const v = readBool(path);
  return v > 1 ? fallback : v == 1;
}

/** A map attribute (e.g. request.headers, comma-joined values); null if absent or malformed. */
export function getPropertyMap(path: string[]): Header[] | null {
  const bytes = getProperty(path);
  return bytes === null ? null : decodeMap(bytes);
}

/** A google.protobuf.Struct attribute or filter state (e.g. downstream_peer); null if absent or malformed. */
export function getPropertyStruct(path: string[]): JsonValue | null {
  const bytes = getProperty(path);
  return bytes === null ? null : decodeStruct(bytes);
}

/**
 * Writes filter state "wasm.<path>" readable by later filters and access logs. NotFound where there
 * is no stream (root context); BadArgument if the state is read-only.
 */
export function setProperty(path: string[], value: ArrayBuffer): WasmResult {
  const base = reserveScratch(pathMaxSize(path));
  const size = writePath(path, base);
  return proxy_set_property(base, size, changetype<usize>(value), value.byteLength);
}

/** setProperty with UTF-8 text. */
export function setPropertyString(path: string[], value: string): WasmResult {
  const room = pathMaxSize(path);
  const base = reserveScratch(room + maxUtf8(value));
  const size = writePath(path, base);
  const valueSize = putUtf8(value, base + room);
  return proxy_set_property(base, size, base + room, valueSize);
}
