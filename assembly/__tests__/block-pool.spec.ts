// The collector's free lists of small blocks (runtime/block-pool.ts), called directly here: the
// as-pect build does not point the collector at them, so nothing else uses the lists meanwhile.
import { poolAlloc, poolFree, pooledBytes } from "../runtime/block-pool";

/** TLSF's block header of the block at `ptr`: payload size and tag bits. */
function header(ptr: usize): u32 {
  return load<u32>(ptr - 4);
}

describe("block pool", () => {
  it("hands a freed block back to the next allocation of the same TLSF size", () => {
    const a = poolAlloc(40); // payload 44
    const before = header(a);
    poolFree(a);
    expect(pooledBytes()).toBe(44);
    const b = poolAlloc(33); // TLSF would also give 33 bytes a 44-byte payload
    expect(b).toBe(a);
    expect(header(b)).toBe(before);
    expect(pooledBytes()).toBe(0);
    poolFree(b);
    expect(poolAlloc(40)).toBe(a);
  });

  it("keeps blocks of different sizes apart", () => {
    const a = poolAlloc(40);
    poolFree(a);
    const small = poolAlloc(8); // payload 12
    expect(small).not.toBe(a);
    store<u64>(small, 0x0102030405060708);
    poolFree(small);
    expect(pooledBytes()).toBe(56);
    expect(poolAlloc(40)).toBe(a);
    expect(poolAlloc(12)).toBe(small);
    expect(pooledBytes()).toBe(0);
  });

  it("returns blocks in the reverse order of their freeing", () => {
    const a = poolAlloc(100);
    const b = poolAlloc(100);
    expect(b).not.toBe(a);
    poolFree(a);
    poolFree(b);
    expect(poolAlloc(100)).toBe(b);
    expect(poolAlloc(100)).toBe(a);
  });

  it("leaves blocks above 124 bytes to TLSF", () => {
    const big = poolAlloc(125);
    poolFree(big);
    expect(pooledBytes()).toBe(0);
  });

  it("holds at most 16 KiB, and gives the rest back to TLSF", () => {
    const blocks = new StaticArray<usize>(200);
    for (let i = 0; i < blocks.length; i++) blocks[i] = poolAlloc(120); // payload 124
    for (let i = 0; i < blocks.length; i++) poolFree(blocks[i]);
    expect(pooledBytes()).toBe(<usize>(16384 / 124) * 124);
    // The pooled ones come back first, most recent first.
    const last = 16384 / 124 - 1;
    expect(poolAlloc(120)).toBe(blocks[last]);
    expect(pooledBytes()).toBe(<usize>last * 124);
  });
});
