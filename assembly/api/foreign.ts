// Foreign functions (proxy-wasm-abi.md §2.10, §7.4): host extensions called by name. Envoy
// registers compress, uncompress, declare_property, set_envoy_filter_state, clear_route_cache
// (Envoy ≥ 1.33), and the CEL expr_* functions in some builds. They act on the effective context.
import { proxy_call_foreign_function } from "../abi/imports";
import { BufferType, WasmResult } from "../abi/enums";
import { ProtoWriter } from "../codec/protobuf";
import { OUT_PTR, OUT_SIZE, clearOut, encodeArg, encodedSize, takeBytes } from "../runtime/memory";
import { lastWasmResult, setLastResult } from "../runtime/state";
import { getBufferBytes } from "./buffers";

/** Calls the host function `name`; its result bytes (empty if none), or null (NotFound if unknown). */
export function callForeignFunction(name: string, args: ArrayBuffer | null = null): ArrayBuffer | null {
  const n = encodeArg(name);
  const argsPtr: usize = args === null ? 0 : changetype<usize>(args);
  const argsSize: usize = args === null ? 0 : <usize>args.byteLength;
  clearOut();
  const result = proxy_call_foreign_function(n, encodedSize, argsPtr, argsSize, OUT_PTR, OUT_SIZE);
  if (setLastResult(result) != WasmResult.Ok) return null;
  return takeBytes();
}

/**
 * Re-evaluates the route after request headers changed. Since Envoy 1.33 (envoy#36671) modifying
 * headers no longer clears the route cache by itself.
 */
export function clearRouteCache(): WasmResult {
  callForeignFunction("clear_route_cache");
  return lastWasmResult();
}

/** Arguments of the host's call, inside RootContext.onForeignFunction (buffer 8). */
export function getForeignFunctionArguments(): ArrayBuffer | null {
  return getBufferBytes(BufferType.ForeignFunctionArguments);
}

/** Envoy's WasmType for declared filter state (source/extensions/common/wasm/ext/declare_property.proto). */
export enum PropertyType {
  Bytes = 0,
  String = 1,
  /** `schema` holds the reflection (bfbs) schema. */
  FlatBuffers = 2,
  /** `schema` holds the type URL, e.g. "type.googleapis.com/google.protobuf.Struct". */
  Protobuf = 3,
}

/** How long declared filter state lives (declare_property.proto LifeSpan). */
export enum PropertyLifeSpan {
  FilterChain = 0,
  DownstreamRequest = 1,
  DownstreamConnection = 2,
}

/** Serialized DeclarePropertyArguments{name = 1, readonly = 2, type = 3, schema = 4, span = 5}. */
export function encodeDeclarePropertyArguments(
  name: string, type: PropertyType, span: PropertyLifeSpan, schema: string, readonly: bool,
): ArrayBuffer {
  // Proto3: fields at their default value are left out, as protobuf's serializer does.
  const w = new ProtoWriter();
  if (name.length > 0) w.string(1, name);
  if (readonly) w.bool(2, true);
  if (type != PropertyType.Bytes) w.uint32(3, type);
  if (schema.length > 0) w.string(4, schema);
  if (span != PropertyLifeSpan.FilterChain) w.uint32(5, span);
  return w.finish();
}

/**
 * Types the filter state that setProperty([name], ...) creates (Envoy foreign function
 * `declare_property`, proxy-wasm-abi.md §7.4), e.g. so that CEL and access logs see a Protobuf
 * Struct rather than bytes; reading [name] back still gives the stored bytes. Envoy keeps the
 * declaration in the context that makes it and setProperty consults the root context's, so call it
 * from RootContext.onConfigure. BadArgument if `name` was declared before; NotFound on hosts
 * without the function.
 */
export function declareProperty(
  name: string, type: PropertyType, span: PropertyLifeSpan = PropertyLifeSpan.FilterChain, schema: string = "",
  readonly: bool = false,
): WasmResult {
  callForeignFunction("declare_property", encodeDeclarePropertyArguments(name, type, span, schema, readonly));
  return lastWasmResult();
}
