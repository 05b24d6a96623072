// Shared data and shared queues (proxy-wasm-abi.md §2.8), scoped by the VM's vm_id.
import type { QueueRegistrant } from "../shared-state.js";
import { WasmResult } from "../types.js";
import type { WasmVm } from "../vm.js";
import { contextOf, readBytes, type HostFunctions } from "./common.js";

export const sharedHostFunctions: HostFunctions = {
  proxy_get_shared_data(vm: WasmVm, keyPtr: number, keySize: number, valuePtrPtr: number, valueSizePtr: number, casPtr: number): number {
    const key = vm.getLatin1(keyPtr, keySize);
    if (key === null) return WasmResult.InvalidMemoryAccess;
    const entry = vm.integration.shared.get(vm.integration.vmId, key);
    if (!entry) return WasmResult.NotFound;
    if (!vm.copyToPointerSize(entry.value, valuePtrPtr, valueSizePtr)) return WasmResult.InvalidMemoryAccess;
    return vm.setWord(casPtr, entry.cas) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },

  proxy_set_shared_data(vm: WasmVm, keyPtr: number, keySize: number, valuePtr: number, valueSize: number, cas: number): number {
    const key = vm.getLatin1(keyPtr, keySize);
    // A view, not a copy: SharedState.set stores its own copy before anything can touch memory.
    const value = vm.getMemory(valuePtr, valueSize);
    if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
    return vm.integration.shared.set(vm.integration.vmId, key, value, cas);
  },

  // Notifications go to the registering context's root context (cpp-host registerSharedQueue).
  proxy_register_shared_queue(vm: WasmVm, namePtr: number, nameSize: number, tokenPtr: number): number {
    const name = vm.getLatin1(namePtr, nameSize);
    if (name === null) return WasmResult.InvalidMemoryAccess;
    const root = contextOf(vm).rootContext() as unknown as QueueRegistrant | null;
    if (!root) return WasmResult.NotFound;
    const token = vm.integration.shared.registerQueue(vm.integration.vmId, name, root);
    return vm.setWord(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },

  proxy_resolve_shared_queue(vm: WasmVm, vmIdPtr: number, vmIdSize: number, namePtr: number, nameSize: number, tokenPtr: number): number {
    const vmId = vm.getLatin1(vmIdPtr, vmIdSize);
    const name = vm.getLatin1(namePtr, nameSize);
    if (vmId === null || name === null) return WasmResult.InvalidMemoryAccess;
    const token = vm.integration.shared.resolveQueue(vmId === "" ? vm.integration.vmId : vmId, name);
    if (vm.failed || token === 0) return WasmResult.NotFound;
    return vm.setWord(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },

  proxy_enqueue_shared_queue(vm: WasmVm, token: number, dataPtr: number, dataSize: number): number {
    const data = readBytes(vm, dataPtr, dataSize);
    if (data === null) return WasmResult.InvalidMemoryAccess;
    return vm.integration.shared.enqueue(token, data);
  },

  proxy_dequeue_shared_queue(vm: WasmVm, token: number, dataPtrPtr: number, dataSizePtr: number): number {
    const { status, value } = vm.integration.shared.dequeue(token);
    if (status !== WasmResult.Ok) return status;
    return vm.copyToPointerSize(value!, dataPtrPtr, dataSizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
};
