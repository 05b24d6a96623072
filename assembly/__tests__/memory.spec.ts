// The allocator the host fills with results (proxy_on_memory_allocate) and the readers that give
// its blocks back: one block is reused for small results, never lent twice at once.
import { OUT_PTR, OUT_SIZE, allocate, freeHostBlock, hostBlockLent, releaseOut, takeBytes, takeString } from "../runtime/memory";
import { hexOf } from "./helpers";

/** What a host does for an out-parameter: allocate, write, store pointer and size. */
function hostReturns(bytes: u8[]): usize {
  const ptr = allocate(<usize>bytes.length);
  for (let i = 0; i < bytes.length; i++) store<u8>(ptr + <usize>i, bytes[i]);
  store<usize>(OUT_PTR, ptr);
  store<u32>(OUT_SIZE, <u32>bytes.length);
  return ptr;
}

describe("allocate", () => {
  it("hands the same block to consecutive small results once each is given back", () => {
    const a = allocate(8);
    expect(hostBlockLent()).toBe(true);
    freeHostBlock(a);
    expect(hostBlockLent()).toBe(false);
    const b = allocate(100);
    expect(b).toBe(a);
    freeHostBlock(b);
  });

  it("gives a result that arrives while the block is lent a block of its own", () => {
    const a = allocate(8);
    const b = allocate(8);
    expect(b).not.toBe(a);
    store<u64>(a, 0x1111111111111111);
    store<u64>(b, 0x2222222222222222);
    expect(load<u64>(a)).toBe(0x1111111111111111);
    freeHostBlock(b);
    expect(hostBlockLent()).toBe(true);
    freeHostBlock(a);
    expect(hostBlockLent()).toBe(false);
  });

  it("gives a result larger than the reused block a block of its own, of its size", () => {
    const big = allocate(4096);
    expect(hostBlockLent()).toBe(false);
    memory.fill(big, 0x5a, 4096);
    expect(load<u8>(big + 4095)).toBe(0x5a);
    freeHostBlock(big);
    expect(hostBlockLent()).toBe(false);
  });

  it("is given back by every reader: takeBytes, takeString, releaseOut", () => {
    hostReturns([0x6f, 0x6b]);
    expect(hexOf(takeBytes())).toBe("6f6b");
    expect(hostBlockLent()).toBe(false);
    hostReturns([0x6f, 0x6b]);
    expect(takeString()).toBe("ok");
    expect(hostBlockLent()).toBe(false);
    hostReturns([1]);
    releaseOut();
    expect(hostBlockLent()).toBe(false);
  });

  it("keeps a copied result intact when the block is reused for the next one", () => {
    hostReturns([0x61, 0x62, 0x63]);
    const first = takeBytes();
    hostReturns([0x78, 0x79, 0x7a]);
    const second = takeBytes();
    expect(hexOf(first)).toBe("616263");
    expect(hexOf(second)).toBe("78797a");
  });
});
