// Byte-level mutations of valid inputs, in the style of AFL's havoc stage: flips, boundary values
// (0, 0x7f, 0x80, 0xff and little-endian u32 lengths such as 0xffffffff), insertions of
// dictionary tokens, deletions, duplications, truncations and splices with another input.
// Decoders see inputs that are almost valid, which is where length and terminator checks break.
import type { Prng } from "./prng.js";

const interestingBytes = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2c, 0x3d, 0x2f, 0x2b];
const interestingU32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x3ff, 0x400, 0x401, 0xffff, 0x10000, 0x100000, 0x100001, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One mutation of `input` (never modified in place). `dictionary` adds format tokens to insert. */
export function mutateOnce(rng: Prng, input: Uint8Array, dictionary: readonly Uint8Array[] = [], other?: Uint8Array): Uint8Array {
  const out = Uint8Array.from(input);
  const pos = (extra = 0): number => rng.int(out.length + extra);
  switch (rng.int(11)) {
    case 0: // flip one bit
      if (out.length) out[pos()]! ^= 1 << rng.int(8);
      return out;
    case 1: // random byte
      if (out.length) out[pos()] = rng.u32() & 0xff;
      return out;
    case 2: // interesting byte
      if (out.length) out[pos()] = rng.pick(interestingBytes);
      return out;
    case 3: {
      // interesting little-endian u32 (lengths and counts of binary formats)
      if (out.length < 4) return out;
      const at = rng.int(out.length - 3);
      new DataView(out.buffer).setUint32(at, rng.pick(interestingU32), true);
      return out;
    }
    case 4: {
      // add or subtract a little from a byte (off-by-one lengths)
      if (out.length) {
        const at = pos();
        out[at] = (out[at]! + rng.range(-4, 4)) & 0xff;
      }
      return out;
    }
    case 5: {
      // insert random bytes
      const at = pos(1);
      return concat(out.subarray(0, at), rng.bytes(rng.range(1, 8)), out.subarray(at));
    }
    case 6: {
      // delete a range
      if (!out.length) return out;
      const at = pos();
      return concat(out.subarray(0, at), out.subarray(Math.min(out.length, at + rng.range(1, 16))));
    }
    case 7: {
      // duplicate a range
      if (!out.length) return out;
      const at = pos();
      const piece = out.subarray(at, Math.min(out.length, at + rng.range(1, 32)));
      const to = pos(1);
      return concat(out.subarray(0, to), piece, out.subarray(to));
    }
    case 8: // truncate
      return out.subarray(0, pos(1));
    case 9: {
      // insert a dictionary token
      if (!dictionary.length) return mutateOnce(rng, input, [], other);
      const at = pos(1);
      return concat(out.subarray(0, at), rng.pick(dictionary), out.subarray(at));
    }
    default: {
      // splice with another input
      if (!other?.length) return mutateOnce(rng, input, dictionary);
      const at = pos(1);
      const from = rng.int(other.length);
      return concat(out.subarray(0, at), other.subarray(from));
    }
  }
}

/** One to eight stacked mutations. */
export function mutate(rng: Prng, input: Uint8Array, dictionary: readonly Uint8Array[] = [], other?: Uint8Array): Uint8Array {
  let out = input;
  for (let i = rng.range(1, 8); i > 0; i--) out = mutateOnce(rng, out, dictionary, other);
  return out;
}

export const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "utf8"));
