// Base64 with the standard alphabet (RFC 4648 §4), as used by Istio's x-envoy-peer-metadata
// header. The encoder pads; the decoder accepts input with or without padding (absl's
// Base64Unescape does too), and rejects characters outside the alphabet, whitespace, padding in the
// middle, partial padding, and a length that cannot come from whole bytes. Pure code.

export function base64Encode(bytes: ArrayBuffer): string {
  const src = changetype<usize>(bytes);
  const n = <usize>bytes.byteLength;
  const outLen = ((n + 2) / 3) * 4;
  const tmp = heap.alloc(outLen << 1); // UTF-16 output, one unit per character
  // A literal here rather than a module constant: only modules that encode carry the table.
  const table = changetype<usize>("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
  let o = tmp;
  let i: usize = 0;
  for (; i + 3 <= n; i += 3) {
    const v = (<u32>load<u8>(src + i) << 16) | (<u32>load<u8>(src + i + 1) << 8) | <u32>load<u8>(src + i + 2);
    store<u16>(o, load<u16>(table + ((v >> 18) << 1)));
    store<u16>(o + 2, load<u16>(table + (((v >> 12) & 63) << 1)));
    store<u16>(o + 4, load<u16>(table + (((v >> 6) & 63) << 1)));
    store<u16>(o + 6, load<u16>(table + ((v & 63) << 1)));
    o += 8;
  }
  const rest = n - i;
  if (rest > 0) {
    let v = <u32>load<u8>(src + i) << 16;
    if (rest == 2) v |= <u32>load<u8>(src + i + 1) << 8;
    store<u16>(o, load<u16>(table + ((v >> 18) << 1)));
    store<u16>(o + 2, load<u16>(table + (((v >> 12) & 63) << 1)));
    store<u16>(o + 4, rest == 2 ? load<u16>(table + (((v >> 6) & 63) << 1)) : 0x3d);
    store<u16>(o + 6, 0x3d);
  }
  const s = String.UTF16.decodeUnsafe(tmp, outLen << 1);
  heap.free(tmp);
  return s;
}

function sextet(c: u32): i32 {
  if (c >= 0x41 && c <= 0x5a) return <i32>c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return <i32>c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return <i32>c - 0x30 + 52;
  if (c == 0x2b) return 62;
  if (c == 0x2f) return 63;
  return -1;
}

/**
 * Decodes `count` characters read by `charAt(i)`; null if malformed. Shared by the string and the
 * bytes entry points.
 */
function decodeUnits(src: usize, count: usize, unitSize: usize): ArrayBuffer | null {
  let n = count;
  // Strip up to two '=' of padding, which is only valid on a multiple of 4.
  let padding: usize = 0;
  while (padding < 2 && n > 0 && loadUnit(src, n - 1, unitSize) == 0x3d) {
    n--;
    padding++;
  }
  if (padding > 0 && count % 4 != 0) return null;
  if (n % 4 == 1) return null; // one leftover character cannot encode a byte
  const outLen = (n / 4) * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
  if (padding > 0 && (n % 4 == 0 || <usize>4 - n % 4 != padding)) return null;
  const out = new ArrayBuffer(<i32>outLen);
  const dst = changetype<usize>(out);
  let o: usize = 0;
  let acc: u32 = 0;
  let bits: u32 = 0;
  for (let i: usize = 0; i < n; i++) {
    const v = sextet(loadUnit(src, i, unitSize));
    if (v < 0) return null;
    acc = (acc << 6) | <u32>v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      store<u8>(dst + o++, <u8>(acc >> bits));
    }
  }
  return out;
}

// @ts-ignore: decorator
@inline function loadUnit(src: usize, i: usize, unitSize: usize): u32 {
  return unitSize == 2 ? <u32>load<u16>(src + (i << 1)) : <u32>load<u8>(src + i);
}

/** Decodes base64 text; null if it is not valid base64. */
export function base64Decode(text: string): ArrayBuffer | null {
  return decodeUnits(changetype<usize>(text), <usize>text.length, 2);
}

/** Decodes base64 given as ASCII bytes (e.g. a header value read as bytes); null if invalid. */
export function base64DecodeBytes(ascii: ArrayBuffer): ArrayBuffer | null {
  return decodeUnits(changetype<usize>(ascii), <usize>ascii.byteLength, 1);
}
