// proxy-runtime's free functions, on top of the SDK. Names, parameters and result objects are
// proxy-runtime's; what changed is that nothing aborts the VM on a host status (results carry it),
// logging honours Envoy's level, and the calls that used ABI 0.1.0 imports Envoy no longer
// provides (proxy_clear_route_cache, proxy_get_configuration) use their 0.2.1 equivalents.
import {
  BufferType, LogLevel, StreamType, callForeignFunction, clearRouteCache, continueStream,
  dequeueSharedQueue, done as sdkDone, enqueueSharedQueue, getBufferBytes, getBufferSize, getCurrentTimeNanoseconds,
  getProperty, getSharedData, getStatus, lastWasmResult, log as sdkLog, logEnabled, registerSharedQueue,
  resolveSharedQueue, sendLocalResponseRaw, setEffectiveContext, setProperty, setSharedData, setTickPeriodMilliseconds,
} from "../index";
import { BufferTypeValues, GrpcStatusValues, LogLevelValues, WasmResultValues } from "./enums";
import { Headers, pairsToBytes } from "./headers";
import { reportFailure } from "./report";

const EMPTY = new ArrayBuffer(0);

// ---- logging ----

/** Logs `logMessage` at `level` if Envoy's wasm log level lets it through (else nothing is sent). */
export function log(level: LogLevelValues, logMessage: string): void {
  sdkLog(<LogLevel>level, logMessage);
}

/** Envoy's current wasm log level (6 when logging is off). */
export function logLevel(): LogLevelValues {
  for (let level = LogLevel.Trace; level <= LogLevel.Critical; level++) {
    if (logEnabled(level)) return <LogLevelValues>level;
  }
  return <LogLevelValues>LogLevel.Off;
}

// ---- time ----

/** Applies to the caller's root context, whichever context calls (proxy-wasm-abi.md §2.2). */
export function set_tick_period_milliseconds(millisecond: u32): WasmResultValues {
  return reportFailure("set_tick_period_milliseconds", setTickPeriodMilliseconds(millisecond));
}

/** Wall-clock time in ns since the epoch; 0 if the host refused. */
export function get_current_time_nanoseconds(): u64 {
  return getCurrentTimeNanoseconds();
}

// ---- properties ----

/**
 * A property by path, its segments separated by "\0" as in proxy-runtime (e.g.
 * "request\0path"). Empty if absent — proxy-runtime aborted the VM instead; use
 * get_property_or_null to tell absent from empty.
 */
export function get_property(path: string): ArrayBuffer {
  const value = getProperty(path.split("\0"));
  return value === null ? EMPTY : value;
}

/** The property, or null if absent (NotFound) or unreadable. */
export function get_property_or_null(path: string): ArrayBuffer | null {
  return getProperty(path.split("\0"));
}

/** Filter state "wasm.<path>" (NotFound in a root context). */
export function set_property(path: string, data: ArrayBuffer): WasmResultValues {
  return setProperty(path.split("\0"), data);
}

// ---- stream control ----

/** Resumes the current stream's request (the effective context's, inside a callout callback). */
export function continue_request(): WasmResultValues {
  return continueStream(StreamType.HttpRequest);
}

export function continue_response(): WasmResultValues {
  return continueStream(StreamType.HttpResponse);
}

/**
 * Answers the current stream from the filter. Envoy sends the reply after the callback returns and
 * turns the callback's result into a stop; whitespace in the details becomes "_" (§2.6).
 */
export function send_local_response(
  response_code: u32, response_code_details: string, body: ArrayBuffer, additional_headers: Headers,
  grpc_status: GrpcStatusValues,
): WasmResultValues {
  return sendLocalResponseRaw(response_code, response_code_details, body, pairsToBytes(additional_headers), grpc_status);
}

/**
 * Re-evaluates the route after request headers changed, through Envoy's `clear_route_cache`
 * foreign function (Envoy ≥ 1.33): proxy-runtime imported the ABI 0.1.0 function of that name,
 * which Envoy does not provide, so the module failed to load.
 */
export function clear_route_cache(): WasmResultValues {
  return clearRouteCache();
}

/** Completes a root context whose onDone returned false. */
export function done(): WasmResultValues {
  return sdkDone();
}

/** Makes `_id` the context that following calls act on, until the callback returns. */
export function proxy_set_effective_context(_id: u32): WasmResultValues {
  return reportFailure("set_effective_context", setEffectiveContext(_id), " " + _id.toString());
}

// ---- buffers ----

/** Bytes [start, start+length) of a buffer (clamped); empty if not available in this callback. */
export function get_buffer_bytes(typ: BufferTypeValues, start: u32, length: u32): ArrayBuffer {
  const bytes = getBufferBytes(<BufferType>typ, start, length);
  return bytes === null ? EMPTY : bytes;
}

export class BufferStatusResult {
  result: WasmResultValues = WasmResultValues.Ok;
  length: usize = 0;
  /** Always 0: Envoy never reports EndOfStream here (proxy-wasm-abi.md §2.4). */
  flags: u32 = 0;
}

export function get_buffer_status(typ: BufferTypeValues): BufferStatusResult {
  const out = new BufferStatusResult();
  const size = getBufferSize(<BufferType>typ);
  if (size < 0) out.result = lastWasmResult();
  else out.length = <usize>size;
  return out;
}

// ---- status of the last callout ----

export class StatusWithData {
  /** Ok, or why there is no status. */
  result: WasmResultValues = WasmResultValues.Ok;
  status: u32 = 0;
  data: ArrayBuffer = EMPTY;
}

/** Code and message of the last gRPC close or failed HTTP call (11 "reset"). */
export function get_status(): StatusWithData {
  const out = new StatusWithData();
  const status = getStatus();
  if (status === null) {
    out.result = lastWasmResult();
  } else {
    out.status = status.code;
    out.data = String.UTF8.encode(status.message);
  }
  return out;
}

// ---- shared data ----

export class GetSharedData {
  value: ArrayBuffer | null = null;
  result: WasmResultValues = WasmResultValues.Ok;
  /** Pass to set_shared_data to write only if nobody wrote since (u32, as the ABI has it). */
  cas: u32 = 0;
}

/** Value and CAS of `key`; result NotFound (value null) if the key was never written. */
export function get_shared_data(key: string): GetSharedData {
  const out = new GetSharedData();
  const data = getSharedData(key);
  if (data === null) {
    out.result = lastWasmResult();
  } else {
    out.value = data.value;
    out.cas = data.cas;
  }
  return out;
}

/** Writes `key`; with a non-zero `cas` only if it still matches (else CasMismatch). */
export function set_shared_data(key: string, value: ArrayBuffer, cas: u32 = 0): WasmResultValues {
  return setSharedData(key, value, cas);
}

// ---- shared queues ----

export class TokenSharedQueueResult {
  result: WasmResultValues = WasmResultValues.Ok;
  token: u32 = 0;
}

function tokenResult(token: u32): TokenSharedQueueResult {
  const out = new TokenSharedQueueResult();
  out.token = token;
  if (token == 0) out.result = lastWasmResult();
  return out;
}

/** Registers the queue; this plugin's root context then receives onQueueReady for it. */
export function register_shared_queue(queue_name: string): TokenSharedQueueResult {
  return tokenResult(registerSharedQueue(queue_name));
}

/** The queue registered under `vm_id` ("" = this VM's vm_id); result NotFound if none. */
export function resolve_shared_queue(vm_id: string, queue_name: string): TokenSharedQueueResult {
  return tokenResult(resolveSharedQueue(vm_id, queue_name));
}

export class DequeueSharedQueueResult {
  /** Ok, Empty (nothing queued) or NotFound (unknown token). */
  result: WasmResultValues = WasmResultValues.Ok;
  data: ArrayBuffer | null = null;
}

export function dequeue_shared_queue(token: u32): DequeueSharedQueueResult {
  const out = new DequeueSharedQueueResult();
  out.data = dequeueSharedQueue(token);
  if (out.data === null) out.result = lastWasmResult();
  return out;
}

/** Appends `data` and notifies the queue's registrant; NotFound for an unknown token. */
export function enqueue_shared_queue(token: u32, data: ArrayBuffer): WasmResultValues {
  return enqueueSharedQueue(token, data);
}

// ---- foreign functions ----

/** Calls a host extension with a UTF-8 argument; its result, or empty if it failed (logged). */
export function call_foreign_function(function_name: string, argument: string): ArrayBuffer {
  const result = callForeignFunction(function_name, String.UTF8.encode(argument));
  if (result !== null) return result;
  reportFailure("call_foreign_function", lastWasmResult(), " " + function_name);
  return EMPTY;
}

