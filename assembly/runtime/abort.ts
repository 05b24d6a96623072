// The module's abort handler. Envoy provides no `env.abort` (proxy-wasm-abi.md §2.11, §8.1), so
// asconfig.json routes AssemblyScript's abort here with `"use": ["abort=__proxy_abort"]`: the
// message is logged at critical through `proxy_log`, then the module traps with `unreachable`,
// which Envoy reports as "Function: proxy_on_... failed: Uncaught RuntimeError: unreachable"
// plus a backtrace and handles per the plugin's failure policy (§6.5). No WASI `proc_exit`:
// Envoy's only logs and returns, and not every host provides it (Kong fork, sdk-anchors.md §3.2).
//
// The message is written into a fixed static buffer: abort may be the result of running out of
// memory, so it must not allocate.
import { proxy_log } from "../abi/imports";

const ABORT_BUFFER_SIZE: usize = 512;
const abortBuffer: usize = memory.data(<i32>ABORT_BUFFER_SIZE);
const abortEnd: usize = abortBuffer + ABORT_BUFFER_SIZE;

/**
 * Appends `s` truncated to the buffer, one byte per UTF-16 unit: ASCII as is, anything else as
 * '?'. The runtime's messages and file names are ASCII, and a byte loop is far smaller than UTF-8.
 */
function putText(s: string | null, at: usize): usize {
  if (s) {
    const end = changetype<usize>(s) + (<usize>s.length << 1);
    for (let p = changetype<usize>(s); p < end && at < abortEnd; p += 2) {
      const c = load<u16>(p);
      store<u8>(at++, c < 0x80 ? <u8>c : 0x3f);
    }
  }
  return at;
}

function putByte(c: u8, at: usize): usize {
  if (at < abortEnd) store<u8>(at++, c);
  return at;
}

function putDecimal(n: u32, at: usize): usize {
  let digits: usize = 1;
  for (let m = n; m >= 10; m /= 10) digits++;
  if (at + digits > abortEnd) return at;
  let p = at + digits;
  do {
    store<u8>(--p, 0x30 + n % 10);
    n /= 10;
  } while (n != 0);
  return at + digits;
}

/**
 * Logs the message at critical, then traps. Debug builds (optimizeLevel 0) add
 * " at <file>:<line>:<column>"; release builds leave the location out, because the file names
 * would add about half a kilobyte to every module — Envoy's backtrace of a debug build (it has a
 * name section) locates the fault instead.
 */
// @ts-ignore: decorator
@global function __proxy_abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let at = putText(message, abortBuffer);
  if (ASC_OPTIMIZE_LEVEL == 0 && fileName) {
    at = putByte(0x20, at);
    at = putByte(0x61, at); // "at "
    at = putByte(0x74, at);
    at = putByte(0x20, at);
    at = putText(fileName, at);
    at = putByte(0x3a, at);
    at = putDecimal(line, at);
    at = putByte(0x3a, at);
    at = putDecimal(column, at);
  }
  proxy_log(5 /* critical */, abortBuffer, at - abortBuffer);
  unreachable();
}
