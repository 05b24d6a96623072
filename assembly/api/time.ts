// Clocks and the tick timer (proxy-wasm-abi.md §2.2, §2.12, §8.2).
import { proxy_get_current_time_nanoseconds, proxy_set_tick_period_milliseconds, wasi_clock_time_get } from "../abi/imports";
import { WasmResult } from "../abi/enums";
import { OUT_VALUE } from "../runtime/memory";
import { setLastResult } from "../runtime/state";

/** Wall-clock time in ns since the epoch (Envoy's `timeSource().systemTime()`); 0 on failure. */
export function getCurrentTimeNanoseconds(): u64 {
  store<u64>(OUT_VALUE, 0);
  if (setLastResult(proxy_get_current_time_nanoseconds(OUT_VALUE)) != WasmResult.Ok) return 0;
  return load<u64>(OUT_VALUE);
}

/**
 * Monotonic time in ns, for measuring durations (wall-clock time can jump). Uses WASI
 * `clock_time_get(1)`, which Envoy provides (it is only imported by modules that call this).
 * Returns 0 if the host has no monotonic clock (older proxy-wasm-cpp-host answers ENOTSUP).
 */
export function getMonotonicTimeNanoseconds(): u64 {
  store<u64>(OUT_VALUE, 0);
  if (wasi_clock_time_get(1, 1, OUT_VALUE) != 0) return 0;
  return load<u64>(OUT_VALUE);
}

/**
 * Calls the plugin's RootContext.onTick every `periodMilliseconds` (first tick after one period);
 * 0 stops it. Always applies to the root context, whichever context calls it.
 */
export function setTickPeriodMilliseconds(periodMilliseconds: u32): WasmResult {
  return proxy_set_tick_period_milliseconds(periodMilliseconds);
}
