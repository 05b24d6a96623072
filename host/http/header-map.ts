// Envoy's HeaderMap: an ordered multi-map whose keys are lower-cased on insertion. Keys and values
// are "byte strings" (latin1: one char per byte), because header values are arbitrary bytes in
// Envoy and Node's HTTP layer reads and writes latin1. Convert with Buffer.from(s, "latin1").
export type HeaderEntry = [key: string, value: string];

export class HeaderMap {
  private list: HeaderEntry[] = [];

  constructor(entries?: Iterable<readonly [string, string]>) {
    if (entries) for (const [k, v] of entries) this.add(k, v);
  }

  static fromObject(o: Record<string, string | string[]>): HeaderMap {
    const m = new HeaderMap();
    for (const [k, v] of Object.entries(o)) for (const x of Array.isArray(v) ? v : [v]) m.add(k, x);
    return m;
  }

  /** First value, as Envoy's `get()` returns (proxy_get_header_map_value). */
  get(key: string): string | undefined {
    const k = key.toLowerCase();
    for (const e of this.list) if (e[0] === k) return e[1];
    return undefined;
  }

  getAll(key: string): string[] {
    const k = key.toLowerCase();
    return this.list.filter((e) => e[0] === k).map((e) => e[1]);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Appends; duplicates allowed (proxy_add_header_map_value). */
  add(key: string, value: string): void {
    this.insert([key.toLowerCase(), value]);
  }

  /**
   * Envoy's HeaderMapImpl keeps pseudo-headers (":status", ":path", ...) ahead of every regular
   * header (it inserts them at `pseudo_headers_end_`), whatever order they were added in.
   */
  private insert(entry: HeaderEntry): void {
    if (entry[0].charCodeAt(0) !== 58 /* ':' */) {
      this.list.push(entry);
      return;
    }
    let i = 0;
    while (i < this.list.length && this.list[i]![0].charCodeAt(0) === 58) i++;
    this.list.splice(i, 0, entry);
  }

  /** Replaces every value of key with one, keeping the position of the first (Envoy setCopy). */
  set(key: string, value: string): void {
    const k = key.toLowerCase();
    const i = this.list.findIndex((e) => e[0] === k);
    if (i < 0) {
      this.insert([k, value]);
      return;
    }
    this.list[i] = [k, value];
    this.list = this.list.filter((e, j) => j <= i || e[0] !== k);
  }

  remove(key: string): void {
    const k = key.toLowerCase();
    this.list = this.list.filter((e) => e[0] !== k);
  }

  clear(): void {
    this.list = [];
  }

  /** Number of entries (HeaderMap::size(), the num_headers argument of proxy_on_*_headers). */
  get size(): number {
    return this.list.length;
  }

  /** Sum of key and value byte lengths (HeaderMap::byteSize(), proxy_get_header_map_size). */
  byteSize(): number {
    let n = 0;
    for (const [k, v] of this.list) n += k.length + v.length;
    return n;
  }

  entries(): HeaderEntry[] {
    return this.list.map((e) => [e[0], e[1]]);
  }

  [Symbol.iterator](): IterableIterator<HeaderEntry> {
    return this.entries()[Symbol.iterator]();
  }

  clone(): HeaderMap {
    return new HeaderMap(this.list);
  }
}
