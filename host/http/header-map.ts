// Envoy's HeaderMap: an ordered multi-map whose keys are lower-cased on insertion. Keys and values
// are "byte strings" (latin1: one char per byte), because header values are arbitrary bytes in
// Envoy and Node's HTTP layer reads and writes latin1. Convert with Buffer.from(s, "latin1").
export type HeaderEntry = [key: string, value: string];

/**
 * key.toLowerCase(), without allocating a new string for keys that are lower-case already (almost
 * all of them: host calls and the codec lower-case names first).
 */
const lowerCase = (key: string): string => (changesCase.test(key) ? key.toLowerCase() : key);
/** Characters toLowerCase may change: ASCII and Latin-1 capitals, and anything beyond Latin-1. */
const changesCase = /[A-Z\u00c0-\u00d6\u00d8-\u00de\u0100-\uffff]/;

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
    const k = lowerCase(key);
    for (const e of this.list) if (e[0] === k) return e[1];
    return undefined;
  }

  getAll(key: string): string[] {
    const k = lowerCase(key);
    return this.list.filter((e) => e[0] === k).map((e) => e[1]);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Appends; duplicates allowed (proxy_add_header_map_value). */
  add(key: string, value: string): void {
    this.insert([lowerCase(key), value]);
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
    const k = lowerCase(key);
    const i = this.list.findIndex((e) => e[0] === k);
    if (i < 0) {
      this.insert([k, value]);
      return;
    }
    this.list[i] = [k, value];
    // Later duplicates are rare: only then is the list rebuilt without them.
    if (this.list.some((e, j) => j > i && e[0] === k)) this.list = this.list.filter((e, j) => j <= i || e[0] !== k);
  }

  remove(key: string): void {
    const k = lowerCase(key);
    // Removing an absent key (the common case for filters that sanitize) leaves the list as it is.
    if (this.list.some((e) => e[0] === k)) this.list = this.list.filter((e) => e[0] !== k);
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

  /** The entries themselves, in order, for a reader that neither keeps nor changes them. */
  entryList(): ReadonlyArray<Readonly<HeaderEntry>> {
    return this.list;
  }

  [Symbol.iterator](): IterableIterator<HeaderEntry> {
    return this.entries()[Symbol.iterator]();
  }

  clone(): HeaderMap {
    return new HeaderMap(this.list);
  }
}
