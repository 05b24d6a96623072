// The bounded byte-keyed cache and the tuple key builder.
import { BoundedCache, TupleKey, hashBytes } from "../cache";

class Box {
  constructor(public n: i32) {}
}

function key(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

function get(cache: BoundedCache, s: string): i32 {
  const k = key(s);
  const v = cache.get(changetype<usize>(k), k.byteLength);
  return v === null ? -1 : changetype<Box>(v).n;
}

function put(cache: BoundedCache, s: string, n: i32): bool {
  const k = key(s);
  return cache.put(changetype<usize>(k), k.byteLength, new Box(n));
}

describe("BoundedCache", () => {
  it("returns what was stored under the same bytes", () => {
    const c = new BoundedCache(4);
    put(c, "a", 1);
    put(c, "bb", 2);
    expect(get(c, "a")).toBe(1);
    expect(get(c, "bb")).toBe(2);
    expect(get(c, "c")).toBe(-1);
    expect(c.size).toBe(2);
  });

  it("evicts the oldest entry when full, and counts it", () => {
    const c = new BoundedCache(2);
    expect(put(c, "a", 1)).toBe(false);
    expect(put(c, "b", 2)).toBe(false);
    expect(put(c, "c", 3)).toBe(true);
    expect(get(c, "a")).toBe(-1);
    expect(get(c, "b")).toBe(2);
    expect(get(c, "c")).toBe(3);
    expect(c.evictions).toBe(1);
    expect(put(c, "d", 4)).toBe(true);
    expect(get(c, "b")).toBe(-1);
    expect(c.size).toBe(2);
  });

  it("replaces the value of a stored key without evicting", () => {
    const c = new BoundedCache(2);
    put(c, "a", 1);
    put(c, "b", 2);
    expect(put(c, "a", 9)).toBe(false);
    expect(get(c, "a")).toBe(9);
    expect(get(c, "b")).toBe(2);
  });

  it("stays within its bound for many keys", () => {
    const c = new BoundedCache(10);
    for (let i = 0; i < 1000; i++) put(c, "k" + i.toString(), i);
    expect(c.size).toBe(10);
    expect(c.evictions).toBe(990);
    expect(get(c, "k999")).toBe(999);
    expect(get(c, "k989")).toBe(-1);
  });

  it("caches nothing with capacity 0", () => {
    const c = new BoundedCache(0);
    expect(put(c, "a", 1)).toBe(false);
    expect(get(c, "a")).toBe(-1);
  });

  it("hashes every byte", () => {
    const a = key("abcdefghij");
    const b = key("abcdefghik");
    expect(hashBytes(changetype<usize>(a), 10) == hashBytes(changetype<usize>(b), 10)).toBe(false);
  });
});

describe("TupleKey", () => {
  it("length-prefixes values so that different splits differ", () => {
    const k = new TupleKey();
    k.add("ab");
    k.add("c");
    const first = hashBytes(k.ptr, k.length);
    const len = k.length;
    k.reset();
    k.add("a");
    k.add("bc");
    expect(k.length).toBe(len);
    expect(first == hashBytes(k.ptr, k.length)).toBe(false);
  });

  it("grows for long tuples and keeps what it held", () => {
    const k = new TupleKey();
    const long = "x".repeat(1000);
    k.add("first");
    k.add(long);
    expect(k.length).toBe(4 + 10 + 4 + 2000);
    expect(load<u32>(k.ptr)).toBe(5);
    expect(load<u16>(k.ptr + 4)).toBe(0x66);
  });
});
