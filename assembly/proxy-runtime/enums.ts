// @solo-io/proxy-runtime's enumerations, under its names (`...Values`) and with its member names,
// so that code written against it compiles unchanged. The numbers are the proxy-wasm ABI 0.2.1
// ones (proxy-wasm-abi.md §3.6, §4). Where proxy-runtime's members are the SDK's, its enums are
// the SDK's under proxy-runtime's name. proxy-runtime's releases before 0.1.15 numbered the map
// types wrongly (a GrpcCreateInitialMetadata = 4 that the ABI does not have), which is not carried
// over.
//
// The statuses callbacks return are passed to Envoy as is (§3.6): StopIteration from a header
// callback becomes StopAllIterationAndWatermark unless allow_on_headers_stop_iteration is set,
// ContinueAndEndStream is treated as Continue, and FilterStatusValues (TCP) are never used here.
export {
  WasmResult as WasmResultValues, FilterStatus as FilterStatusValues, FilterHeadersStatus as FilterHeadersStatusValues,
  FilterTrailersStatus as FilterTrailersStatusValues, FilterDataStatus as FilterDataStatusValues,
  MetricType as MetricTypeValues, PeerType as PeerTypeValues,
} from "../index";

export enum LogLevelValues {
  trace = 0,
  debug = 1,
  info = 2,
  warn = 3,
  error = 4,
  critical = 5,
}

/** Metadata callbacks: Envoy treats every value as Continue, and the SDK does not export them. */
export enum FilterMetadataStatusValues {
  Continue = 0,
}

export enum GrpcStatusValues {
  Ok = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
  MaximumValid = 16,
  /** No gRPC status: a plain HTTP local reply. */
  InvalidCode = -1,
}

export enum HeaderMapTypeValues {
  RequestHeaders = 0,
  RequestTrailers = 1,
  ResponseHeaders = 2,
  ResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
  MAX = 7,
}

export enum BufferTypeValues {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  NetworkDownstreamData = 2,
  NetworkUpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
  MAX = 8,
}

/** Envoy never sets EndOfStream in proxy_get_buffer_status (proxy-wasm-abi.md §2.4). */
export enum BufferFlagsValues {
  EndOfStream = 1,
}

export enum StreamTypeValues {
  Request = 0,
  Response = 1,
  Downstream = 2,
  Upstream = 3,
  MAX = 3,
}
