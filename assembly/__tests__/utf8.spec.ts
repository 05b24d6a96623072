// The SDK's UTF-8 encoder (used for every string sent to the host) against the standard library.
import { maxUtf8, putUtf8 } from "../codec/utf8";
import { hexOf } from "./helpers";

function encoded(s: string): string {
  const room = maxUtf8(s);
  const tmp = heap.alloc(room + 1);
  const size = putUtf8(s, tmp);
  const out = new ArrayBuffer(<i32>size);
  memory.copy(changetype<usize>(out), tmp, size);
  heap.free(tmp);
  return hexOf(out);
}

describe("putUtf8", () => {
  it("matches String.UTF8.encode for 1- to 4-byte characters", () => {
    const samples = ["", "abc", "é", "€uro", "日本語", "😀", "a😀b", "\u0000x", "\u07ff\u0800\uffff"];
    for (let i = 0; i < samples.length; i++) {
      expect(encoded(samples[i])).toBe(hexOf(String.UTF8.encode(samples[i])));
    }
  });

  it("writes lone surrogates as 3 bytes (WTF-8), like the standard library", () => {
    const lone = String.fromCharCode(0xd800) + "a" + String.fromCharCode(0xdc00);
    expect(encoded(lone)).toBe("eda08061edb080");
    expect(encoded(lone)).toBe(hexOf(String.UTF8.encode(lone)));
  });

  it("encodes ASCII runs of every length, with a non-ASCII unit at every position of them", () => {
    // The ASCII path takes four units per step; each length and position checks its edges.
    const others = ["\u0080", "\u00ff", "\u0100", "€", "😀"];
    for (let len = 1; len <= 17; len++) {
      const ascii = "abcdefghijklmnopq".substring(0, len);
      expect(encoded(ascii)).toBe(hexOf(String.UTF8.encode(ascii)));
      for (let at = 0; at < len; at++) {
        for (let k = 0; k < others.length; k++) {
          const s = ascii.substring(0, at) + others[k] + ascii.substring(at + 1);
          expect(encoded(s)).toBe(hexOf(String.UTF8.encode(s)));
        }
      }
    }
  });

  it("never exceeds maxUtf8", () => {
    const s = "😀€a";
    expect(<i32>maxUtf8(s)).toBeGreaterThanOrEqual(String.UTF8.byteLength(s));
  });
});
