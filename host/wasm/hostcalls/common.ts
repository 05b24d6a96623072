// Helpers shared by the host-call families: the effective context, memory reads, and the table
// type each family exports.
import type { HostContext } from "../context.js";
import type { HostFunction, WasmVm } from "../vm.js";

/** Host functions of one family, by import name (module "env" unless the family says otherwise). */
export type HostFunctions = Record<string, HostFunction>;

/** The context a host call acts on (cpp-host contextOrEffectiveContext). */
export const contextOf = (vm: WasmVm): HostContext => vm.effectiveContext<HostContext>();

/** A copy of [ptr, ptr+len), or null when out of bounds. */
export function readBytes(vm: WasmVm, ptr: number, len: number): Uint8Array | null {
  const m = vm.getMemory(ptr, len);
  return m === null ? null : Uint8Array.from(m);
}

/** [ptr, ptr+len) decoded as UTF-8 (log messages, names), or null when out of bounds. */
export function readUtf8(vm: WasmVm, ptr: number, len: number): string | null {
  return vm.getUtf8(ptr, len);
}

/** Envoy Http::LowerCaseString: ASCII-only lower-casing of header names. */
export function lowerCaseHeaderName(s: string): string {
  // Names arrive lower-case almost always: only rewrite when there is something to rewrite.
  return hasUpperAscii.test(s) ? s.replace(upperAscii, (c) => String.fromCharCode(c.charCodeAt(0) + 32)) : s;
}
const hasUpperAscii = /[A-Z]/;
const upperAscii = /[A-Z]/g;
