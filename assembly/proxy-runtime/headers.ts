// proxy-runtime's header API: byte pairs (HeaderPair/Headers), the `stream_context` manipulators
// grouped by map (`stream_context.headers.request.add(...)`) and the map free functions. Every call
// acts on the context whose callback is running (or the effective one: inside an httpCall callback
// that is the stream that made the call), as in proxy-runtime.
//
// Differences from proxy-runtime (docs/migrating-from-proxy-runtime.md lists them all):
// - `get` still returns "" for an absent header, so existing comparisons keep working, but
//   `get_or_null` tells absent (null) from present-and-empty (""), and `has` asks for presence.
//   Envoy answers NotFound for an absent header (proxy-wasm-abi.md §2.5); proxy-runtime folded it
//   into "".
// - add/replace/remove/set_headers return the host's status instead of aborting the VM on a
//   failure (report.ts).
import {
  HeaderBytes, MapType, addHeaderMapValue, addHeaderMapValueBytes, getHeaderMapByteSize, getHeaderMapPairsBytes,
  getHeaderMapValue, getHeaderMapValueBytes, removeHeaderMapValue, removeHeaderMapValueBytes, replaceHeaderMapValue,
  replaceHeaderMapValueBytes, setHeaderMapPairsBytes,
} from "../index";
import { HeaderMapTypeValues, WasmResultValues } from "./enums";
import { reportFailure } from "./report";

/** One header as bytes (proxy-runtime's HeaderPair). */
export class HeaderPair {
  key: ArrayBuffer;
  value: ArrayBuffer;

  constructor(header_key_data: ArrayBuffer, header_value_data: ArrayBuffer) {
    this.key = header_key_data;
    this.value = header_value_data;
  }

  /** "key:value" as UTF-8 text (proxy-runtime printed "[object ArrayBuffer]" for both). */
  toString(): string {
    return String.UTF8.decode(this.key) + ":" + String.UTF8.decode(this.value);
  }
}

export type Headers = Array<HeaderPair>;

/** A HeaderPair from two strings (UTF-8). */
export function makeHeaderPair(key: string, value: string): HeaderPair {
  return new HeaderPair(String.UTF8.encode(key), String.UTF8.encode(value));
}

/** The SDK's byte pairs as HeaderPairs (the byte buffers are shared, not copied). */
export function pairsFromBytes(headers: HeaderBytes[]): Headers {
  const out = new Array<HeaderPair>(headers.length);
  for (let i = 0, n = headers.length; i < n; i++) {
    const h = unchecked(headers[i]);
    unchecked((out[i] = new HeaderPair(h.name, h.value)));
  }
  return out;
}

/** HeaderPairs as the SDK's byte pairs (the byte buffers are shared, not copied). */
export function pairsToBytes(headers: Headers): HeaderBytes[] {
  const out = new Array<HeaderBytes>(headers.length);
  for (let i = 0, n = headers.length; i < n; i++) {
    const h = unchecked(headers[i]);
    unchecked((out[i] = new HeaderBytes(h.key, h.value)));
  }
  return out;
}

const MAP_NAMES: string[] = [
  "request headers", "request trailers", "response headers", "response trailers", "gRPC initial metadata",
  "gRPC trailing metadata", "HTTP call response headers", "HTTP call response trailers",
];

function mapName(typ: HeaderMapTypeValues): string {
  return <u32>typ < <u32>MAP_NAMES.length ? MAP_NAMES[typ] : "map " + typ.toString();
}

/** Reports a failed edit of `key` in map `typ`. */
function reportEdit(what: string, typ: HeaderMapTypeValues, key: string, result: i32): WasmResultValues {
  if (result == WasmResultValues.Ok) return WasmResultValues.Ok;
  return reportFailure(what, result, " \"" + key + "\" in " + mapName(typ));
}

/** reportEdit for a key given as bytes: decoded only if the edit failed. */
function reportEditBytes(what: string, typ: HeaderMapTypeValues, key: ArrayBuffer, result: i32): WasmResultValues {
  return result == WasmResultValues.Ok ? WasmResultValues.Ok : reportEdit(what, typ, String.UTF8.decode(key), result);
}

// ---- free functions (proxy-runtime's names and argument orders) ----

export function add_header_map_value(typ: HeaderMapTypeValues, key: ArrayBuffer, value: ArrayBuffer): WasmResultValues {
  return reportEditBytes("add", typ, key, addHeaderMapValueBytes(<MapType>typ, key, value));
}

export function add_header_map_value_string(typ: HeaderMapTypeValues, key: string, value: string): WasmResultValues {
  return reportEdit("add", typ, key, addHeaderMapValue(<MapType>typ, key, value));
}

/** The first value of `key`; empty if absent (see get_header_map_value_or_null). */
export function get_header_map_value(typ: HeaderMapTypeValues, key: ArrayBuffer): ArrayBuffer {
  const value = getHeaderMapValueBytes(<MapType>typ, key);
  return value === null ? new ArrayBuffer(0) : value;
}

/** The first value of `key`, or null if absent (or the map is not available in this callback). */
export function get_header_map_value_or_null(typ: HeaderMapTypeValues, key: ArrayBuffer): ArrayBuffer | null {
  return getHeaderMapValueBytes(<MapType>typ, key);
}

export function replace_header_map_value(typ: HeaderMapTypeValues, key: ArrayBuffer, value: ArrayBuffer): WasmResultValues {
  return reportEditBytes("replace", typ, key, replaceHeaderMapValueBytes(<MapType>typ, key, value));
}

export function replace_header_map_value_string(typ: HeaderMapTypeValues, key: string, value: string): WasmResultValues {
  return reportEdit("replace", typ, key, replaceHeaderMapValue(<MapType>typ, key, value));
}

export function remove_header_map_value(typ: HeaderMapTypeValues, key: ArrayBuffer): WasmResultValues {
  return reportEditBytes("remove", typ, key, removeHeaderMapValueBytes(<MapType>typ, key));
}

export function remove_header_map_value_string(typ: HeaderMapTypeValues, key: string): WasmResultValues {
  return reportEdit("remove", typ, key, removeHeaderMapValue(<MapType>typ, key));
}

/**
 * Envoy's HeaderMap::byteSize() — the sum of name and value lengths, not the number of headers
 * (proxy-wasm-abi.md §2.5). 0 if the map is not available.
 */
export function get_header_map_size(typ: HeaderMapTypeValues): usize {
  return getHeaderMapByteSize(<MapType>typ);
}

// ---- stream_context ----

/** The operations on one map: proxy-runtime's HeaderStreamManipulator. */
export class HeaderStreamManipulator {
  typ: HeaderMapTypeValues;

  constructor(typ: HeaderMapTypeValues) {
    this.typ = typ;
  }

  /** Appends a value (a repeated header if `key` exists). */
  add(key: string, value: string): WasmResultValues {
    return add_header_map_value_string(this.typ, key, value);
  }

  /** Sets `key` to `value`, replacing every existing value. */
  replace(key: string, value: string): WasmResultValues {
    return replace_header_map_value_string(this.typ, key, value);
  }

  /** The first value of `key`, or "" if absent — as in proxy-runtime; see get_or_null. */
  get(key: string): string {
    const value = getHeaderMapValue(<MapType>this.typ, key);
    return value === null ? "" : value;
  }

  /** The first value of `key`; null if absent, "" if present and empty. */
  get_or_null(key: string): string | null {
    return getHeaderMapValue(<MapType>this.typ, key);
  }

  /** True if `key` is present (even with an empty value). */
  has(key: string): bool {
    return getHeaderMapValue(<MapType>this.typ, key) !== null;
  }

  /** Removes every value of `key` (Ok if it was absent). */
  remove(key: string): WasmResultValues {
    return remove_header_map_value_string(this.typ, key);
  }

  /** Every entry in order; empty if the map is empty or not available in this callback. */
  get_headers(): Headers {
    return pairsFromBytes(getHeaderMapPairsBytes(<MapType>this.typ));
  }

  /** Replaces the whole map. */
  set_headers(headers: Headers): WasmResultValues {
    const result = setHeaderMapPairsBytes(<MapType>this.typ, pairsToBytes(headers));
    return result == WasmResultValues.Ok ? result : reportFailure("set_headers", result, " on " + mapName(this.typ));
  }
}

/** The request, response and HTTP-call-response maps of one kind (headers or trailers). */
export class HeaderMapManipulator {
  request: HeaderStreamManipulator;
  response: HeaderStreamManipulator;
  /** Read-only, and only inside an httpCall callback. */
  http_callback: HeaderStreamManipulator;

  constructor(request: HeaderStreamManipulator, response: HeaderStreamManipulator, http_callback: HeaderStreamManipulator) {
    this.request = request;
    this.response = response;
    this.http_callback = http_callback;
  }
}

export class StreamContext {
  headers: HeaderMapManipulator;
  trailers: HeaderMapManipulator;

  constructor(headers: HeaderMapManipulator, trailers: HeaderMapManipulator) {
    this.headers = headers;
    this.trailers = trailers;
  }
}

/** The maps of the current stream: `stream_context.headers.request.get(":path")`. */
export const stream_context = new StreamContext(
  new HeaderMapManipulator(
    new HeaderStreamManipulator(HeaderMapTypeValues.RequestHeaders),
    new HeaderStreamManipulator(HeaderMapTypeValues.ResponseHeaders),
    new HeaderStreamManipulator(HeaderMapTypeValues.HttpCallResponseHeaders),
  ),
  new HeaderMapManipulator(
    new HeaderStreamManipulator(HeaderMapTypeValues.RequestTrailers),
    new HeaderStreamManipulator(HeaderMapTypeValues.ResponseTrailers),
    new HeaderStreamManipulator(HeaderMapTypeValues.HttpCallResponseTrailers),
  ),
);
