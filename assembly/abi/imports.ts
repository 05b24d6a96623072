// Every host function of proxy-wasm ABI 0.2.1 with its exact Wasm signature
// (proxy-wasm-abi.md §2; host/wasm/abi.ts holds the same table for the host and the surface test).
// Pointers and sizes are i32 on wasm32; every function returns a WasmResult (i32). A declaration
// that is never called is not imported, so modules only link what they use.
// Not declared on purpose: the 0.1.0-only imports (proxy_continue_request/response,
// proxy_clear_route_cache, proxy_get_configuration), which a 0.2.1 module must not import (§1.2).

// §2.2 logging, time, timers
@external("env", "proxy_log")
export declare function proxy_log(level: i32, messagePtr: usize, messageSize: usize): i32;
@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(outLevelPtr: usize): i32;
@external("env", "proxy_get_current_time_nanoseconds")
export declare function proxy_get_current_time_nanoseconds(outTimePtr: usize): i32;
@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(periodMilliseconds: u32): i32;

// §2.3 properties
@external("env", "proxy_get_property")
export declare function proxy_get_property(pathPtr: usize, pathSize: usize, outValuePtrPtr: usize, outValueSizePtr: usize): i32;
@external("env", "proxy_set_property")
export declare function proxy_set_property(pathPtr: usize, pathSize: usize, valuePtr: usize, valueSize: usize): i32;

// §2.4 buffers
@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(bufferType: i32, start: u32, maxSize: u32, outDataPtrPtr: usize, outDataSizePtr: usize): i32;
@external("env", "proxy_set_buffer_bytes")
export declare function proxy_set_buffer_bytes(bufferType: i32, start: u32, size: u32, dataPtr: usize, dataSize: usize): i32;
@external("env", "proxy_get_buffer_status")
export declare function proxy_get_buffer_status(bufferType: i32, outLengthPtr: usize, outFlagsPtr: usize): i32;

// §2.5 header, trailer and metadata maps
@external("env", "proxy_get_header_map_pairs")
export declare function proxy_get_header_map_pairs(mapType: i32, outPairsPtrPtr: usize, outPairsSizePtr: usize): i32;
@external("env", "proxy_set_header_map_pairs")
export declare function proxy_set_header_map_pairs(mapType: i32, pairsPtr: usize, pairsSize: usize): i32;
@external("env", "proxy_get_header_map_value")
export declare function proxy_get_header_map_value(mapType: i32, keyPtr: usize, keySize: usize, outValuePtrPtr: usize, outValueSizePtr: usize): i32;
@external("env", "proxy_add_header_map_value")
export declare function proxy_add_header_map_value(mapType: i32, keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize): i32;
@external("env", "proxy_replace_header_map_value")
export declare function proxy_replace_header_map_value(mapType: i32, keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize): i32;
@external("env", "proxy_remove_header_map_value")
export declare function proxy_remove_header_map_value(mapType: i32, keyPtr: usize, keySize: usize): i32;
@external("env", "proxy_get_header_map_size")
export declare function proxy_get_header_map_size(mapType: i32, outSizePtr: usize): i32;

// §2.6 stream control and local replies
@external("env", "proxy_continue_stream")
export declare function proxy_continue_stream(streamType: i32): i32;
@external("env", "proxy_close_stream")
export declare function proxy_close_stream(streamType: i32): i32;
@external("env", "proxy_send_local_response")
export declare function proxy_send_local_response(
  statusCode: u32, detailsPtr: usize, detailsSize: usize, bodyPtr: usize, bodySize: usize,
  headersPtr: usize, headersSize: usize, grpcStatus: i32): i32;
@external("env", "proxy_get_status")
export declare function proxy_get_status(outCodePtr: usize, outMessagePtrPtr: usize, outMessageSizePtr: usize): i32;

// §2.7 HTTP and gRPC callouts
@external("env", "proxy_http_call")
export declare function proxy_http_call(
  upstreamPtr: usize, upstreamSize: usize, headersPtr: usize, headersSize: usize, bodyPtr: usize, bodySize: usize,
  trailersPtr: usize, trailersSize: usize, timeoutMilliseconds: u32, outTokenPtr: usize): i32;
@external("env", "proxy_grpc_call")
export declare function proxy_grpc_call(
  servicePtr: usize, serviceSize: usize, serviceNamePtr: usize, serviceNameSize: usize, methodPtr: usize, methodSize: usize,
  metadataPtr: usize, metadataSize: usize, messagePtr: usize, messageSize: usize, timeoutMilliseconds: u32, outTokenPtr: usize): i32;
@external("env", "proxy_grpc_stream")
export declare function proxy_grpc_stream(
  servicePtr: usize, serviceSize: usize, serviceNamePtr: usize, serviceNameSize: usize, methodPtr: usize, methodSize: usize,
  metadataPtr: usize, metadataSize: usize, outTokenPtr: usize): i32;
@external("env", "proxy_grpc_send")
export declare function proxy_grpc_send(token: u32, messagePtr: usize, messageSize: usize, endStream: u32): i32;
@external("env", "proxy_grpc_cancel")
export declare function proxy_grpc_cancel(token: u32): i32;
@external("env", "proxy_grpc_close")
export declare function proxy_grpc_close(token: u32): i32;

// §2.8 shared data and shared queues
@external("env", "proxy_get_shared_data")
export declare function proxy_get_shared_data(keyPtr: usize, keySize: usize, outValuePtrPtr: usize, outValueSizePtr: usize, outCasPtr: usize): i32;
@external("env", "proxy_set_shared_data")
export declare function proxy_set_shared_data(keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize, cas: u32): i32;
@external("env", "proxy_register_shared_queue")
export declare function proxy_register_shared_queue(namePtr: usize, nameSize: usize, outTokenPtr: usize): i32;
@external("env", "proxy_resolve_shared_queue")
export declare function proxy_resolve_shared_queue(vmIdPtr: usize, vmIdSize: usize, namePtr: usize, nameSize: usize, outTokenPtr: usize): i32;
@external("env", "proxy_enqueue_shared_queue")
export declare function proxy_enqueue_shared_queue(token: u32, dataPtr: usize, dataSize: usize): i32;
@external("env", "proxy_dequeue_shared_queue")
export declare function proxy_dequeue_shared_queue(token: u32, outDataPtrPtr: usize, outDataSizePtr: usize): i32;

// §2.9 metrics (offset and value are i64 in the Wasm signature)
@external("env", "proxy_define_metric")
export declare function proxy_define_metric(metricType: i32, namePtr: usize, nameSize: usize, outMetricIdPtr: usize): i32;
@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(metricId: u32, offset: i64): i32;
@external("env", "proxy_record_metric")
export declare function proxy_record_metric(metricId: u32, value: u64): i32;
@external("env", "proxy_get_metric")
export declare function proxy_get_metric(metricId: u32, outValuePtr: usize): i32;

// §2.10 context management and foreign functions
@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(contextId: u32): i32;
@external("env", "proxy_done")
export declare function proxy_done(): i32;
@external("env", "proxy_call_foreign_function")
export declare function proxy_call_foreign_function(
  namePtr: usize, nameSize: usize, argumentsPtr: usize, argumentsSize: usize, outResultPtrPtr: usize, outResultSizePtr: usize): i32;

// §2.12 WASI: Envoy provides clock_time_get under wasi_snapshot_preview1 (0 realtime, 1 monotonic).
@external("wasi_snapshot_preview1", "clock_time_get")
export declare function wasi_clock_time_get(clockId: u32, precision: u64, outTimePtr: usize): u32;
