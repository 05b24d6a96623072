// Properties (proxy-wasm-abi.md §2.3, §5.2, §5.3, §7.2): Envoy's attribute tree read by path
// segments, plus filter state written with setProperty. Envoy stores `setProperty(["x"], v)` as
// filter state "wasm.x"; reading an unknown top-level name ["x"] falls back to it.
import { proxy_get_property, proxy_set_property } from "../abi/imports";
import { WasmResult } from "../abi/enums";
import { Header } from "../codec/pairs";
import { pathMaxSize, writePath } from "../codec/path";
import { JsonValue } from "../codec/json";
import { decodeStruct } from "../codec/struct";
import { BoolValue, DoubleValue, Int64Value, Uint64Value, decodeMap } from "../codec/values";
import { OUT_PTR, OUT_SIZE, clearOut, maxUtf8, putUtf8, releaseOut, reserveScratch, takeBytes, takeString } from "../runtime/memory";
import { setLastResult } from "../runtime/state";

/** Calls proxy_get_property; true if the host returned a value (left in the out slots). */
function fetchProperty(path: string[]): bool {
  const base = reserveScratch(pathMaxSize(path));
  const size = writePath(path, base);
  clearOut();
  return setLastResult(proxy_get_property(base, size, OUT_PTR, OUT_SIZE)) == WasmResult.Ok;
}

/** Raw serialized value; null if absent (NotFound) or unreadable (see lastWasmResult). */
export function getProperty(path: string[]): ArrayBuffer | null {
  return fetchProperty(path) ? takeBytes() : null;
}

/** A string or bytes attribute as UTF-8 text; null if absent. */
export function getPropertyString(path: string[]): string | null {
  return fetchProperty(path) ? takeString() : null;
}

/** The value read by fetchFixed8. */
let fixed8: u64 = 0;

/** Reads an 8-byte attribute into `fixed8`; false (host block freed) if absent or not 8 bytes. */
function fetchFixed8(path: string[]): bool {
  if (!fetchProperty(path)) return false;
  const ptr = load<usize>(OUT_PTR);
  if (load<u32>(OUT_SIZE) != 8) {
    releaseOut();
    setLastResult(WasmResult.SerializationFailure);
    return false;
  }
  fixed8 = load<u64>(ptr);
  heap.free(ptr);
  return true;
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
  if (!fetchProperty(path)) return null;
  const ptr = load<usize>(OUT_PTR);
  const size = load<u32>(OUT_SIZE);
  const b = size == 1 ? load<u8>(ptr) : 2;
  releaseOut();
  if (b > 1) {
    setLastResult(WasmResult.SerializationFailure);
    return null;
  }
  return new BoolValue(b == 1);
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
