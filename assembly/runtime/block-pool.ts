// Free lists of small heap blocks, between AssemblyScript's collector (itcms) and its allocator
// (TLSF). Every HTTP stream creates a context object that dies with the stream, so the collector
// allocates and frees same-sized blocks all the time; TLSF searches its bitmaps, splits a larger
// block and merges neighbours back for each of them. Here a freed block of one of the small sizes
// goes onto the list of its size and the next allocation of that size takes it back: a push and a
// pop. The block stays allocated as far as TLSF knows (its header is never touched), so the
// collector's accounting (object size from the block header) and TLSF's neighbour tags stay right.
// The lists hold at most MAX_POOLED bytes, the rest goes back to TLSF, so linear memory stays
// bounded as before. host/optimize/block-pool.ts points itcms's calls here in every build
// host/build.ts makes, except under GC stress (whose poisoning of freed blocks is in TLSF).

// TLSF's block header (mmInfo) before the payload; its two low bits are tags.
// @ts-ignore: decorator
@inline const BLOCK_OVERHEAD: usize = 4;
// TLSF gives small blocks payloads of 16n - 4 bytes (12, 28, 44, ...): list n holds those of 16n - 4.
// @ts-ignore: decorator
@inline const LISTS: usize = 8;
// @ts-ignore: decorator
@inline const MAX_POOLED: usize = 16384;

const heads: usize = memory.data(<i32>(LISTS << alignof<usize>()), sizeof<usize>());
let pooled: usize = 0;

/** The list of blocks with `payload` bytes (16n - 4 → n); above LISTS none. */
// @ts-ignore: decorator
@inline function listOf(payload: usize): usize {
  return (payload + BLOCK_OVERHEAD) >> 4;
}

/** __alloc for the collector: a pooled block of the size TLSF would give, else TLSF's. */
export function poolAlloc(size: usize): usize {
  // TLSF's payload for `size` (tlsf.ts computeSize): it splits off any rest of 16 bytes or more,
  // so a small block it hands out has exactly this payload.
  const payload: usize = size <= 12 ? <usize>12 : ((size + BLOCK_OVERHEAD + 15) & ~15) - BLOCK_OVERHEAD;
  const list = listOf(payload);
  if (list <= LISTS) {
    const at = heads + ((list - 1) << alignof<usize>());
    const ptr = load<usize>(at);
    if (ptr != 0) {
      store<usize>(at, load<usize>(ptr));
      pooled -= payload;
      return ptr;
    }
  }
  return __alloc(size);
}

/** Bytes of payload the lists hold (for tests). */
export function pooledBytes(): usize {
  return pooled;
}

/** __free for the collector: keeps a small block for the next allocation of its size. */
export function poolFree(ptr: usize): void {
  const payload = load<usize>(ptr - BLOCK_OVERHEAD) & ~3;
  const list = listOf(payload);
  if (list <= LISTS && pooled + payload <= MAX_POOLED) {
    const at = heads + ((list - 1) << alignof<usize>());
    store<usize>(ptr, load<usize>(at));
    store<usize>(at, ptr);
    pooled += payload;
    return;
  }
  __free(ptr);
}
