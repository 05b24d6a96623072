// HTTP and gRPC callouts (proxy-wasm-abi.md §2.7, §3.5; Envoy Context::httpCall, grpcCall,
// grpcStream, grpcSend/Close/Cancel). Callouts belong to the root context; responses arrive as
// proxy_on_http_call_response / proxy_on_grpc_* on the root context id.
import { decodeToObject } from "../../envoy/protos.js";
import { HeaderMap } from "../../http/header-map.js";
import type { HostContext } from "../context.js";
import { decodePairs } from "../pairs.js";
import { RootContext } from "../root-context.js";
import { WasmResult } from "../types.js";
import type { WasmVm } from "../vm.js";
import { contextOf, lowerCaseHeaderName, readBytes, type HostFunctions } from "./common.js";

/** Callouts are issued on the caller's root context (exports.cc: WASM_CONTEXT(...)->root_context()). */
function rootOf(vm: WasmVm): RootContext | null {
  const root = (contextOf(vm) as HostContext).rootContext();
  return root instanceof RootContext ? root : null;
}

function headerMap(pairs: Array<[string, string]>): HeaderMap {
  const m = new HeaderMap();
  for (const [k, v] of pairs) m.add(lowerCaseHeaderName(k), v);
  return m;
}

export const calloutHostFunctions: HostFunctions = {
  proxy_http_call(
    vm: WasmVm,
    upstreamPtr: number,
    upstreamSize: number,
    headersPtr: number,
    headersSize: number,
    bodyPtr: number,
    bodySize: number,
    trailersPtr: number,
    trailersSize: number,
    timeoutMs: number,
    tokenPtr: number,
  ): number {
    const root = rootOf(vm);
    const upstream = vm.getLatin1(upstreamPtr, upstreamSize);
    const body = readBytes(vm, bodyPtr, bodySize);
    const headerBytes = readBytes(vm, headersPtr, headersSize);
    const trailerBytes = readBytes(vm, trailersPtr, trailersSize);
    if (upstream === null || !body || !headerBytes || !trailerBytes) return WasmResult.InvalidMemoryAccess;
    // Checked before the call starts, like cpp-host, so that a bad pointer starts nothing.
    if (!vm.setWord(tokenPtr, 0)) return WasmResult.InvalidMemoryAccess;
    if (!root) return WasmResult.NotFound;
    const { clusters } = vm.integration.server;
    if ((timeoutMs | 0) < 0) return WasmResult.BadArgument;
    if (!clusters.hasCluster(upstream)) return WasmResult.BadArgument;
    const headers = headerMap(decodePairs(headerBytes));
    if (!headers.has(":path") || !headers.has(":method") || !headers.has(":authority")) return WasmResult.BadArgument;
    if (body.length > 0) headers.set("content-length", String(body.length));
    const trailerPairs = decodePairs(trailerBytes);
    const trailers = trailerPairs.length > 0 ? headerMap(trailerPairs) : null;
    const token = vm.nextHttpCallToken();
    root.httpCalls.set(token, { cancel() {} });
    try {
      const request = clusters.httpCall(upstream, headers, Buffer.from(body), trailers, timeoutMs, {
        onSuccess: (h, b, t) => root.deliverHttpCallResponse(token, { headers: h, body: b, trailers: t }),
        onFailure: () => root.deliverHttpCallResponse(token, null),
      });
      if (root.httpCalls.has(token)) root.httpCalls.set(token, request);
    } catch {
      root.httpCalls.delete(token);
      return WasmResult.InternalFailure;
    }
    vm.setWord(tokenPtr, token);
    return WasmResult.Ok;
  },

  proxy_grpc_call(
    vm: WasmVm,
    servicePtr: number,
    serviceSize: number,
    serviceNamePtr: number,
    serviceNameSize: number,
    methodPtr: number,
    methodSize: number,
    metadataPtr: number,
    metadataSize: number,
    messagePtr: number,
    messageSize: number,
    timeoutMs: number,
    tokenPtr: number,
  ): number {
    const args = readGrpcArgs(vm, servicePtr, serviceSize, serviceNamePtr, serviceNameSize, methodPtr, methodSize, metadataPtr, metadataSize);
    const message = readBytes(vm, messagePtr, messageSize);
    if (!args || !message) return WasmResult.InvalidMemoryAccess;
    return startGrpc(vm, args, timeoutMs, tokenPtr, message);
  },

  proxy_grpc_stream(
    vm: WasmVm,
    servicePtr: number,
    serviceSize: number,
    serviceNamePtr: number,
    serviceNameSize: number,
    methodPtr: number,
    methodSize: number,
    metadataPtr: number,
    metadataSize: number,
    tokenPtr: number,
  ): number {
    const args = readGrpcArgs(vm, servicePtr, serviceSize, serviceNamePtr, serviceNameSize, methodPtr, methodSize, metadataPtr, metadataSize);
    if (!args) return WasmResult.InvalidMemoryAccess;
    return startGrpc(vm, args, 0, tokenPtr, null);
  },

  proxy_grpc_send(vm: WasmVm, token: number, messagePtr: number, messageSize: number, endStream: number): number {
    const root = rootOf(vm);
    const message = readBytes(vm, messagePtr, messageSize);
    if (!message) return WasmResult.InvalidMemoryAccess;
    if (!RootContext.isGrpcStream(token)) return WasmResult.BadArgument;
    const s = root?.grpcStreams.get(token);
    if (!s) return WasmResult.NotFound;
    s.stream?.send(Buffer.from(message), endStream !== 0);
    return WasmResult.Ok;
  },

  // Calls: cancel. Streams: half-close, forgotten once the remote side closed too.
  proxy_grpc_close(vm: WasmVm, token: number): number {
    return endGrpc(rootOf(vm), token, (root, s) => {
      s.stream?.close();
      if (s.remoteClosed) root.grpcStreams.delete(token);
      else s.localClosed = true;
    });
  },

  proxy_grpc_cancel(vm: WasmVm, token: number): number {
    return endGrpc(rootOf(vm), token, (root, s) => {
      s.stream?.cancel();
      root.grpcStreams.delete(token);
    });
  },
};

type GrpcStreamState = RootContext["grpcStreams"] extends Map<number, infer S> ? S : never;

/**
 * Envoy grpcClose/grpcCancel: a call token cancels the call either way; a stream token gets
 * `onStream`; unknown tokens are NotFound and tokens of neither kind BadArgument.
 */
function endGrpc(root: RootContext | null, token: number, onStream: (root: RootContext, s: GrpcStreamState) => void): number {
  if (RootContext.isGrpcCall(token)) {
    if (!root?.grpcCalls.has(token)) return WasmResult.NotFound;
    root.grpcCalls.get(token)?.cancel();
    root.grpcCalls.delete(token);
    return WasmResult.Ok;
  }
  if (RootContext.isGrpcStream(token)) {
    const s = root?.grpcStreams.get(token);
    if (!s) return WasmResult.NotFound;
    onStream(root!, s);
    return WasmResult.Ok;
  }
  return WasmResult.BadArgument;
}

interface GrpcArgs {
  service: Uint8Array;
  serviceName: string;
  method: string;
  metadata: HeaderMap;
}

function readGrpcArgs(
  vm: WasmVm,
  servicePtr: number,
  serviceSize: number,
  serviceNamePtr: number,
  serviceNameSize: number,
  methodPtr: number,
  methodSize: number,
  metadataPtr: number,
  metadataSize: number,
): GrpcArgs | null {
  const service = readBytes(vm, servicePtr, serviceSize);
  const serviceName = vm.getLatin1(serviceNamePtr, serviceNameSize);
  const method = vm.getLatin1(methodPtr, methodSize);
  const metadata = readBytes(vm, metadataPtr, metadataSize);
  if (!service || serviceName === null || method === null || !metadata) return null;
  return { service, serviceName, method, metadata: headerMap(decodePairs(metadata)) };
}

/**
 * Envoy: `service` is a serialized envoy.config.core.v3.GrpcService or, if it does not parse, a
 * plain cluster name (unknown → ParseFailure). A GrpcService without envoy_grpc cannot get a client
 * here (BadArgument); an unknown cluster inside one fails to start (InternalFailure).
 */
function resolveGrpcCluster(vm: WasmVm, service: Uint8Array): { cluster: string } | { status: WasmResult } {
  const { clusters } = vm.integration.server;
  let parsed: Record<string, unknown> | null = null;
  try {
    parsed = decodeToObject("envoy.config.core.v3.GrpcService", service);
  } catch {
    parsed = null;
  }
  if (parsed === null) {
    const name = Buffer.from(service).toString("latin1");
    return clusters.hasCluster(name) ? { cluster: name } : { status: WasmResult.ParseFailure };
  }
  const envoyGrpc = parsed.envoy_grpc as { cluster_name?: string } | undefined;
  if (!envoyGrpc?.cluster_name) return { status: WasmResult.BadArgument };
  if (!clusters.hasCluster(envoyGrpc.cluster_name)) return { status: WasmResult.InternalFailure };
  return { cluster: envoyGrpc.cluster_name };
}

function startGrpc(vm: WasmVm, args: GrpcArgs, timeoutMs: number, tokenPtr: number, unaryMessage: Uint8Array | null): number {
  const root = rootOf(vm);
  if (!root) return WasmResult.NotFound;
  const resolved = resolveGrpcCluster(vm, args.service);
  if ("status" in resolved) return resolved.status;
  const unary = unaryMessage !== null;
  const token = unary ? vm.nextGrpcCallToken() : vm.nextGrpcStreamToken();
  if (unary) root.grpcCalls.set(token, null);
  else root.grpcStreams.set(token, { stream: null, localClosed: false, remoteClosed: false });
  try {
    const stream = vm.integration.server.clusters.grpcStream(resolved.cluster, args.serviceName, args.method, args.metadata, timeoutMs, {
      onInitialMetadata: (m) => root.onGrpcInitialMetadata(token, m),
      onMessage: (m) => root.onGrpcMessage(token, m),
      onTrailingMetadata: (m) => root.onGrpcTrailingMetadata(token, m),
      onClose: (status, message) => root.onGrpcClose(token, status, message),
    });
    if (unary) {
      if (root.grpcCalls.has(token)) root.grpcCalls.set(token, stream);
      stream.send(Buffer.from(unaryMessage), true);
    } else {
      const s = root.grpcStreams.get(token);
      if (s) s.stream = stream;
    }
  } catch {
    root.grpcCalls.delete(token);
    root.grpcStreams.delete(token);
    return WasmResult.InternalFailure;
  }
  return vm.setWord(tokenPtr, token) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
}
