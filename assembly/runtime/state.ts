// Per-callback state: which context the host is currently acting on, the host's log level
// (fetched at most once per callback, and only if something wants to log), and the status of
// the last host call made through a value-returning SDK function.
import { proxy_get_log_level, proxy_set_effective_context } from "../abi/imports";
import { LogLevel, WasmResult } from "../abi/enums";
import { OUT_VALUE } from "./memory";

/**
 * The context host calls apply to: the context of the running callback, or the one passed to
 * `setEffectiveContext` since (the host resets its own effective context on every callback entry,
 * proxy-wasm-abi.md §2.1).
 */
export let currentContextId: u32 = 0;

// Before the first callback (`_initialize` runs top-level code) the host only allows `proxy_log`
// (§2.12), so the level is not asked for: everything is sent and the host filters.
let logLevel: i32 = LogLevel.Trace;
let logLevelKnown = true;

/** Called first by every exported callback. */
// @ts-ignore: decorator
@inline export function enterCallback(contextId: u32): void {
  currentContextId = contextId;
  logLevelKnown = false;
}

export function activeLogLevel(): i32 {
  if (!logLevelKnown) {
    logLevelKnown = true;
    store<u32>(OUT_VALUE, LogLevel.Trace);
    logLevel = proxy_get_log_level(OUT_VALUE) == WasmResult.Ok ? load<i32>(OUT_VALUE) : LogLevel.Trace;
  }
  return logLevel;
}

let lastResult: WasmResult = WasmResult.Ok;

/**
 * The status of the last host call made by an SDK function that returns a value (a string, bytes,
 * a token) rather than a status. Use it to tell apart the reasons for a `null`/0 result, e.g.
 * NotFound (absent) from BadArgument (not available in this callback).
 */
export function lastWasmResult(): WasmResult {
  return lastResult;
}

// @ts-ignore: decorator
@inline export function setLastResult(result: i32): i32 {
  lastResult = result;
  return result;
}

/**
 * Makes `contextId` the context of the following host calls until the current callback returns
 * (`proxy_set_effective_context`). Unknown or deleted contexts give BadArgument.
 */
export function setEffectiveContext(contextId: u32): WasmResult {
  const result = proxy_set_effective_context(contextId);
  if (result == WasmResult.Ok) currentContextId = contextId;
  return result;
}

/** Makes `contextId` effective unless it already is; false if the host refused. */
export function activateContext(contextId: u32): bool {
  return contextId == currentContextId || setEffectiveContext(contextId) == WasmResult.Ok;
}
