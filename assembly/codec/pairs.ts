// Header-map pairs encoding (proxy-wasm-abi.md §5.1), used for header/trailer/metadata maps,
// local-reply and callout headers, and map-valued properties:
//
//   u32 N | N × (u32 name_size, u32 value_size) | N × (name bytes, 0x00, value bytes, 0x00)
//
// Little-endian, no padding. The decoder rejects exactly what proxy-wasm-cpp-host's strict parser
// (`PairsUtil::toPairs`) rejects: more than 1 MiB, more than 1024 pairs, a size table or a string
// running past the end, a terminator that is not 0x00, trailing bytes. The host turns such input
// into an empty map without an error (so `proxy_set_header_map_pairs` would wipe the headers), which
// is why the encoder refuses to produce anything the host would reject.
// Pure code: no host imports, so it is unit-tested with as-pect and driven by the fuzzers.
import { putUtf8 } from "./utf8";

/** proxy-wasm-cpp-host limits.h: PROXY_WASM_HOST_PAIRS_MAX_BYTES / _MAX_COUNT. */
export const PAIRS_MAX_BYTES: usize = 1 << 20;
export const PAIRS_MAX_COUNT: u32 = 1024;

/** One header (or trailer, metadata entry, map-property entry) as strings. */
export class Header {
  constructor(public name: string, public value: string) {}
}

/** One header as raw bytes, for values that are not UTF-8 or that are forwarded unread. */
export class HeaderBytes {
  constructor(public name: ArrayBuffer, public value: ArrayBuffer) {}
}

/**
 * Checks a pairs buffer at [ptr, ptr+size) like the host's parser does. Returns the number of
 * pairs, or -1 if the host would reject it. An empty buffer (size 0) is an empty map: that is how
 * the host returns one.
 */
export function validatePairs(ptr: usize, size: usize): i32 {
  if (size == 0) return 0;
  if (size > PAIRS_MAX_BYTES || size < 4) return -1;
  const count = load<u32>(ptr);
  if (count > PAIRS_MAX_COUNT) return -1;
  const end = <u64>size;
  let pos: u64 = 4 + <u64>count * 8;
  if (pos > end) return -1;
  for (let i: u32 = 0; i < count; i++) {
    const nameSize = <u64>load<u32>(ptr + 4 + <usize>i * 8);
    const valueSize = <u64>load<u32>(ptr + 8 + <usize>i * 8);
    pos += nameSize;
    if (pos + 1 > end || load<u8>(ptr + <usize>pos) != 0) return -1;
    pos += 1 + valueSize;
    if (pos + 1 > end || load<u8>(ptr + <usize>pos) != 0) return -1;
    pos += 1;
  }
  return pos == end ? <i32>count : -1;
}

/** Decodes validated pairs at `ptr` into strings (UTF-8). `count` comes from validatePairs. */
export function readPairs(ptr: usize, count: i32): Header[] {
  const out = new Array<Header>(count);
  let data = ptr + 4 + <usize>count * 8;
  for (let i = 0; i < count; i++) {
    const nameSize = <usize>load<u32>(ptr + 4 + <usize>i * 8);
    const valueSize = <usize>load<u32>(ptr + 8 + <usize>i * 8);
    const name = String.UTF8.decodeUnsafe(data, nameSize);
    data += nameSize + 1;
    const value = String.UTF8.decodeUnsafe(data, valueSize);
    data += valueSize + 1;
    unchecked((out[i] = new Header(name, value)));
  }
  return out;
}

/** Decodes validated pairs at `ptr` into byte copies. */
export function readPairsBytes(ptr: usize, count: i32): HeaderBytes[] {
  const out = new Array<HeaderBytes>(count);
  let data = ptr + 4 + <usize>count * 8;
  for (let i = 0; i < count; i++) {
    const nameSize = <usize>load<u32>(ptr + 4 + <usize>i * 8);
    const valueSize = <usize>load<u32>(ptr + 8 + <usize>i * 8);
    const name = copyBytes(data, nameSize);
    data += nameSize + 1;
    const value = copyBytes(data, valueSize);
    data += valueSize + 1;
    unchecked((out[i] = new HeaderBytes(name, value)));
  }
  return out;
}

/**
 * For each of `names`, the first value in the validated pairs at `ptr` (`count` from validatePairs)
 * as a byte copy, or null where absent; `values` takes one slot per name. A name matches a key
 * whose bytes equal the name lower-cased in ASCII, which is how Envoy's lookup reads a map whose
 * keys are lower-case (Http::LowerCaseString). Returns how many names were found. Only found
 * values are copied: looking for headers that are usually absent allocates nothing.
 */
export function findPairValuesBytes(ptr: usize, count: i32, names: ArrayBuffer[], values: Array<ArrayBuffer | null>): i32 {
  const n = names.length;
  if (values.length != n) values.length = n;
  // One bit per wanted name length (mod 64): most pairs of a request match no wanted length and
  // are passed over without comparing names.
  let lengths: u64 = 0;
  for (let j = 0; j < n; j++) {
    unchecked((values[j] = null));
    lengths |= <u64>1 << (<u64>unchecked(names[j]).byteLength & 63);
  }
  let found = 0;
  let data = ptr + 4 + <usize>count * 8;
  for (let i = 0; i < count && found < n; i++) {
    const nameSize = <usize>load<u32>(ptr + 4 + <usize>i * 8);
    const valueSize = <usize>load<u32>(ptr + 8 + <usize>i * 8);
    const valuePtr = data + nameSize + 1;
    if ((lengths & (<u64>1 << (<u64>nameSize & 63))) == 0) {
      data = valuePtr + valueSize + 1;
      continue;
    }
    for (let j = 0; j < n; j++) {
      const name = unchecked(names[j]);
      if (<usize>name.byteLength != nameSize || unchecked(values[j]) !== null) continue;
      if (!keyEqualsLowerAscii(data, changetype<usize>(name), nameSize)) continue;
      unchecked((values[j] = copyBytes(valuePtr, valueSize)));
      found++;
    }
    data = valuePtr + valueSize + 1;
  }
  return found;
}

/** Whether the `size` key bytes at `key` equal the name bytes at `name` with A-Z lower-cased. */
function keyEqualsLowerAscii(key: usize, name: usize, size: usize): bool {
  for (let k: usize = 0; k < size; k++) {
    let c = <u32>load<u8>(name + k);
    if (c - 0x41 < 26) c += 0x20;
    if (c != <u32>load<u8>(key + k)) return false;
  }
  return true;
}

function copyBytes(ptr: usize, size: usize): ArrayBuffer {
  const out = new ArrayBuffer(<i32>size);
  memory.copy(changetype<usize>(out), ptr, size);
  return out;
}

/** Decodes a pairs buffer into strings; null if the host would reject it as malformed. */
export function decodePairs(buffer: ArrayBuffer): Header[] | null {
  const ptr = changetype<usize>(buffer);
  const count = validatePairs(ptr, buffer.byteLength);
  return count < 0 ? null : readPairs(ptr, count);
}

/** Decodes a pairs buffer into bytes; null if the host would reject it as malformed. */
export function decodePairsBytes(buffer: ArrayBuffer): HeaderBytes[] | null {
  const ptr = changetype<usize>(buffer);
  const count = validatePairs(ptr, buffer.byteLength);
  return count < 0 ? null : readPairsBytes(ptr, count);
}

/** Upper bound of the encoded size of `headers` (UTF-8 is at most 3 bytes per UTF-16 unit). */
export function pairsMaxSize(headers: Header[]): usize {
  let size: usize = 4;
  for (let i = 0, n = headers.length; i < n; i++) {
    const h = unchecked(headers[i]);
    size += 10 + (<usize>h.name.length + <usize>h.value.length) * 3;
  }
  return size;
}

/** Exact encoded size of `headers` (bytes variant). */
export function pairsBytesSize(headers: HeaderBytes[]): usize {
  let size: usize = 4;
  for (let i = 0, n = headers.length; i < n; i++) {
    const h = unchecked(headers[i]);
    size += 10 + <usize>h.name.byteLength + <usize>h.value.byteLength;
  }
  return size;
}

/**
 * Writes `headers` at `ptr` (room for pairsMaxSize bytes). Returns the encoded size, or 0 if the
 * result would exceed the host's limits (more than 1024 pairs or 1 MiB).
 */
export function writePairs(headers: Header[], ptr: usize): usize {
  const count = headers.length;
  if (<u32>count > PAIRS_MAX_COUNT) return 0;
  store<u32>(ptr, count);
  let data = ptr + 4 + <usize>count * 8;
  for (let i = 0; i < count; i++) {
    const h = unchecked(headers[i]);
    const nameSize = putUtf8(h.name, data);
    data += nameSize;
    store<u8>(data++, 0);
    const valueSize = putUtf8(h.value, data);
    data += valueSize;
    store<u8>(data++, 0);
    store<u32>(ptr + 4 + <usize>i * 8, <u32>nameSize);
    store<u32>(ptr + 8 + <usize>i * 8, <u32>valueSize);
  }
  const size = data - ptr;
  return size > PAIRS_MAX_BYTES ? 0 : size;
}

/** Bytes variant of writePairs (room for pairsBytesSize bytes). */
export function writePairsBytes(headers: HeaderBytes[], ptr: usize): usize {
  const count = headers.length;
  if (<u32>count > PAIRS_MAX_COUNT) return 0;
  const size = pairsBytesSize(headers);
  if (size > PAIRS_MAX_BYTES) return 0;
  store<u32>(ptr, count);
  let data = ptr + 4 + <usize>count * 8;
  for (let i = 0; i < count; i++) {
    const h = unchecked(headers[i]);
    const nameSize = <usize>h.name.byteLength;
    const valueSize = <usize>h.value.byteLength;
    store<u32>(ptr + 4 + <usize>i * 8, <u32>nameSize);
    store<u32>(ptr + 8 + <usize>i * 8, <u32>valueSize);
    memory.copy(data, changetype<usize>(h.name), nameSize);
    data += nameSize;
    store<u8>(data++, 0);
    memory.copy(data, changetype<usize>(h.value), valueSize);
    data += valueSize;
    store<u8>(data++, 0);
  }
  return size;
}

/** Encodes `headers`; null if the host would reject the result (over 1024 pairs or 1 MiB). */
export function encodePairs(headers: Header[]): ArrayBuffer | null {
  const room = pairsMaxSize(headers);
  const tmp = heap.alloc(room);
  const size = writePairs(headers, tmp);
  let out: ArrayBuffer | null = null;
  if (size != 0) {
    out = new ArrayBuffer(<i32>size);
    memory.copy(changetype<usize>(out), tmp, size);
  }
  heap.free(tmp);
  return out;
}

/** Bytes variant of encodePairs. */
export function encodePairsBytes(headers: HeaderBytes[]): ArrayBuffer | null {
  const size = pairsBytesSize(headers);
  if (<u32>headers.length > PAIRS_MAX_COUNT || size > PAIRS_MAX_BYTES) return null;
  const out = new ArrayBuffer(<i32>size);
  writePairsBytes(headers, changetype<usize>(out));
  return out;
}

/** First value of `name` in decoded pairs (names compared exactly), or null. */
export function findHeader(headers: Header[], name: string): string | null {
  for (let i = 0, n = headers.length; i < n; i++) {
    const h = unchecked(headers[i]);
    if (h.name == name) return h.value;
  }
  return null;
}
