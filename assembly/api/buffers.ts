// Buffers (proxy-wasm-abi.md §2.4): bodies, TCP data, call responses, configurations, foreign
// function arguments. Reading clamps to what is there. Writing follows Envoy's
// `Buffer::copyFrom`, which supports only three edits: start 0 drains `size` bytes then prepends
// (so 0/0 prepends and 0/everything replaces), and start ≥ current length appends; anything else is
// BadArgument. Configurations and call responses are read-only (BadArgument).
import { proxy_get_buffer_bytes, proxy_get_buffer_status, proxy_set_buffer_bytes } from "../abi/imports";
import { BufferType, WasmResult } from "../abi/enums";
import { OUT_PTR, OUT_SIZE, OUT_VALUE, clearOut, encodeArg, encodedSize, takeBytes, takeString } from "../runtime/memory";
import { setLastResult } from "../runtime/state";

/**
 * "To the end" for reads and "everything" for replace/append. i32.MAX rather than u32.MAX: the Go
 * SDK uses math.MaxInt32 for the same edits in production, and hosts that treat the argument as
 * signed still see a large positive number.
 */
export const BUFFER_END: u32 = <u32>i32.MAX_VALUE;

/** Bytes [start, start+maxSize) of the buffer (clamped); null if not available now. */
export function getBufferBytes(type: BufferType, start: u32 = 0, maxSize: u32 = BUFFER_END): ArrayBuffer | null {
  clearOut();
  if (setLastResult(proxy_get_buffer_bytes(type, start, maxSize, OUT_PTR, OUT_SIZE)) != WasmResult.Ok) return null;
  return takeBytes();
}

/** getBufferBytes decoded as UTF-8. */
export function getBufferString(type: BufferType, start: u32 = 0, maxSize: u32 = BUFFER_END): string | null {
  clearOut();
  if (setLastResult(proxy_get_buffer_bytes(type, start, maxSize, OUT_PTR, OUT_SIZE)) != WasmResult.Ok) return null;
  return takeString();
}

/** Current length of the buffer, or -1 if it is not available now (see lastWasmResult). */
export function getBufferSize(type: BufferType): i64 {
  store<u64>(OUT_VALUE, 0);
  if (setLastResult(proxy_get_buffer_status(type, OUT_VALUE, OUT_VALUE + 4)) != WasmResult.Ok) return -1;
  return <i64>load<u32>(OUT_VALUE);
}

/** The raw edit: see the rules above. */
export function setBufferBytes(type: BufferType, start: u32, size: u32, data: ArrayBuffer): WasmResult {
  return proxy_set_buffer_bytes(type, start, size, changetype<usize>(data), data.byteLength);
}

export function appendBufferBytes(type: BufferType, data: ArrayBuffer): WasmResult {
  return proxy_set_buffer_bytes(type, BUFFER_END, 0, changetype<usize>(data), data.byteLength);
}

export function prependBufferBytes(type: BufferType, data: ArrayBuffer): WasmResult {
  return proxy_set_buffer_bytes(type, 0, 0, changetype<usize>(data), data.byteLength);
}

/** Replaces the whole buffer. */
export function replaceBufferBytes(type: BufferType, data: ArrayBuffer): WasmResult {
  return proxy_set_buffer_bytes(type, 0, BUFFER_END, changetype<usize>(data), data.byteLength);
}

/** The raw edit with UTF-8 text, encoded into scratch (no garbage). */
export function setBufferString(type: BufferType, start: u32, size: u32, text: string): WasmResult {
  const data = encodeArg(text);
  return proxy_set_buffer_bytes(type, start, size, data, encodedSize);
}

export function appendBufferString(type: BufferType, text: string): WasmResult {
  return setBufferString(type, BUFFER_END, 0, text);
}

export function prependBufferString(type: BufferType, text: string): WasmResult {
  return setBufferString(type, 0, 0, text);
}

export function replaceBufferString(type: BufferType, text: string): WasmResult {
  return setBufferString(type, 0, BUFFER_END, text);
}
