// Compatibility entry point for filters written against @solo-io/proxy-runtime (sdk-anchors.md
// §3.1): its API on top of this SDK. Migrating is changing the two import specifiers:
//
//   export * from "proxy-wasm-as/assembly/proxy-runtime/proxy";   // was "@solo-io/proxy-runtime/proxy"
//   import { RootContext, Context, ... } from "proxy-wasm-as/assembly/proxy-runtime";   // was "@solo-io/proxy-runtime"
//
// Every difference from proxy-runtime, and how to move on to the SDK's own API, is in
// docs/migrating-from-proxy-runtime.md.
import "./abort";

export * from "./enums";
export {
  HeaderPair, Headers, makeHeaderPair, stream_context, add_header_map_value, add_header_map_value_string,
  get_header_map_value, get_header_map_value_or_null, replace_header_map_value, replace_header_map_value_string,
  remove_header_map_value, remove_header_map_value_string, get_header_map_size,
} from "./headers";
export * from "./runtime";
export * from "./metrics";
export { BaseContext, Context, HttpCallback, HttpCallbackFunction, RootContext, pendingHttpCallbacks } from "./contexts";
export { RootContextFactory, registerRootContext } from "./registry";
