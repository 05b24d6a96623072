// Logging through `proxy_log`, which Envoy writes as "wasm log <plugin> <root_id> <vm_id>: <msg>".
// Nothing is encoded or sent below the host's active level: the level comes from
// `proxy_get_log_level` at most once per callback, and only when something is logged. Messages
// may be given in up to six parts, encoded straight into the scratch area, so a disabled
// `logDebug("header ", name, " = ", value)` costs one comparison and no string building.
import { proxy_log } from "../abi/imports";
import { LogLevel, WasmResult } from "../abi/enums";
import { maxUtf8, putUtf8, reserveScratch } from "../runtime/memory";
import { activeLogLevel } from "../runtime/state";

/** True if a message at `level` would be written (host level at or below it). */
export function logEnabled(level: LogLevel): bool {
  return level >= activeLogLevel();
}

/** Logs the concatenation of the parts at `level`, if enabled. */
export function log(
  level: LogLevel, a: string, b: string = "", c: string = "", d: string = "", e: string = "", f: string = "",
): WasmResult {
  if (level < activeLogLevel()) return WasmResult.Ok;
  const base = reserveScratch(maxUtf8(a) + maxUtf8(b) + maxUtf8(c) + maxUtf8(d) + maxUtf8(e) + maxUtf8(f));
  let at = base;
  at += putUtf8(a, at);
  if (b.length) at += putUtf8(b, at);
  if (c.length) at += putUtf8(c, at);
  if (d.length) at += putUtf8(d, at);
  if (e.length) at += putUtf8(e, at);
  if (f.length) at += putUtf8(f, at);
  return proxy_log(level, base, at - base);
}

export function logTrace(a: string, b: string = "", c: string = "", d: string = "", e: string = "", f: string = ""): void {
  log(LogLevel.Trace, a, b, c, d, e, f);
}
export function logDebug(a: string, b: string = "", c: string = "", d: string = "", e: string = "", f: string = ""): void {
  log(LogLevel.Debug, a, b, c, d, e, f);
}
export function logInfo(a: string, b: string = "", c: string = "", d: string = "", e: string = "", f: string = ""): void {
  log(LogLevel.Info, a, b, c, d, e, f);
}
export function logWarn(a: string, b: string = "", c: string = "", d: string = "", e: string = "", f: string = ""): void {
  log(LogLevel.Warn, a, b, c, d, e, f);
}
export function logError(a: string, b: string = "", c: string = "", d: string = "", e: string = "", f: string = ""): void {
  log(LogLevel.Error, a, b, c, d, e, f);
}
export function logCritical(a: string, b: string = "", c: string = "", d: string = "", e: string = "", f: string = ""): void {
  log(LogLevel.Critical, a, b, c, d, e, f);
}
