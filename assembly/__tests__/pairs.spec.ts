// Header pairs (proxy-wasm-abi.md §5.1): exact layout, round trips, and rejection of exactly what
// proxy-wasm-cpp-host's PairsUtil::toPairs rejects.
import {
  Header, HeaderBytes, PAIRS_MAX_BYTES, decodePairs, decodePairsBytes, encodePairs, encodePairsBytes, findHeader, findPairValuesBytes,
  validatePairs,
} from "../codec/pairs";
import { bytesOf, fromHex, hexOf, utf8 } from "./helpers";

// [("a","1"), ("bc","22")] from the reference, 30 bytes.
const EXAMPLE = "02000000" + "01000000" + "01000000" + "02000000" + "02000000" + "61003100" + "626300323200";

function pairsHeader(count: u32, sizes: u32[]): string {
  let hex = hexU32(count);
  for (let i = 0; i < sizes.length; i++) hex += hexU32(sizes[i]);
  return hex;
}

function hexU32(v: u32): string {
  const b = new ArrayBuffer(4);
  store<u32>(changetype<usize>(b), v);
  return hexOf(b);
}

describe("encodePairs", () => {
  it("writes the count, all size pairs, then NUL-terminated names and values", () => {
    const out = encodePairs([new Header("a", "1"), new Header("bc", "22")])!;
    expect(out.byteLength).toBe(30);
    expect(hexOf(out)).toBe(EXAMPLE);
  });

  it("encodes an empty list as a zero count", () => {
    expect(hexOf(encodePairs([])!)).toBe("00000000");
  });

  it("encodes names and values as UTF-8", () => {
    const out = encodePairs([new Header("x-é", "€")])!;
    // sizes 4 and 3: "x-" + c3 a9, then e2 82 ac
    expect(hexOf(out)).toBe("01000000" + "04000000" + "03000000" + "782dc3a900" + "e282ac00");
  });

  it("refuses more pairs than the host accepts (1024)", () => {
    const many = new Array<Header>();
    for (let i = 0; i < 1024; i++) many.push(new Header("k", "v"));
    expect(encodePairs(many)).not.toBeNull();
    many.push(new Header("k", "v"));
    expect(encodePairs(many)).toBeNull();
  });

  it("refuses an encoding over 1 MiB", () => {
    const big = "x".repeat(<i32>PAIRS_MAX_BYTES);
    expect(encodePairs([new Header("k", big)])).toBeNull();
    // 4 + 8 + (1 + 1) + (size + 1) == 1 MiB exactly is accepted
    const fits = "x".repeat(<i32>PAIRS_MAX_BYTES - 15);
    expect(encodePairs([new Header("k", fits)])!.byteLength).toBe(<i32>PAIRS_MAX_BYTES);
  });
});

describe("decodePairs", () => {
  it("reads the reference example", () => {
    const pairs = decodePairs(fromHex(EXAMPLE))!;
    expect(pairs.length).toBe(2);
    expect(pairs[0].name).toBe("a");
    expect(pairs[0].value).toBe("1");
    expect(pairs[1].name).toBe("bc");
    expect(pairs[1].value).toBe("22");
  });

  it("round-trips strings, empty values and non-ASCII text", () => {
    const input = [new Header(":path", "/a?b=c"), new Header("x-empty", ""), new Header("x-ü", "日本"), new Header("dup", "1"), new Header("dup", "2")];
    const back = decodePairs(encodePairs(input)!)!;
    expect(back.length).toBe(5);
    for (let i = 0; i < 5; i++) {
      expect(back[i].name).toBe(input[i].name);
      expect(back[i].value).toBe(input[i].value);
    }
    expect(findHeader(back, "dup")).toBe("1");
    expect(findHeader(back, "missing")).toBeNull();
  });

  it("reads an empty buffer and a zero count as an empty map", () => {
    expect(decodePairs(new ArrayBuffer(0))!.length).toBe(0);
    expect(decodePairs(fromHex("00000000"))!.length).toBe(0);
  });

  it("rejects a buffer too short for the count", () => {
    expect(decodePairs(bytesOf([1]))).toBeNull();
    expect(decodePairs(bytesOf([1, 0, 0]))).toBeNull();
  });

  it("rejects more than 1024 pairs", () => {
    expect(decodePairs(fromHex(hexU32(1025)))).toBeNull();
  });

  it("rejects a size table that runs past the end", () => {
    expect(decodePairs(fromHex(pairsHeader(2, [1, 1])))).toBeNull();
  });

  it("rejects a name or value that runs past the end", () => {
    expect(decodePairs(fromHex(pairsHeader(1, [5, 1]) + "6162"))).toBeNull();
    expect(decodePairs(fromHex(pairsHeader(1, [1, 5]) + "610031"))).toBeNull();
  });

  it("rejects a terminator that is not NUL", () => {
    expect(decodePairs(fromHex(pairsHeader(1, [1, 1]) + "61013100"))).toBeNull();
    expect(decodePairs(fromHex(pairsHeader(1, [1, 1]) + "61003101"))).toBeNull();
  });

  it("rejects trailing bytes", () => {
    expect(decodePairs(fromHex(pairsHeader(1, [1, 1]) + "6100310000"))).toBeNull();
  });

  it("rejects a buffer over 1 MiB even if well-formed", () => {
    const value = "x".repeat(<i32>PAIRS_MAX_BYTES);
    const big = encodePairsBytes([new HeaderBytes(utf8("k"), utf8(value))]);
    expect(big).toBeNull();
    // Build it by hand: 4 + 8 + 2 + (size + 1) bytes.
    const size = <i32>PAIRS_MAX_BYTES - 14;
    const raw = new ArrayBuffer(size + 15);
    const p = changetype<usize>(raw);
    store<u32>(p, 1);
    store<u32>(p + 4, 1);
    store<u32>(p + 8, <u32>size);
    store<u8>(p + 12, 0x6b);
    memory.fill(p + 14, 0x78, <usize>size);
    expect(raw.byteLength).toBe(<i32>PAIRS_MAX_BYTES + 1);
    expect(decodePairs(raw)).toBeNull();
    expect(decodePairs(raw.slice(0, raw.byteLength - 1))).toBeNull(); // now truncated
  });
});

describe("bytes variants", () => {
  it("round-trip arbitrary bytes, including NUL inside a value", () => {
    const value = bytesOf([0xff, 0x00, 0x80, 0x41]);
    const out = encodePairsBytes([new HeaderBytes(utf8("bin"), value)])!;
    expect(hexOf(out)).toBe("01000000" + "03000000" + "04000000" + "62696e00" + "ff00804100");
    const back = decodePairsBytes(out)!;
    expect(back.length).toBe(1);
    expect(hexOf(back[0].name)).toBe("62696e");
    expect(hexOf(back[0].value)).toBe("ff008041");
  });

  it("reject the same malformed input as the string decoder", () => {
    expect(decodePairsBytes(fromHex(pairsHeader(1, [1, 1]) + "6100310000"))).toBeNull();
    expect(decodePairsBytes(bytesOf([2, 0]))).toBeNull();
  });
});

// x-a: "1", x-b: "", x-a: "2", x-c: "3" (a repeated name and an empty value).
const LOOKUP_MAP = encodePairsBytes([
  new HeaderBytes(utf8("x-a"), utf8("1")), new HeaderBytes(utf8("x-b"), utf8("")),
  new HeaderBytes(utf8("x-a"), utf8("2")), new HeaderBytes(utf8("x-c"), utf8("3")),
])!;

function findIn(names: string[], values: Array<ArrayBuffer | null>): i32 {
  const bytes = names.map<ArrayBuffer>((n: string): ArrayBuffer => utf8(n));
  const ptr = changetype<usize>(LOOKUP_MAP);
  return findPairValuesBytes(ptr, validatePairs(ptr, LOOKUP_MAP.byteLength), bytes, values);
}

describe("findPairValuesBytes", () => {
  it("gives the first value of each name, null where absent, and how many were found", () => {
    const values = new Array<ArrayBuffer | null>();
    expect(findIn(["x-a", "x-missing", "x-c"], values)).toBe(2);
    expect(values.length).toBe(3);
    expect(hexOf(values[0]!)).toBe("31");
    expect(values[1]).toBeNull();
    expect(hexOf(values[2]!)).toBe("33");
  });

  it("tells a present empty value (empty bytes) from an absent one (null)", () => {
    const values = new Array<ArrayBuffer | null>();
    expect(findIn(["x-b"], values)).toBe(1);
    expect(values[0]).not.toBeNull();
    expect(values[0]!.byteLength).toBe(0);
  });

  it("finds names of 3, 10 and 67 bytes among pairs of other lengths (lengths compared mod 64 first)", () => {
    // 67 = 3 + 64: the same length bit as "x-a", so the names themselves must still be compared.
    const long = "x-" + "l".repeat(65);
    const other = "y-" + "l".repeat(65);
    const map = encodePairsBytes([
      new HeaderBytes(utf8(other), utf8("no")), new HeaderBytes(utf8("x-a"), utf8("1")),
      new HeaderBytes(utf8("user-agent"), utf8("ua")), new HeaderBytes(utf8(long), utf8("L")),
    ])!;
    const ptr = changetype<usize>(map);
    const count = validatePairs(ptr, map.byteLength);
    const values = new Array<ArrayBuffer | null>();
    const names = [utf8(long), utf8("x-a"), utf8("x-b"), utf8("user-agent")];
    expect(findPairValuesBytes(ptr, count, names, values)).toBe(3);
    expect(hexOf(values[0]!)).toBe("4c");
    expect(hexOf(values[1]!)).toBe("31");
    expect(values[2]).toBeNull();
    expect(hexOf(values[3]!)).toBe("7561");
  });

  it("lower-cases ASCII in the names, as Envoy's lookup does, and nothing else", () => {
    const values = new Array<ArrayBuffer | null>();
    expect(findIn(["X-A", "x-Ä"], values)).toBe(1);
    expect(hexOf(values[0]!)).toBe("31");
    expect(values[1]).toBeNull();
  });

  it("clears what a reused array held before", () => {
    const values = new Array<ArrayBuffer | null>();
    expect(findIn(["x-a", "x-c"], values)).toBe(2);
    expect(findIn(["x-missing", "x-other"], values)).toBe(0);
    expect(values[0]).toBeNull();
    expect(values[1]).toBeNull();
  });

  it("finds nothing in an empty map", () => {
    const values = new Array<ArrayBuffer | null>();
    values.push(utf8("stale"));
    expect(findPairValuesBytes(0, 0, [utf8("x-a")], values)).toBe(0);
    expect(values[0]).toBeNull();
  });
});
