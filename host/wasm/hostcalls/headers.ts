// Header, trailer and metadata maps (proxy-wasm-abi.md §2.5, §4.3, §5.1), as Envoy's Context
// implements them: keys lower-cased, first value on get, byte size for get_header_map_size,
// malformed pair buffers read as an empty map, availability per phase.
import { decodePairs } from "../pairs.js";
import { mapTypeMax, WasmResult } from "../types.js";
import type { WasmVm } from "../vm.js";
import { contextOf, lowerCaseHeaderName, type HostFunctions } from "./common.js";

export const headerHostFunctions: HostFunctions = {
  proxy_get_header_map_value(vm: WasmVm, type: number, keyPtr: number, keySize: number, valuePtrPtr: number, valueSizePtr: number): number {
    if (type > mapTypeMax) return WasmResult.BadArgument;
    const ctx = contextOf(vm);
    const key = vm.getLatin1(keyPtr, keySize);
    if (key === null) return WasmResult.InvalidMemoryAccess;
    const abi010 = vm.abiVersion === "0.1.0";
    const map = ctx.getConstMap(type);
    let value: string | undefined;
    if (!map) {
      // Maps may be gone in the access-log phase; elsewhere an unavailable map is BadArgument.
      if (!ctx.accessLogPhase) return WasmResult.BadArgument;
      if (!abi010) return WasmResult.NotFound;
    } else {
      value = map.get(lowerCaseHeaderName(key));
      if (value === undefined && !abi010) return WasmResult.NotFound;
    }
    return vm.copyStringToPointerSize(value ?? "", "latin1", valuePtrPtr, valueSizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },

  // An absent map reads as an empty one (never BadArgument).
  proxy_get_header_map_pairs(vm: WasmVm, type: number, ptrPtr: number, sizePtr: number): number {
    if (type > mapTypeMax) return WasmResult.BadArgument;
    const map = contextOf(vm).getConstMap(type);
    return vm.copyPairsToPointerSize(map ? map.entryList() : [], ptrPtr, sizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },

  // Removes every entry then adds the pairs; a malformed buffer parses as empty and wipes the map.
  proxy_set_header_map_pairs(vm: WasmVm, type: number, ptr: number, size: number): number {
    if (type > mapTypeMax) return WasmResult.BadArgument;
    const ctx = contextOf(vm);
    const data = vm.getMemory(ptr, size);
    if (data === null) return WasmResult.InvalidMemoryAccess;
    const map = ctx.getMap(type);
    if (!map) return WasmResult.BadArgument;
    const pairs = decodePairs(data);
    map.clear();
    for (const [k, v] of pairs) map.add(lowerCaseHeaderName(k), v);
    ctx.onHeadersModified(type);
    return WasmResult.Ok;
  },

  proxy_add_header_map_value(vm: WasmVm, type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
    return editMap(vm, type, keyPtr, keySize, valuePtr, valueSize, (map, k, v) => map.add(k, v));
  },

  proxy_replace_header_map_value(vm: WasmVm, type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
    return editMap(vm, type, keyPtr, keySize, valuePtr, valueSize, (map, k, v) => map.set(k, v));
  },

  proxy_remove_header_map_value(vm: WasmVm, type: number, keyPtr: number, keySize: number): number {
    return editMap(vm, type, keyPtr, keySize, 0, 0, (map, k) => map.remove(k));
  },

  // Envoy writes HeaderMap::byteSize(), not the entry count.
  proxy_get_header_map_size(vm: WasmVm, type: number, sizePtr: number): number {
    if (type > mapTypeMax) return WasmResult.BadArgument;
    const map = contextOf(vm).getMap(type);
    if (!map) return WasmResult.BadArgument;
    return vm.setWord(sizePtr, map.byteSize()) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
};

function editMap(
  vm: WasmVm,
  type: number,
  keyPtr: number,
  keySize: number,
  valuePtr: number,
  valueSize: number,
  edit: (map: import("../../http/header-map.js").HeaderMap, key: string, value: string) => void,
): number {
  if (type > mapTypeMax) return WasmResult.BadArgument;
  const ctx = contextOf(vm);
  const key = vm.getLatin1(keyPtr, keySize);
  const value = vm.getLatin1(valuePtr, valueSize);
  if (key === null || value === null) return WasmResult.InvalidMemoryAccess;
  const map = ctx.getMap(type);
  if (!map) return WasmResult.BadArgument;
  edit(map, lowerCaseHeaderName(key), value);
  ctx.onHeadersModified(type);
  return WasmResult.Ok;
}
