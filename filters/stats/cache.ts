// A bounded cache keyed by bytes, so that per-request work is a hash and a compare instead of a
// decode or a metric definition. The bound keeps linear memory flat however many distinct keys the
// traffic brings (random peers, label tuples): when full, the oldest entry is evicted (FIFO), and
// evictions are counted so operators can see a bound that is too small. One non-generic class
// serves every cache (values are objects the caller casts back), to keep the module small.
// Pure code.

/** 64-bit FNV-1a over 8-byte words, then the tail bytes. Not cryptographic: entries also compare keys. */
export function hashBytes(ptr: usize, len: usize): u64 {
  let h: u64 = 0xcbf29ce484222325;
  let i: usize = 0;
  for (; i + 8 <= len; i += 8) h = (h ^ load<u64>(ptr + i)) * 0x100000001b3;
  for (; i < len; i++) h = (h ^ <u64>load<u8>(ptr + i)) * 0x100000001b3;
  return h ^ (h >> 29);
}

class Slot {
  constructor(public key: ArrayBuffer, public value: Object) {}
}

export class BoundedCache {
  private readonly slots: Map<u64, Slot> = new Map();
  /** Hashes in insertion order (a ring), to find the oldest entry. */
  private readonly order: StaticArray<u64>;
  private next: i32 = 0;
  /** Entries evicted to make room. */
  evictions: u64 = 0;

  /** `capacity` 0 caches nothing. */
  constructor(public readonly capacity: i32) {
    this.order = new StaticArray<u64>(capacity);
  }

  get size(): i32 {
    return this.slots.size;
  }

  /** The value stored for the `len` bytes at `ptr`, or null. */
  get(ptr: usize, len: usize): Object | null {
    const h = hashBytes(ptr, len);
    if (!this.slots.has(h)) return null;
    const slot = this.slots.get(h);
    const key = slot.key;
    return <usize>key.byteLength == len && memory.compare(changetype<usize>(key), ptr, len) == 0 ? slot.value : null;
  }

  /**
   * Stores a copy of the key with `value`; true if the oldest entry was evicted to make room. A key
   * whose hash collides with a stored one replaces it (that one is then simply missed later).
   */
  put(ptr: usize, len: usize, value: Object): bool {
    if (this.capacity == 0) return false;
    const h = hashBytes(ptr, len);
    const key = new ArrayBuffer(<i32>len);
    memory.copy(changetype<usize>(key), ptr, len);
    let evicted = false;
    if (!this.slots.has(h)) {
      if (this.slots.size >= this.capacity) {
        this.slots.delete(unchecked(this.order[this.next]));
        this.evictions++;
        evicted = true;
      }
      unchecked((this.order[this.next] = h));
      this.next = this.next + 1 == this.capacity ? 0 : this.next + 1;
    }
    this.slots.set(h, new Slot(key, value));
    return evicted;
  }
}

/**
 * Serializes a tuple of strings into one reusable buffer (length-prefixed UTF-16, so no value can
 * imitate a separator): the cache key of a label tuple, built without allocating.
 */
export class TupleKey {
  ptr: usize = 0;
  length: usize = 0;
  private capacity: usize = 0;

  reset(): void {
    this.length = 0;
  }

  add(s: string): void {
    const bytes = <usize>s.length << 1;
    const end = this.length + 4 + bytes;
    if (end > this.capacity) {
      let capacity = max<usize>(256, this.capacity << 1);
      while (capacity < end) capacity <<= 1;
      const grown = heap.alloc(capacity);
      if (this.ptr != 0) {
        memory.copy(grown, this.ptr, this.length);
        heap.free(this.ptr);
      }
      this.ptr = grown;
      this.capacity = capacity;
    }
    store<u32>(this.ptr + this.length, <u32>s.length);
    memory.copy(this.ptr + this.length + 4, changetype<usize>(s), bytes);
    this.length = end;
  }
}
