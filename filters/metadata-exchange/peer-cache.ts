// Decoded peers by node id, one cache per VM (filters.md §1.3 "Cache"). Istio's updatePeer: when
// the cache holds more than `max` entries, it erases the first max/4 before inserting, so it holds
// at most max + 1; `max` 0 disables it. Two deliberate differences, both for bounded memory and
// predictable behaviour:
// - Istio erases the first entries of an absl::flat_hash_map, i.e. in hash order; here they are
//   the oldest insertions (AssemblyScript's Map iterates in insertion order).
// - Istio erases max/4 entries, which is 0 for max 1..3, so such a cache grows without bound;
//   here at least one entry goes.
// Pure code: no host imports.

export class PeerCache {
  private readonly entries: Map<string, ArrayBuffer> = new Map();

  constructor(public readonly max: i32) {}

  get enabled(): bool {
    return this.max > 0;
  }

  get size(): i32 {
    return this.entries.size;
  }

  /** The cached peer for `id`, or null. */
  get(id: string): ArrayBuffer | null {
    // Map.get traps on a missing key.
    return this.entries.has(id) ? this.entries.get(id) : null;
  }

  /** Remembers `peer` for `id`, evicting first if the cache is over its size. */
  put(id: string, peer: ArrayBuffer): void {
    if (this.max <= 0) return;
    if (this.entries.size > this.max) this.evictOldest(max(1, this.max / 4));
    this.entries.set(id, peer);
  }

  private evictOldest(count: i32): void {
    const ids = this.entries.keys();
    for (let i = 0, n = min(count, ids.length); i < n; i++) this.entries.delete(unchecked(ids[i]));
  }
}

/**
 * A string with one UTF-16 unit per byte (latin1), used as the cache key of a header value: every
 * distinct byte sequence gets a distinct key, which UTF-8 decoding (mapping invalid bytes to
 * U+FFFD) would not guarantee.
 */
export function latin1Key(bytes: ArrayBuffer): string {
  const n = bytes.byteLength;
  const key = changetype<string>(__new(<usize>n << 1, idof<string>()));
  const src = changetype<usize>(bytes);
  const dst = changetype<usize>(key);
  for (let i = 0; i < n; i++) store<u16>(dst + (<usize>i << 1), <u16>load<u8>(src + <usize>i));
  return key;
}
