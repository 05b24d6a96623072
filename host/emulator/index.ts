// Public entry of the test emulator: `import { Emulator } from "../../host/emulator/index.js"`.
export { Emulator, EmulatedPlugin, type EmulatorOptions, type PluginOptions, type StreamOptions } from "./emulator.js";
export { EmulatedStream, type FilterCall, type ReceivedMessage } from "./stream.js";
export { PendingGrpcCall, PendingHttpCall, ScriptedClusterManager, toHeaderMap, type HeadersInit, type HttpCalloutResponse, type HttpResponder } from "./clusters.js";
export { VirtualClock } from "./clock.js";
export { MemoryLogger, type LogEntry } from "./logger.js";
export { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus } from "../http/filter.js";
export { WasmLoadError } from "../wasm/loader.js";
