// Logging and time (proxy-wasm-abi.md §2.2): proxy_log, proxy_get_log_level,
// proxy_get_current_time_nanoseconds, proxy_set_tick_period_milliseconds.
import { logLevels, type LogLevel } from "../../envoy/server-context.js";
import type { HostContext } from "../context.js";
import { WasmResult, wasmLogLevels } from "../types.js";
import type { WasmVm } from "../vm.js";
import { contextOf, readUtf8, type HostFunctions } from "./common.js";

/** Envoy Context::log: "wasm log<prefix>: <message>" on the "wasm" logger at the given level. */
export function wasmLog(vm: WasmVm, context: HostContext, level: number, message: string): void {
  vm.integration.server.log.log("wasm", wasmLogLevels[level]!, `wasm log${context.logPrefix}: ${message}`);
}

export const loggingHostFunctions: HostFunctions = {
  proxy_log(vm: WasmVm, level: number, ptr: number, len: number): number {
    if (level > 5) return WasmResult.BadArgument;
    const message = readUtf8(vm, ptr, len);
    if (message === null) return WasmResult.InvalidMemoryAccess;
    wasmLog(vm, contextOf(vm), level, message);
    return WasmResult.Ok;
  },

  // spdlog numbering of Envoy's "wasm" logger; 6 = off.
  proxy_get_log_level(vm: WasmVm, ptr: number): number {
    const level = logLevels.indexOf(vm.integration.server.log.level("wasm") as LogLevel);
    return vm.setWord(ptr, level < 0 ? 2 : level) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },

  proxy_get_current_time_nanoseconds(vm: WasmVm, ptr: number): number {
    return vm.setU64(ptr, vm.integration.server.dispatcher.systemTimeNs()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },

  // Always the caller's root context (Envoy uses root_context()->id()); 0 disables.
  proxy_set_tick_period_milliseconds(vm: WasmVm, ms: number): number {
    const root = contextOf(vm).rootContext() as { setTickPeriod?(ms: number): void } | null;
    root?.setTickPeriod?.(ms);
    return WasmResult.Ok;
  },
};
