// Foreign functions (proxy_call_foreign_function, proxy-wasm-abi.md §2.10, §7.4): the ones Envoy
// registers (foreign.cc) — compress, uncompress, declare_property, set_envoy_filter_state,
// clear_route_cache — plus any the embedder adds (the emulator lets tests register their own).
// Unknown names are NotFound, which is also what Envoy builds without the CEL parser answer for
// expr_create/expr_evaluate/expr_delete.
import { deflateSync, inflateSync } from "node:zlib";
import type { StatePrototype } from "../context.js";
import { WasmResult } from "../types.js";
import type { ForeignFunction, WasmVm } from "../vm.js";
import { contextOf, readBytes, type HostFunctions } from "./common.js";

export const foreignHostFunctions: HostFunctions = {
  proxy_call_foreign_function(vm: WasmVm, namePtr: number, nameSize: number, argsPtr: number, argsSize: number, resultPtrPtr: number, resultSizePtr: number): number {
    const name = vm.getLatin1(namePtr, nameSize);
    if (name === null) return WasmResult.InvalidMemoryAccess;
    const args = readBytes(vm, argsPtr, argsSize);
    if (args === null) return WasmResult.InvalidMemoryAccess;
    const f = vm.integration.foreignFunctions.get(name) ?? envoyForeignFunctions.get(name);
    if (!f) return WasmResult.NotFound;
    const { status, result } = f(vm, args);
    let address = 0;
    const size = result?.length ?? 0;
    // The result is allocated in the VM only when the caller asked for it (non-zero pointer).
    if (result && size > 0 && resultPtrPtr !== 0) {
      const p = vm.allocMemory(size);
      if (p === null) return WasmResult.InvalidMemoryAccess;
      vm.bytes.set(result, p);
      address = p;
    }
    if (resultPtrPtr !== 0 && !vm.setWord(resultPtrPtr, address)) return WasmResult.InvalidMemoryAccess;
    if (resultSizePtr !== 0 && !vm.setWord(resultSizePtr, size)) return WasmResult.InvalidMemoryAccess;
    return status;
  },
};

/** Filter-state object factories Envoy registers by name (set_envoy_filter_state needs one). */
const envoyFilterStateFactories = new Set([
  "envoy.string",
  "envoy.tcp_proxy.cluster",
  "envoy.network.upstream_server_name",
  "envoy.network.application_protocols",
  "envoy.network.upstream_subject_alt_names",
  "envoy.upstream.dynamic_host",
  "envoy.upstream.dynamic_port",
  "envoy.network.transport_socket.original_dst_address",
]);

/** Envoy's WasmType enum (ext/declare_property.proto): Bytes = 0, String = 1, FlatBuffers = 2, Protobuf = 3. */
const celStateTypes: StatePrototype["type"][] = ["bytes", "string", "flatbuffers", "protobuf"];

export const envoyForeignFunctions = new Map<string, ForeignFunction>([
  // zlib compress(): deflate with the zlib wrapper at the default level, like Node's deflateSync.
  ["compress", (_vm, args) => ({ status: WasmResult.Ok, result: deflateSync(args) })],
  [
    "uncompress",
    (_vm, args) => {
      try {
        return { status: WasmResult.Ok, result: inflateSync(args) };
      } catch {
        return { status: WasmResult.SerializationFailure };
      }
    },
  ],
  [
    // DeclarePropertyArguments{name=1, readonly=2, type=3, schema=4, span=5} (Envoy
    // source/extensions/common/wasm/ext/declare_property.proto; an unknown type stays Bytes, as in
    // foreign.cc); a second declaration of the same name is BadArgument. The span (filter-state
    // life span) has no observable effect on a single stream here.
    "declare_property",
    (vm, args) => {
      const fields = parseProto(args);
      if (!fields) return { status: WasmResult.BadArgument };
      const name = fields.bytes.get(1)?.toString("latin1") ?? "";
      const type = celStateTypes[fields.varints.get(3) ?? 0] ?? "bytes";
      const schema = fields.bytes.get(4)?.toString("latin1") ?? "";
      const ctx = contextOf(vm);
      if (ctx.statePrototypes.has(name)) return { status: WasmResult.BadArgument };
      ctx.statePrototypes.set(name, { type, readOnly: (fields.varints.get(2) ?? 0) !== 0, ...(schema ? { schema } : {}) });
      return { status: WasmResult.Ok };
    },
  ],
  [
    // SetEnvoyFilterStateArguments{path=1, value=2}: needs a registered object factory.
    "set_envoy_filter_state",
    (vm, args) => {
      const fields = parseProto(args);
      if (!fields) return { status: WasmResult.BadArgument };
      const path = fields.bytes.get(1)?.toString("latin1") ?? "";
      if (!envoyFilterStateFactories.has(path)) return { status: WasmResult.NotFound };
      const info = contextOf(vm).streamInfo();
      if (!info) return { status: WasmResult.NotFound };
      info.filterState.set(path, { bytes: Uint8Array.from(fields.bytes.get(2) ?? []), type: "string", readOnly: false });
      return { status: WasmResult.Ok };
    },
  ],
  [
    // Envoy ≥ 1.33 no longer clears the route cache when request headers change (PR #36671).
    "clear_route_cache",
    (vm) => {
      contextOf(vm).clearRouteCache();
      return { status: WasmResult.Ok };
    },
  ],
]);

/** Minimal protobuf wire reader for the small argument messages above (last value wins). */
function parseProto(buf: Uint8Array): { varints: Map<number, number>; bytes: Map<number, Buffer> } | null {
  const varints = new Map<number, number>();
  const bytes = new Map<number, Buffer>();
  let pos = 0;
  const varint = (): number | null => {
    let result = 0;
    let shift = 0;
    while (pos < buf.length) {
      const b = buf[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) return null;
    }
    return null;
  };
  while (pos < buf.length) {
    const key = varint();
    if (key === null) return null;
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      const v = varint();
      if (v === null) return null;
      varints.set(field, v);
    } else if (wire === 2) {
      const len = varint();
      if (len === null || pos + len > buf.length) return null;
      bytes.set(field, Buffer.from(buf.subarray(pos, pos + len)));
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else return null;
    if (pos > buf.length) return null;
  }
  return { varints, bytes };
}
