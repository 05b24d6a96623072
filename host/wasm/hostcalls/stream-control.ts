// Stream control and context management (proxy-wasm-abi.md §2.6, §2.10): continue/close, local
// replies (which force the current callback to stop), proxy_get_status, effective context,
// proxy_done, and ABI 0.1.0's continue_request/continue_response/clear_route_cache.
import { decodePairs } from "../pairs.js";
import type { RootContext } from "../root-context.js";
import { StreamType, WasmResult } from "../types.js";
import type { WasmVm } from "../vm.js";
import { contextOf, readBytes, type HostFunctions } from "./common.js";

export const streamControlHostFunctions: HostFunctions = {
  proxy_continue_stream(vm: WasmVm, type: number): number {
    if (type > StreamType.Upstream) return WasmResult.BadArgument;
    return contextOf(vm).continueStream(type);
  },

  proxy_close_stream(vm: WasmVm, type: number): number {
    if (type > StreamType.Upstream) return WasmResult.BadArgument;
    return contextOf(vm).closeStream(type);
  },

  proxy_continue_request(vm: WasmVm): number {
    return contextOf(vm).continueStream(StreamType.HttpRequest);
  },

  proxy_continue_response(vm: WasmVm): number {
    return contextOf(vm).continueStream(StreamType.HttpResponse);
  },

  proxy_send_local_response(
    vm: WasmVm,
    status: number,
    detailsPtr: number,
    detailsSize: number,
    bodyPtr: number,
    bodySize: number,
    headersPtr: number,
    headersSize: number,
    grpcStatus: number,
  ): number {
    const ctx = contextOf(vm);
    const details = readBytes(vm, detailsPtr, detailsSize);
    const body = readBytes(vm, bodyPtr, bodySize);
    const headers = readBytes(vm, headersPtr, headersSize);
    if (!details || !body || !headers) return WasmResult.InvalidMemoryAccess;
    // grpc_status arrives as an unsigned word: -1 (0xFFFFFFFF) means "none".
    ctx.sendLocalResponse(status, body, decodePairs(headers), grpcStatus | 0, Buffer.from(details).toString("latin1"));
    vm.nextIterationStopped = true;
    return WasmResult.Ok;
  },

  proxy_get_status(vm: WasmVm, codePtr: number, messagePtrPtr: number, messageSizePtr: number): number {
    // cpp-host exports.cc: `contextOrEffectiveContext()->root_context()->getStatus()`, so a
    // stream made effective inside a callout callback still sees the root's last call status.
    const root = contextOf(vm).rootContext();
    const [code, message] = root && root.isRoot() ? (root as RootContext).getStatus() : [0, ""];
    if (!vm.setWord(codePtr, code)) return WasmResult.InvalidMemoryAccess;
    return vm.copyToPointerSize(Buffer.from(message, "utf8"), messagePtrPtr, messageSizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },

  proxy_clear_route_cache(vm: WasmVm): number {
    contextOf(vm).clearRouteCache();
    return WasmResult.Ok;
  },

  // Unknown (or already deleted) context → BadArgument; lasts until the current callback returns.
  proxy_set_effective_context(vm: WasmVm, contextId: number): number {
    if (!vm.getContext(contextId)) return WasmResult.BadArgument;
    vm.effectiveContextId = contextId;
    return WasmResult.Ok;
  },

  proxy_done(vm: WasmVm): number {
    const root = contextOf(vm).rootContext() as RootContext | null;
    return root && root.isRoot() ? root.done() : WasmResult.NotFound;
  },
};
