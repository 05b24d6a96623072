// UTF-8 encoding into raw memory, shared by every encoder of the SDK. Pure code: no host imports.

/** Upper bound of the UTF-8 size of `s` (3 bytes per UTF-16 unit covers surrogate pairs too). */
// @ts-ignore: decorator
@inline export function maxUtf8(s: string): usize {
  return <usize>s.length * 3;
}

/**
 * Encodes `s` as UTF-8 at `at` (room for maxUtf8(s) bytes); returns the number of bytes written.
 * A lone surrogate is written as its 3-byte form (WTF-8), never an error: the std encoder's error
 * path and message would be in every module.
 */
// @ts-ignore: decorator
@inline export function putUtf8(s: string, at: usize): usize {
  return encodeUtf8(changetype<usize>(s), <usize>s.length, at);
}

/**
 * putUtf8 on `units` UTF-16 code units at `chars`. Takes addresses rather than a String so that
 * hot callers pass no managed value (the incremental runtime would spill it to its shadow stack).
 */
export function encodeUtf8(chars: usize, units: usize, at: usize): usize {
  let p = chars;
  const end = p + (units << 1);
  let out = at;
  while (p < end) {
    // Names, paths and keys are ASCII: four units per step while none is above 0x7f.
    while (p + 8 <= end) {
      const w = load<u64>(p);
      if (w & 0xff80ff80ff80ff80) break;
      store<u32>(out, <u32>((w & 0xff) | ((w >> 8) & 0xff00) | ((w >> 16) & 0xff0000) | ((w >> 24) & 0xff000000)));
      p += 8;
      out += 4;
    }
    if (p >= end) break;
    let c = <u32>load<u16>(p);
    p += 2;
    if (c < 0x80) {
      store<u8>(out++, c);
      continue;
    }
    if (c < 0x800) {
      store<u8>(out, 0xc0 | (c >> 6));
      store<u8>(out + 1, 0x80 | (c & 0x3f));
      out += 2;
      continue;
    }
    if ((c & 0xfc00) == 0xd800 && p < end && (<u32>load<u16>(p) & 0xfc00) == 0xdc00) {
      c = 0x10000 + ((c & 0x3ff) << 10) + (<u32>load<u16>(p) & 0x3ff);
      p += 2;
      store<u8>(out, 0xf0 | (c >> 18));
      store<u8>(out + 1, 0x80 | ((c >> 12) & 0x3f));
      out += 2;
    } else {
      store<u8>(out++, 0xe0 | (c >> 12));
    }
    store<u8>(out, 0x80 | ((c >> 6) & 0x3f));
    store<u8>(out + 1, 0x80 | (c & 0x3f));
    out += 2;
  }
  return out - at;
}
