// proxy_get_property / proxy_set_property (proxy-wasm-abi.md §2.3); the attribute tree itself is
// in ../properties.ts.
import { copyPropertyToVm, setProperty } from "../properties.js";
import { WasmResult } from "../types.js";
import type { WasmVm } from "../vm.js";
import { contextOf, readBytes, type HostFunctions } from "./common.js";

export const propertyHostFunctions: HostFunctions = {
  proxy_get_property(vm: WasmVm, pathPtr: number, pathSize: number, valuePtrPtr: number, valueSizePtr: number): number {
    const path = vm.getLatin1(pathPtr, pathSize);
    if (path === null) return WasmResult.InvalidMemoryAccess;
    return copyPropertyToVm(vm, contextOf(vm), path, valuePtrPtr, valueSizePtr);
  },

  proxy_set_property(vm: WasmVm, pathPtr: number, pathSize: number, valuePtr: number, valueSize: number): number {
    const path = readBytes(vm, pathPtr, pathSize);
    const value = readBytes(vm, valuePtr, valueSize);
    if (path === null || value === null) return WasmResult.InvalidMemoryAccess;
    return setProperty(contextOf(vm), path, value);
  },
};
