// Envoy's own extension env.envoy_resolve_dns (proxy-wasm-abi.md §2.11, §3.5): resolves a name
// asynchronously and calls envoy_on_resolve_dns(root, token, size) with the result in the
// CallData buffer — u32 N, N × u32 TTL, then N NUL-terminated addresses (Envoy onResolveDns);
// a failed resolution delivers size 0.
import { lookup } from "node:dns/promises";
import { RootContext } from "../root-context.js";
import { WasmResult } from "../types.js";
import type { WasmVm } from "../vm.js";
import { contextOf, type HostFunctions } from "./common.js";

const dnsTokens = new WeakMap<WasmVm, number>();

export const dnsHostFunctions: HostFunctions = {
  envoy_resolve_dns(vm: WasmVm, addressPtr: number, addressSize: number, tokenPtr: number): number {
    const address = vm.getLatin1(addressPtr, addressSize);
    if (address === null) return WasmResult.InvalidMemoryAccess;
    const root = contextOf(vm).rootContext();
    const token = ((dnsTokens.get(vm) ?? 0) + 1) >>> 0 || 1;
    dnsTokens.set(vm, token);
    if (!vm.setWord(tokenPtr, token)) return WasmResult.InvalidMemoryAccess;
    if (!(root instanceof RootContext)) return WasmResult.Ok;
    lookup(address, { all: true }).then(
      (results) => deliver(vm, root, token, results.map((r) => r.address)),
      () => deliver(vm, root, token, null),
    );
    return WasmResult.Ok;
  },
};

function deliver(vm: WasmVm, root: RootContext, token: number, addresses: string[] | null): void {
  if (root.deleted || vm.failed || !vm.has("envoy_on_resolve_dns")) return;
  let data = new Uint8Array(0);
  if (addresses) {
    const header = Buffer.alloc(4 + 4 * addresses.length);
    header.writeUInt32LE(addresses.length, 0);
    data = Buffer.concat([header, ...addresses.map((a) => Buffer.from(`${a}\0`, "latin1"))]);
  }
  root.callData = data;
  try {
    vm.withDeferredActions(() => vm.call("envoy_on_resolve_dns", root, root.id, token, data.length));
  } finally {
    root.callData = null;
  }
}
