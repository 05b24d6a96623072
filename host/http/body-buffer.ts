// Envoy's Buffer::Instance, reduced to what filters and the filter manager use.
export class BodyBuffer {
  private chunks: Buffer[] = [];
  private len = 0;

  constructor(initial?: Uint8Array | string) {
    if (initial !== undefined) this.append(initial);
  }

  get length(): number {
    return this.len;
  }

  append(data: Uint8Array | string): void {
    const b = typeof data === "string" ? Buffer.from(data, "latin1") : Buffer.from(data);
    if (b.length === 0) return;
    this.chunks.push(b);
    this.len += b.length;
  }

  prepend(data: Uint8Array | string): void {
    const b = typeof data === "string" ? Buffer.from(data, "latin1") : Buffer.from(data);
    if (b.length === 0) return;
    this.chunks.unshift(b);
    this.len += b.length;
  }

  /** Removes the first n bytes. */
  drain(n: number): void {
    const all = this.toBuffer();
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.len = Math.max(0, all.length - n);
  }

  /** Moves all of other's bytes to the end of this buffer, leaving other empty. */
  move(other: BodyBuffer): void {
    for (const c of other.chunks) this.chunks.push(c);
    this.len += other.len;
    other.chunks = [];
    other.len = 0;
  }

  /** A copy of bytes [start, start+length), clamped to the buffer. */
  slice(start: number, length: number): Buffer {
    const all = this.toBuffer();
    return Buffer.from(all.subarray(Math.min(start, all.length), Math.min(start + length, all.length)));
  }

  toBuffer(): Buffer {
    if (this.chunks.length !== 1) this.chunks = this.chunks.length ? [Buffer.concat(this.chunks)] : [];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  toString(encoding: BufferEncoding = "utf8"): string {
    return this.toBuffer().toString(encoding);
  }
}
