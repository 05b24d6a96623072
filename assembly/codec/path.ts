// Property paths (proxy-wasm-abi.md §5.2): segments joined by a single 0x00, no trailing NUL, e.g.
// ["request", "headers", ":path"] → "request\0headers\0:path". Each segment indexes a map key, a
// protobuf field name or a list index in Envoy's attribute tree (§7.2).
// Pure code: no host imports.
import { putUtf8 } from "./utf8";

/** Upper bound of the encoded size of `segments`. */
export function pathMaxSize(segments: string[]): usize {
  let size: usize = 0;
  for (let i = 0, n = segments.length; i < n; i++) size += <usize>unchecked(segments[i]).length * 3 + 1;
  return size;
}

/** Writes the NUL-joined UTF-8 path at `ptr` (room for pathMaxSize bytes); returns its size. */
export function writePath(segments: string[], ptr: usize): usize {
  let at = ptr;
  for (let i = 0, n = segments.length; i < n; i++) {
    if (i > 0) store<u8>(at++, 0);
    const s = unchecked(segments[i]);
    at += putUtf8(s, at);
  }
  return at - ptr;
}

/** Encodes a property path. */
export function encodePath(segments: string[]): ArrayBuffer {
  const tmp = heap.alloc(pathMaxSize(segments));
  const size = writePath(segments, tmp);
  const out = new ArrayBuffer(<i32>size);
  memory.copy(changetype<usize>(out), tmp, size);
  heap.free(tmp);
  return out;
}

/** Splits an encoded path back into segments (a trailing NUL, which Envoy tolerates, is dropped). */
export function decodePath(path: ArrayBuffer): string[] {
  const out = new Array<string>();
  const ptr = changetype<usize>(path);
  let size = <usize>path.byteLength;
  if (size == 0) return out;
  if (load<u8>(ptr + size - 1) == 0) size--;
  let start: usize = 0;
  for (let i: usize = 0; i <= size; i++) {
    if (i == size || load<u8>(ptr + i) == 0) {
      out.push(String.UTF8.decodeUnsafe(ptr + start, i - start));
      start = i + 1;
    }
  }
  return out;
}
