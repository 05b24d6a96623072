// The proxy-wasm "pairs" serialization of header maps and CEL maps/lists (proxy-wasm-abi.md §5.1):
// u32 N, N × (u32 key_len, u32 value_len), then N × (key \0 value \0), little-endian.
// Strings are latin1 (one char per byte), the host-wide convention for header bytes.

/** proxy-wasm-cpp-host limits.h: PROXY_WASM_HOST_PAIRS_MAX_BYTES / _MAX_COUNT. */
export const pairsMaxBytes = 1024 * 1024;
export const pairsMaxCount = 1024;

export type Pair = [key: string, value: string];

export function pairsSize(pairs: ReadonlyArray<readonly [string, string]>): number {
  let size = 4;
  for (const [k, v] of pairs) size += 8 + k.length + 1 + v.length + 1;
  return size;
}

export function encodePairs(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  const out = Buffer.allocUnsafe(pairsSize(pairs));
  writePairs(pairs, out, 0);
  return out;
}

/**
 * Writes the encoding of `pairs` into `out` at `at` (pairsSize(pairs) bytes): the one writer of
 * the layout, used for a fresh buffer and straight into a VM's memory alike.
 */
export function writePairs(pairs: ReadonlyArray<readonly [string, string]>, out: Buffer, at: number): void {
  const n = pairs.length;
  putU32(out, n, at);
  // One pass: the size table entry and the strings of each pair.
  let table = at + 4;
  let pos = table + n * 8;
  for (let i = 0; i < n; i++) {
    const pair = pairs[i]!;
    const k = pair[0];
    const v = pair[1];
    putU32(out, k.length, table);
    putU32(out, v.length, table + 4);
    table += 8;
    pos = putLatin1(out, k, pos);
    out[pos++] = 0;
    pos = putLatin1(out, v, pos);
    out[pos++] = 0;
  }
}

/** A little-endian u32 by byte stores (Buffer#writeUInt32LE checks its arguments on every call). */
function putU32(out: Uint8Array, value: number, at: number): void {
  out[at] = value;
  out[at + 1] = value >>> 8;
  out[at + 2] = value >>> 16;
  out[at + 3] = value >>> 24;
}

/** Strings up to this length are copied char by char: cheaper than a native write call. */
export const shortString = 48;

/** Writes a latin1 string at `pos`; returns the position after it. */
export function putLatin1(out: Buffer, s: string, pos: number): number {
  const n = s.length;
  if (n > shortString) return pos + out.write(s, pos, n, "latin1");
  for (let i = 0; i < n; i++) out[pos + i] = s.charCodeAt(i);
  return pos + n;
}

/**
 * Parses pairs exactly as proxy-wasm-cpp-host's PairsUtil::toPairs does: anything malformed (too
 * large, too many pairs, a length running past the end, a missing NUL, trailing bytes) yields an
 * EMPTY list, not an error — so proxy_set_header_map_pairs with a bad buffer wipes the map (§5.1 ⚠).
 */
export function decodePairs(buf: Uint8Array): Pair[] {
  if (buf.length > pairsMaxBytes || buf.length < 4) return [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = view.getUint32(0, true);
  if (n > pairsMaxCount) return [];
  let pos = 4;
  if (pos + n * 8 > buf.length) return [];
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    sizes.push(view.getUint32(pos, true), view.getUint32(pos + 4, true));
    pos += 8;
  }
  const latin1 = (start: number, len: number): string => Buffer.from(buf.buffer, buf.byteOffset + start, len).toString("latin1");
  const pairs: Pair[] = [];
  for (let i = 0; i < n; i++) {
    const klen = sizes[2 * i]!;
    const vlen = sizes[2 * i + 1]!;
    if (pos + klen + 1 > buf.length) return [];
    const key = latin1(pos, klen);
    pos += klen;
    if (buf[pos++] !== 0) return [];
    if (pos + vlen + 1 > buf.length) return [];
    const value = latin1(pos, vlen);
    pos += vlen;
    if (buf[pos++] !== 0) return [];
    pairs.push([key, value]);
  }
  if (pos !== buf.length) return [];
  return pairs;
}
