// Public entry of the test emulator: `import { Emulator } from "../../host/emulator/index.js"`.
export { Emulator, EmulatedPlugin, type ConnectionOptions, type EmulatorOptions, type PluginOptions, type StreamOptions } from "./emulator.js";
export { EmulatedStream, type FilterCall, type MetadataInit, type ReceivedMessage } from "./stream.js";
export { EmulatedConnection, type ConnectionRequest, type NetworkFilterCall, type ReceivedBytes } from "./connection.js";
export { NetworkFilterStatus } from "../wasm/network-filter.js";
export { PeerType } from "../wasm/types.js";
export { PendingGrpcCall, PendingHttpCall, ScriptedClusterManager, toHeaderMap, type HeadersInit, type HttpCalloutResponse, type HttpResponder } from "./clusters.js";
export { VirtualClock } from "./clock.js";
export { MemoryLogger, type LogEntry } from "./logger.js";
export { FilterDataStatus, FilterHeadersStatus, FilterMetadataStatus, FilterTrailersStatus } from "../http/filter.js";
export { WasmLoadError } from "../wasm/loader.js";
