// POSIX ustar archives, written deterministically: entries sorted by name, mtime 0, uid/gid 0, no
// user/group names, mode 0644. The same files therefore always give the same bytes, and so the same
// layer digest (filters.md §5.4: the compat layer is a tar+gzip holding plugin.wasm). The reader
// is what Istio's fetcher does with a layer (pkg/wasm/imagefetcher.go extractWasmPluginBinary: walk
// the entries, take the first regular file whose base name matches).

const BLOCK = 512;

export interface TarEntry {
  /** Path inside the archive, "/"-separated, relative. */
  name: string;
  data: Uint8Array;
}

export class TarFormatError extends Error {}

function writeField(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, length, "latin1");
}

/** Numeric fields are zero-padded octal followed by a NUL, as ustar requires. */
function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) throw new TarFormatError(`value ${value} does not fit a ${length}-byte tar field`);
  writeField(header, offset, length, digits.padStart(length - 1, "0") + "\0");
}

function entryHeader(name: string, size: number): Buffer {
  const nameBytes = Buffer.byteLength(name, "utf8");
  if (nameBytes === 0 || nameBytes > 100) throw new TarFormatError(`tar entry name "${name}" must be 1..100 bytes`);
  if (name.startsWith("/") || name.split("/").includes("..")) throw new TarFormatError(`tar entry name "${name}" must be relative`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  writeOctal(h, 100, 8, 0o644); // mode
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, 0); // mtime: fixed, so digests do not depend on when we built
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  writeField(h, 156, 1, "0"); // regular file
  writeField(h, 257, 6, "ustar\0");
  writeField(h, 263, 2, "00");
  writeOctal(h, 329, 8, 0); // devmajor
  writeOctal(h, 337, 8, 0); // devminor
  let sum = 0;
  for (const b of h) sum += b;
  writeField(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

export function writeTar(entries: TarEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.name === sorted[i - 1]!.name) throw new TarFormatError(`duplicate tar entry "${sorted[i]!.name}"`);
  }
  const parts: Buffer[] = [];
  for (const e of sorted) {
    parts.push(entryHeader(e.name, e.data.length), Buffer.from(e.data));
    const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(2 * BLOCK)); // end-of-archive marker
  return Buffer.concat(parts);
}

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString("utf8");
}

function readOctal(block: Buffer, offset: number, length: number, what: string, at: number): number {
  const text = readString(block, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new TarFormatError(`tar header at byte ${at}: ${what} "${text}" is not octal`);
  return text ? parseInt(text, 8) : 0;
}

export interface TarFile {
  name: string;
  /** ustar typeflag: "0" regular file, "5" directory, ... */
  type: string;
  data: Buffer;
}

/** Reads every entry of an uncompressed tar (ustar/GNU headers; long-name extensions are not needed here). */
export function readTar(archive: Uint8Array): TarFile[] {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const files: TarFile[] = [];
  let pos = 0;
  while (pos + BLOCK <= buf.length) {
    const block = buf.subarray(pos, pos + BLOCK);
    if (block.every((b) => b === 0)) return files;
    const stored = readOctal(block, 148, 8, "checksum", pos);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
    if (sum !== stored) throw new TarFormatError(`tar header at byte ${pos}: checksum ${stored} does not match ${sum}`);
    const prefix = readString(block, 345, 155);
    const base = readString(block, 0, 100);
    const size = readOctal(block, 124, 12, "size", pos);
    const type = String.fromCharCode(block[156] || 0x30);
    const start = pos + BLOCK;
    if (start + size > buf.length) throw new TarFormatError(`tar entry "${base}" at byte ${pos} runs past the end of the archive`);
    files.push({ name: prefix ? `${prefix}/${base}` : base, type, data: buf.subarray(start, start + size) });
    pos = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new TarFormatError("tar archive ends without the end-of-archive marker");
}
