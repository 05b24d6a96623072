// Header, trailer and metadata maps (proxy-wasm-abi.md §2.5) as free functions by MapType;
// HttpContext wraps them per map. Envoy lower-cases keys, returns only the first value of a
// repeated header from get, and accepts duplicates from add. `getHeaderMapValue` is null when the
// header is absent and "" when it is present and empty.
import {
  proxy_add_header_map_value, proxy_get_header_map_pairs, proxy_get_header_map_size, proxy_get_header_map_value,
  proxy_remove_header_map_value, proxy_replace_header_map_value, proxy_set_header_map_pairs,
} from "../abi/imports";
import { MapType, WasmResult } from "../abi/enums";
import {
  Header, HeaderBytes, findPairValuesBytes, pairsBytesSize, pairsMaxSize, readPairs, readPairsBytes, validatePairs, writePairs,
  writePairsBytes,
} from "../codec/pairs";
import {
  OUT_PTR, OUT_SIZE, OUT_VALUE, clearOut, encodeArg, encodedSize, maxUtf8, releaseOut, reserveScratch, takeBytes,
  stringUnits, takeString, utf8Arg,
} from "../runtime/memory";
import { setLastResult } from "../runtime/state";

/** Value of `name` (first one if repeated), null if absent or the map is not available now. */
export function getHeaderMapValue(map: MapType, name: string): string | null {
  const key = encodeArg(name);
  clearOut();
  if (setLastResult(proxy_get_header_map_value(map, key, encodedSize, OUT_PTR, OUT_SIZE)) != WasmResult.Ok) return null;
  return takeString();
}

/** Bytes variant of getHeaderMapValue. */
export function getHeaderMapValueBytes(map: MapType, name: ArrayBuffer): ArrayBuffer | null {
  clearOut();
  const result = proxy_get_header_map_value(map, changetype<usize>(name), name.byteLength, OUT_PTR, OUT_SIZE);
  if (setLastResult(result) != WasmResult.Ok) return null;
  return takeBytes();
}

/**
 * Calls proxy_get_header_map_pairs: the entry count of the host's block (left in the out slots),
 * or -1 if the call failed or the block is malformed (SerializationFailure; the block is freed).
 */
function fetchPairs(map: MapType): i32 {
  clearOut();
  if (setLastResult(proxy_get_header_map_pairs(map, OUT_PTR, OUT_SIZE)) != WasmResult.Ok) return -1;
  const count = validatePairs(load<usize>(OUT_PTR), load<u32>(OUT_SIZE));
  if (count < 0) {
    releaseOut();
    setLastResult(WasmResult.SerializationFailure);
  }
  return count;
}

/** All entries in order; empty if the map is empty or unavailable (see lastWasmResult). */
export function getHeaderMapPairs(map: MapType): Header[] {
  const count = fetchPairs(map);
  if (count < 0) return [];
  const out = readPairs(load<usize>(OUT_PTR), count);
  releaseOut();
  return out;
}

/** Bytes variant of getHeaderMapPairs. */
export function getHeaderMapPairsBytes(map: MapType): HeaderBytes[] {
  const count = fetchPairs(map);
  if (count < 0) return [];
  const out = readPairsBytes(load<usize>(OUT_PTR), count);
  releaseOut();
  return out;
}

/**
 * Several lookups in one host call: for each of `names`, the value getHeaderMapValueBytes would
 * return (the first one if repeated, null if absent), written to `values` (one slot per name; pass
 * the same array on every request). One proxy_get_header_map_pairs instead of one
 * proxy_get_header_map_value per name, for a filter that checks several headers which are usually
 * absent. Returns how many were found, or -1 if the map could not be read (all null then).
 */
export function getHeaderMapValuesBytes(map: MapType, names: ArrayBuffer[], values: Array<ArrayBuffer | null>): i32 {
  const count = fetchPairs(map);
  const found = findPairValuesBytes(load<usize>(OUT_PTR), count < 0 ? 0 : count, names, values);
  if (count < 0) return -1;
  releaseOut();
  return found;
}

/**
 * Replaces the whole map. Refused with BadArgument, without calling the host, if the encoding
 * exceeds the host's limits: Envoy would silently read it as an empty map and wipe the headers.
 */
export function setHeaderMapPairs(map: MapType, headers: Header[]): WasmResult {
  const base = reserveScratch(pairsMaxSize(headers));
  const size = writePairs(headers, base);
  if (size == 0) return WasmResult.BadArgument;
  return proxy_set_header_map_pairs(map, base, size);
}

/** Bytes variant of setHeaderMapPairs. */
export function setHeaderMapPairsBytes(map: MapType, headers: HeaderBytes[]): WasmResult {
  const base = reserveScratch(pairsBytesSize(headers));
  const size = writePairsBytes(headers, base);
  if (size == 0) return WasmResult.BadArgument;
  return proxy_set_header_map_pairs(map, base, size);
}

/**
 * Encodes name and value (see utf8Arg), then calls add (replace = false) or replace. Takes the
 * strings' addresses: nothing here allocates managed memory, so they cannot be collected meanwhile,
 * and hot callers pass no managed value (which the incremental runtime would spill).
 */
function putNameValue(map: MapType, name: usize, value: usize, replace: bool): WasmResult {
  const base = reserveScratch((stringUnits(name) + stringUnits(value)) * 3);
  const namePtr = utf8Arg(name, base);
  const nameSize = encodedSize;
  const valuePtr = utf8Arg(value, base + nameSize);
  const valueSize = encodedSize;
  return replace
    ? proxy_replace_header_map_value(map, namePtr, nameSize, valuePtr, valueSize)
    : proxy_add_header_map_value(map, namePtr, nameSize, valuePtr, valueSize);
}

/** Appends an entry (a repeated header if the name exists). */
// @ts-ignore: decorator
@inline export function addHeaderMapValue(map: MapType, name: string, value: string): WasmResult {
  return putNameValue(map, changetype<usize>(name), changetype<usize>(value), false);
}

/** Sets `name` to `value`, replacing existing values (Envoy `setCopy`). */
// @ts-ignore: decorator
@inline export function replaceHeaderMapValue(map: MapType, name: string, value: string): WasmResult {
  return putNameValue(map, changetype<usize>(name), changetype<usize>(value), true);
}

export function addHeaderMapValueBytes(map: MapType, name: ArrayBuffer, value: ArrayBuffer): WasmResult {
  return proxy_add_header_map_value(map, changetype<usize>(name), name.byteLength, changetype<usize>(value), value.byteLength);
}

export function replaceHeaderMapValueBytes(map: MapType, name: ArrayBuffer, value: ArrayBuffer): WasmResult {
  return proxy_replace_header_map_value(map, changetype<usize>(name), name.byteLength, changetype<usize>(value), value.byteLength);
}

/** Removes every value of `name`; Ok even if it was absent. */
export function removeHeaderMapValue(map: MapType, name: string): WasmResult {
  const key = encodeArg(name);
  return proxy_remove_header_map_value(map, key, encodedSize);
}

export function removeHeaderMapValueBytes(map: MapType, name: ArrayBuffer): WasmResult {
  return proxy_remove_header_map_value(map, changetype<usize>(name), name.byteLength);
}

/**
 * Envoy's `HeaderMap::byteSize()`: the sum of key and value lengths — not the number of entries
 * (that is the `numHeaders` argument of the callbacks). 0 if unavailable (see lastWasmResult).
 */
export function getHeaderMapByteSize(map: MapType): u32 {
  store<u32>(OUT_VALUE, 0);
  if (setLastResult(proxy_get_header_map_size(map, OUT_VALUE)) != WasmResult.Ok) return 0;
  return load<u32>(OUT_VALUE);
}
