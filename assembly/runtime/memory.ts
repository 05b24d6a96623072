// Memory shared between the module and the host, with explicit ownership (proxy-wasm-abi.md §2.1,
// §8.1; sdk-anchors.md §6.1 item 15):
//
// - Allocator: `malloc` / `proxy_on_memory_allocate` hand out raw heap blocks (`heap.alloc`, or
//   one reused block for small results), invisible to the garbage collector, so nothing the host
//   is filling in can be collected, and a GC step can never run inside the allocator (raw
//   allocation does not step the incremental GC).
// - Host → module: every reader copies the host's block into a managed String/ArrayBuffer and
//   frees the block at once, before returning. A raw pointer never outlives the reading function.
// - Module → host: strings are encoded as UTF-8 into one reusable scratch block that only grows
//   (no garbage per call). The scratch block is only used between encoding the arguments and the
//   host call returning; the host re-enters the module only through the allocator, which does not
//   touch it, so re-entry cannot corrupt it.
// - Out-parameters live in a small static area the host writes into.
import { encodeUtf8, maxUtf8, putUtf8 } from "../codec/utf8";

export { maxUtf8, putUtf8 };

// Most host results are small (8-byte numbers, short strings, a request's header map) and are
// copied out and freed before the next host call, so one reused block serves nearly all of them:
// no allocator search or coalescing on the per-request path. A result that does not fit, or that
// arrives while the block is still lent (a reader that has not released yet), gets its own.
const SPARE_CAPACITY: usize = 1024;
let spare: usize = 0;
let spareLent = false;

/** Allocator for the host. Never returns 0: running out of memory traps inside `heap.alloc`. */
export function allocate(size: usize): usize {
  if (size <= SPARE_CAPACITY && !spareLent) {
    if (spare == 0) spare = heap.alloc(SPARE_CAPACITY);
    spareLent = true;
    return spare;
  }
  return heap.alloc(size);
}

/** Gives back a block `allocate` handed to the host (the one place host blocks are freed). */
export function freeHostBlock(ptr: usize): void {
  if (ptr == spare) spareLent = false;
  else heap.free(ptr);
}

/** Whether the reused block is lent out (for tests: every reader must have given it back). */
export function hostBlockLent(): bool {
  return spareLent;
}

/** Static out-parameter slots: [0] pointer, [4] size, [8..16] a u32/u64 value (CAS, token, time). */
export const OUT: usize = memory.data(16, 8);
export const OUT_PTR: usize = OUT;
export const OUT_SIZE: usize = OUT + 4;
export const OUT_VALUE: usize = OUT + 8;

/** Zeroes the slots before a call: on success with an empty value some host calls write nothing. */
// @ts-ignore: decorator
@inline export function clearOut(): void {
  store<u64>(OUT, 0);
  store<u64>(OUT, 0, 8);
}

/** Takes ownership of the block the host returned in OUT_PTR/OUT_SIZE: copies it, frees it. */
export function takeBytes(): ArrayBuffer {
  const ptr = load<usize>(OUT_PTR);
  const size = load<u32>(OUT_SIZE);
  const out = new ArrayBuffer(<i32>size);
  if (ptr != 0) {
    memory.copy(changetype<usize>(out), ptr, size);
    freeHostBlock(ptr);
  }
  return out;
}

/** Same as takeBytes, decoding the bytes as UTF-8. */
export function takeString(): string {
  const ptr = load<usize>(OUT_PTR);
  const size = load<u32>(OUT_SIZE);
  if (ptr == 0) return "";
  const s = String.UTF8.decodeUnsafe(ptr, size);
  freeHostBlock(ptr);
  return s;
}

/** Frees the host's block without reading it. */
export function releaseOut(): void {
  const ptr = load<usize>(OUT_PTR);
  if (ptr != 0) freeHostBlock(ptr);
}

// ---- scratch area for arguments ----

let scratchBase: usize = 0;
let scratchCapacity: usize = 0;

/**
 * Returns the scratch block, at least `bytes` long. Reserve once for all the arguments of a call,
 * then encode them: growing later would move what was already written.
 */
export function reserveScratch(bytes: usize): usize {
  if (bytes > scratchCapacity) {
    if (scratchBase != 0) heap.free(scratchBase);
    let capacity: usize = max<usize>(256, scratchCapacity << 1);
    while (capacity < bytes) capacity <<= 1;
    scratchBase = heap.alloc(capacity);
    scratchCapacity = capacity;
  }
  return scratchBase;
}

// ---- UTF-8 of string literals ----
// A literal lives in the module's static data (below __heap_base) and never changes, so its UTF-8
// form is made once and reused: header names and values given as literals, the common case on the
// per-request path, cost no encoding after the first request. A small direct-mapped cache of raw
// blocks; an evicted entry's block is freed.

const LITERAL_SLOTS: usize = 64;
/** Per slot: string address, UTF-8 block address, UTF-8 size (3 × u32). */
const literalCache: usize = memory.data(<i32>(LITERAL_SLOTS * 12), 4);

/** The cached UTF-8 of the literal at `p` (`units` UTF-16 units); its size in `encodedSize`. */
function literalUtf8(p: usize, units: usize): usize {
  const slot = literalCache + ((p >> 3) & (LITERAL_SLOTS - 1)) * 12;
  if (load<usize>(slot) != p) {
    const old = load<usize>(slot, 4);
    if (old != 0) heap.free(old);
    const block = heap.alloc(max<usize>(units * 3, 1));
    store<usize>(slot, p);
    store<usize>(slot, block, 4);
    store<u32>(slot, <u32>encodeUtf8(p, units, block), 8);
  }
  encodedSize = load<u32>(slot, 8);
  return load<usize>(slot, 4);
}

/** True if the literal at `p` is cached, or its slot is empty (using it evicts nothing). */
function literalSlotUsable(p: usize): bool {
  const owner = load<usize>(literalCache + ((p >> 3) & (LITERAL_SLOTS - 1)) * 12);
  return owner == p || owner == 0;
}

/**
 * UTF-16 code units of the String at address `p`: its byte size (AssemblyScript's object header
 * keeps it 4 bytes before the data, which is what String#length reads) halved. For callers that
 * hold a string's address only, so that no managed value is live (the incremental runtime would
 * spill it to its shadow stack on every call).
 */
// @ts-ignore: decorator
@inline export function stringUnits(p: usize): usize {
  return <usize>load<u32>(p - 4) >> 1;
}

/**
 * UTF-8 of the String at address `p` for a host call: a literal's cached encoding, or the string
 * encoded at `at` (inside reserved scratch). Returns the address; the size is left in
 * `encodedSize`.
 */
export function utf8Arg(p: usize, at: usize): usize {
  const units = stringUnits(p);
  // Only a literal that already owns its cache slot, or finds it empty, uses the cache here:
  // evicting could free the block of another argument of the same host call (two literals whose
  // addresses map to one slot), and the host would read freed memory.
  if (p < __heap_base && literalSlotUsable(p)) return literalUtf8(p, units);
  encodedSize = encodeUtf8(p, units, at);
  return at;
}

/** One string argument (see utf8Arg); the size is left in `encodedSize`. */
// @ts-ignore: decorator
@inline export function encodeArg(s: string): usize {
  const p = changetype<usize>(s);
  const units = <usize>s.length;
  if (p < __heap_base) return literalUtf8(p, units);
  const base = reserveScratch(units * 3);
  encodedSize = encodeUtf8(p, units, base);
  return base;
}
export let encodedSize: usize = 0;
