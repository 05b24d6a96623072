// Typed property values as Envoy serializes them (proxy-wasm-abi.md §5.3).
import {
  decodeBool, decodeDouble, decodeDuration, decodeInt64, decodeList, decodeMap, decodeMapBytes, decodeString,
  decodeTimestamp, decodeUint64, encodeBool, encodeDouble, encodeInt64, encodeUint64,
} from "../codec/values";
import { Header, encodePairs } from "../codec/pairs";
import { bytesOf, fromHex, hexOf, utf8 } from "./helpers";

describe("integers", () => {
  it("decode int64 as 8 bytes little-endian", () => {
    expect(decodeInt64(fromHex("c800000000000000"))!.value).toBe(200);
    expect(decodeInt64(fromHex("ffffffffffffffff"))!.value).toBe(-1);
  });

  it("decode uint64 including values above i64.MAX", () => {
    expect(decodeUint64(fromHex("ffffffffffffffff"))!.value).toBe(u64.MAX_VALUE);
    expect(decodeUint64(fromHex("0100000000000000"))!.value).toBe(1);
  });

  it("reject any other length", () => {
    expect(decodeInt64(fromHex("c8000000"))).toBeNull();
    expect(decodeInt64(new ArrayBuffer(0))).toBeNull();
    expect(decodeUint64(fromHex("000000000000000000"))).toBeNull();
  });

  it("round-trip through the encoders", () => {
    expect(decodeInt64(encodeInt64(-1234567890123))!.value).toBe(-1234567890123);
    expect(hexOf(encodeUint64(0x0102030405060708))).toBe("0807060504030201");
  });
});

describe("durations and timestamps", () => {
  it("are int64 nanoseconds", () => {
    // 1.5 s
    expect(decodeDuration(encodeInt64(1500000000))!.value).toBe(1500000000);
    // 2024-01-01T00:00:00Z
    expect(decodeTimestamp(encodeInt64(1704067200000000000))!.value).toBe(1704067200000000000);
    expect(decodeDuration(bytesOf([1, 2, 3]))).toBeNull();
  });
});

describe("doubles", () => {
  it("are 8 bytes IEEE-754 little-endian", () => {
    expect(decodeDouble(fromHex("000000000000f83f"))!.value).toBe(1.5);
    expect(decodeDouble(encodeDouble(-0.25))!.value).toBe(-0.25);
    expect(decodeDouble(fromHex("0000c03f"))).toBeNull();
  });
});

describe("booleans", () => {
  it("are one byte, 0 or 1", () => {
    expect(decodeBool(bytesOf([1]))!.value).toBe(true);
    expect(decodeBool(bytesOf([0]))!.value).toBe(false);
    expect(decodeBool(encodeBool(true))!.value).toBe(true);
  });

  it("reject other bytes and lengths", () => {
    expect(decodeBool(bytesOf([2]))).toBeNull();
    expect(decodeBool(bytesOf([1, 0]))).toBeNull();
    expect(decodeBool(new ArrayBuffer(0))).toBeNull();
  });
});

describe("strings", () => {
  it("are raw UTF-8", () => {
    expect(decodeString(utf8("HTTP/1.1"))).toBe("HTTP/1.1");
    expect(decodeString(new ArrayBuffer(0))).toBe("");
  });
});

describe("maps and lists", () => {
  it("decode maps from pairs", () => {
    const map = decodeMap(encodePairs([new Header(":authority", "example.com"), new Header("accept", "a, b")])!)!;
    expect(map.length).toBe(2);
    expect(map[1].value).toBe("a, b");
  });

  it("keep map values as bytes when they are serialized values", () => {
    const raw = encodePairs([new Header("k", "")])!;
    const entries = decodeMapBytes(raw)!;
    expect(entries.length).toBe(1);
    expect(entries[0].value.byteLength).toBe(0);
  });

  it("decode lists from pairs with the item as key", () => {
    const list = decodeList(encodePairs([new Header("spiffe://a", ""), new Header("spiffe://b", "")])!)!;
    expect(list.length).toBe(2);
    expect(list[0]).toBe("spiffe://a");
    expect(list[1]).toBe("spiffe://b");
  });

  it("reject malformed pairs", () => {
    expect(decodeMap(bytesOf([1, 0, 0, 0]))).toBeNull();
    expect(decodeList(bytesOf([9]))).toBeNull();
  });
});
