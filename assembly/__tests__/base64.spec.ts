// Base64, standard alphabet (RFC 4648 §4 and its test vectors in §10).
import { base64Decode, base64DecodeBytes, base64Encode } from "../codec/base64";
import { hexOf, utf8 } from "./helpers";

function decodedText(s: string): string | null {
  const out = base64Decode(s);
  return out === null ? null : String.UTF8.decode(out);
}

describe("base64Encode", () => {
  it("matches the RFC 4648 test vectors", () => {
    expect(base64Encode(utf8(""))).toBe("");
    expect(base64Encode(utf8("f"))).toBe("Zg==");
    expect(base64Encode(utf8("fo"))).toBe("Zm8=");
    expect(base64Encode(utf8("foo"))).toBe("Zm9v");
    expect(base64Encode(utf8("foob"))).toBe("Zm9vYg==");
    expect(base64Encode(utf8("fooba"))).toBe("Zm9vYmE=");
    expect(base64Encode(utf8("foobar"))).toBe("Zm9vYmFy");
  });

  it("uses + and / for 62 and 63", () => {
    const b = new ArrayBuffer(3);
    store<u8>(changetype<usize>(b), 0xfb);
    store<u8>(changetype<usize>(b) + 1, 0xff);
    store<u8>(changetype<usize>(b) + 2, 0xbf);
    expect(base64Encode(b)).toBe("+/+/");
  });
});

describe("base64Decode", () => {
  it("decodes the RFC 4648 test vectors", () => {
    expect(decodedText("")).toBe("");
    expect(decodedText("Zg==")).toBe("f");
    expect(decodedText("Zm8=")).toBe("fo");
    expect(decodedText("Zm9v")).toBe("foo");
    expect(decodedText("Zm9vYmFy")).toBe("foobar");
  });

  it("accepts missing padding", () => {
    expect(decodedText("Zg")).toBe("f");
    expect(decodedText("Zm8")).toBe("fo");
    expect(decodedText("Zm9vYmE")).toBe("fooba");
  });

  it("round-trips every byte value", () => {
    const all = new ArrayBuffer(256);
    for (let i = 0; i < 256; i++) store<u8>(changetype<usize>(all) + <usize>i, <u8>i);
    for (let n = 0; n <= 256; n += 37) {
      const part = all.slice(0, n);
      expect(hexOf(base64Decode(base64Encode(part))!)).toBe(hexOf(part));
    }
  });

  it("rejects characters outside the standard alphabet", () => {
    expect(base64Decode("Zm9v!")).toBeNull();
    expect(base64Decode("Zm-v")).toBeNull(); // URL-safe alphabet
    expect(base64Decode("Zm_v")).toBeNull();
    expect(base64Decode("Zm9v YmFy")).toBeNull(); // whitespace
    expect(base64Decode("Zm9v\n")).toBeNull();
    expect(base64Decode("Zm9é")).toBeNull();
  });

  it("rejects impossible lengths and misplaced padding", () => {
    expect(base64Decode("Z")).toBeNull(); // one leftover character
    expect(base64Decode("Zm9vY")).toBeNull();
    expect(base64Decode("Zg=")).toBeNull(); // partial padding
    expect(base64Decode("Zm8==")).toBeNull();
    expect(base64Decode("Zg==Zg==")).toBeNull(); // padding in the middle
    expect(base64Decode("====")).toBeNull();
    expect(base64Decode("Zm9v=")).toBeNull();
  });

  it("decodes ASCII bytes the same way", () => {
    expect(String.UTF8.decode(base64DecodeBytes(utf8("Zm9vYmE="))!)).toBe("fooba");
    expect(base64DecodeBytes(utf8("Zm9v*"))).toBeNull();
  });
});
