// Buffers (proxy-wasm-abi.md §2.4, §4.2): proxy_get_buffer_bytes, proxy_set_buffer_bytes,
// proxy_get_buffer_status, and ABI 0.1.0's proxy_get_configuration.
import { BufferType, bufferTypeMax, WasmResult } from "../types.js";
import type { WasmVm } from "../vm.js";
import { contextOf, readBytes, type HostFunctions } from "./common.js";

export const bufferHostFunctions: HostFunctions = {
  proxy_get_buffer_bytes(vm: WasmVm, type: number, start: number, length: number, ptrPtr: number, sizePtr: number): number {
    if (type > bufferTypeMax) return WasmResult.BadArgument;
    const buffer = contextOf(vm).getBuffer(type);
    if (!buffer) return WasmResult.NotFound;
    // cpp-host checks `start > start + length` on 64-bit words, which 32-bit arguments can never
    // overflow; out-of-range reads are clamped instead.
    const size = buffer.size();
    let len = length;
    if (start > size) len = 0;
    else if (start + len > size) len = size - start;
    if (len === 0) return vm.setWord(ptrPtr, 0) && vm.setWord(sizePtr, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    return vm.copyToPointerSize(buffer.read(start, len), ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },

  proxy_set_buffer_bytes(vm: WasmVm, type: number, start: number, length: number, dataPtr: number, dataSize: number): number {
    if (type > bufferTypeMax) return WasmResult.BadArgument;
    const buffer = contextOf(vm).getBuffer(type);
    if (!buffer) return WasmResult.NotFound;
    const data = readBytes(vm, dataPtr, dataSize);
    if (data === null) return WasmResult.InvalidMemoryAccess;
    return buffer.write(start, length, data);
  },

  // The flags word is always 0: Envoy never sets EndOfStream here.
  proxy_get_buffer_status(vm: WasmVm, type: number, lengthPtr: number, flagsPtr: number): number {
    if (type > bufferTypeMax) return WasmResult.BadArgument;
    const buffer = contextOf(vm).getBuffer(type);
    if (!buffer) return WasmResult.NotFound;
    return vm.setWord(lengthPtr, buffer.size()) && vm.setWord(flagsPtr, 0) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },

  // ABI 0.1.0: the plugin configuration inside on_configure, the VM configuration otherwise.
  proxy_get_configuration(vm: WasmVm, ptrPtr: number, sizePtr: number): number {
    const ctx = contextOf(vm);
    const buffer = ctx.getBuffer(BufferType.PluginConfiguration) ?? ctx.getBuffer(BufferType.VmConfiguration)!;
    return vm.copyToPointerSize(buffer.read(0, buffer.size()), ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
};
