// The public API of proxy-wasm-as: `import { ... } from "proxy-wasm-as"`.
// The ABI callbacks live in ./exports (re-exported by each filter's entry file).
import "./runtime/abort";

export {
  Action, BufferType, FilterDataStatus, FilterHeadersStatus, FilterStatus, FilterTrailersStatus, GrpcStatus, LogLevel,
  MapType, MetricType, PeerType, StreamType, WasmResult, wasmResultName,
} from "./abi/enums";
export { lastWasmResult, setEffectiveContext } from "./runtime/state";
export { pendingCallouts } from "./runtime/callouts";

export { Context, HttpContext, RootContext, TcpContext } from "./context/contexts";
export { RootContextFactory, liveContextCounts, registerRootContext } from "./context/registry";

export * from "./api/log";
export * from "./api/headers";
export * from "./api/buffers";
export * from "./api/properties";
export * from "./api/attributes";
export * from "./api/stream";
export * from "./api/callouts";
export * from "./api/shared";
export * from "./api/metrics";
export * from "./api/time";
export * from "./api/config";
export * from "./api/foreign";

export * from "./codec/pairs";
export * from "./codec/path";
export * from "./codec/values";
export * from "./codec/json";
export * from "./codec/base64";
export * from "./codec/protobuf";
export * from "./codec/struct";
export * from "./codec/node";

export * from "./match/regex";
export * from "./match/cidr";
