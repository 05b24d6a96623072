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
  out.writeUInt32LE(pairs.length, 0);
  let pos = 4;
  for (const [k, v] of pairs) {
    out.writeUInt32LE(k.length, pos);
    out.writeUInt32LE(v.length, pos + 4);
    pos += 8;
  }
  for (const [k, v] of pairs) {
    pos += out.write(k, pos, "latin1");
    out[pos++] = 0;
    pos += out.write(v, pos, "latin1");
    out[pos++] = 0;
  }
  return out;
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
