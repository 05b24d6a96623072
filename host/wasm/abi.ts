// The proxy-wasm ABI as Envoy (proxy-wasm-cpp-host) links it: every import a module may use and
// every export the host looks up, with exact Wasm signatures. One table serves the host's loader
// (link and signature checks), the SDK's surface test and the benchmarks.
// Source: ../shared/reference/proxy-wasm-abi.md §1.2, §2, §3 (copied facts, not code).

export type ValType = "i32" | "i64" | "f32" | "f64";
export interface Signature {
  params: ValType[];
  results: ValType[];
}

export type AbiVersion = "0.1.0" | "0.2.0" | "0.2.1";

/** Marker exports, in the order the host recognises them (§1.1). */
export const abiMarkers: ReadonlyArray<[string, AbiVersion]> = [
  ["proxy_abi_version_0_1_0", "0.1.0"],
  ["proxy_abi_version_0_2_0", "0.2.0"],
  ["proxy_abi_version_0_2_1", "0.2.1"],
];

const sig = (params: string, results = "i32"): Signature => ({
  params: params ? (params.split(" ") as ValType[]) : [],
  results: results ? (results.split(" ") as ValType[]) : [],
});
const i32s = (n: number, results = "i32"): Signature => sig(Array(n).fill("i32").join(" "), results);

/** `env` imports available in every ABI version (HOST FOR_ALL_HOST_FUNCTIONS, §2). */
const commonEnvImports: Record<string, Signature> = {
  proxy_log: i32s(3),
  proxy_get_current_time_nanoseconds: i32s(1),
  proxy_set_tick_period_milliseconds: i32s(1),
  proxy_get_property: i32s(4),
  proxy_set_property: i32s(4),
  proxy_get_buffer_bytes: i32s(5),
  proxy_set_buffer_bytes: i32s(5),
  proxy_get_buffer_status: i32s(3),
  proxy_get_header_map_pairs: i32s(3),
  proxy_set_header_map_pairs: i32s(3),
  proxy_get_header_map_value: i32s(5),
  proxy_add_header_map_value: i32s(5),
  proxy_replace_header_map_value: i32s(5),
  proxy_remove_header_map_value: i32s(3),
  proxy_get_header_map_size: i32s(2),
  proxy_send_local_response: i32s(8),
  proxy_get_status: i32s(3),
  proxy_http_call: i32s(10),
  proxy_grpc_call: i32s(12),
  proxy_grpc_stream: i32s(9),
  proxy_grpc_send: i32s(4),
  proxy_grpc_cancel: i32s(1),
  proxy_grpc_close: i32s(1),
  proxy_get_shared_data: i32s(5),
  proxy_set_shared_data: i32s(5),
  proxy_register_shared_queue: i32s(3),
  proxy_resolve_shared_queue: i32s(5),
  proxy_enqueue_shared_queue: i32s(3),
  proxy_dequeue_shared_queue: i32s(3),
  proxy_define_metric: i32s(4),
  proxy_increment_metric: sig("i32 i64"),
  proxy_record_metric: sig("i32 i64"),
  proxy_get_metric: i32s(2),
  proxy_set_effective_context: i32s(1),
  proxy_done: i32s(0),
  proxy_call_foreign_function: i32s(6),
  // Emscripten support and Envoy's own extension (§2.11).
  pthread_equal: i32s(2),
  emscripten_notify_memory_growth: sig("i32", ""),
  envoy_resolve_dns: i32s(3),
};

const versionEnvImports: Record<AbiVersion, Record<string, Signature>> = {
  "0.1.0": {
    proxy_continue_request: i32s(0),
    proxy_continue_response: i32s(0),
    proxy_clear_route_cache: i32s(0),
    proxy_get_configuration: i32s(2),
  },
  "0.2.0": { proxy_continue_stream: i32s(1), proxy_close_stream: i32s(1) },
  "0.2.1": { proxy_continue_stream: i32s(1), proxy_close_stream: i32s(1), proxy_get_log_level: i32s(1) },
};

/** WASI preview1 functions the host provides under both wasi_snapshot_preview1 and wasi_unstable (§2.12). */
export const wasiImports: Record<string, Signature> = {
  fd_write: i32s(4),
  fd_read: i32s(4),
  fd_seek: sig("i32 i64 i32 i32"),
  fd_close: i32s(1),
  fd_fdstat_get: i32s(2),
  fd_fdstat_set_flags: i32s(2),
  fd_prestat_get: i32s(2),
  fd_prestat_dir_name: i32s(3),
  environ_sizes_get: i32s(2),
  environ_get: i32s(2),
  args_sizes_get: i32s(2),
  args_get: i32s(2),
  clock_time_get: sig("i32 i64 i32"),
  clock_res_get: i32s(2),
  random_get: i32s(2),
  proc_exit: sig("i32", ""),
  sched_yield: i32s(0),
  poll_oneoff: i32s(4),
  path_open: sig("i32 i32 i32 i32 i32 i64 i64 i32 i32"),
  fd_advise: sig("i32 i64 i64 i32"),
  fd_allocate: sig("i32 i64 i64"),
  fd_datasync: i32s(1),
  fd_fdstat_set_rights: sig("i32 i64 i64"),
  fd_filestat_get: i32s(2),
  fd_filestat_set_size: sig("i32 i64"),
  fd_filestat_set_times: sig("i32 i64 i64 i32"),
  fd_pread: sig("i32 i32 i32 i64 i32"),
  fd_pwrite: sig("i32 i32 i32 i64 i32"),
  fd_readdir: sig("i32 i32 i32 i64 i32"),
  fd_renumber: i32s(2),
  fd_sync: i32s(1),
  fd_tell: i32s(2),
  path_create_directory: i32s(3),
  path_filestat_get: i32s(5),
  path_filestat_set_times: sig("i32 i32 i32 i32 i64 i64 i32"),
  path_link: i32s(7),
  path_readlink: i32s(6),
  path_remove_directory: i32s(3),
  path_rename: i32s(6),
  path_symlink: i32s(5),
  path_unlink_file: i32s(3),
  sock_accept: i32s(3),
  sock_recv: i32s(6),
  sock_send: i32s(5),
  sock_shutdown: i32s(2),
};

export const wasiModules = ["wasi_snapshot_preview1", "wasi_unstable"] as const;

/** Every function import the host links for `version`, by "module.name". */
export function hostImports(version: AbiVersion): Map<string, Signature> {
  const m = new Map<string, Signature>();
  for (const [n, s] of Object.entries({ ...commonEnvImports, ...versionEnvImports[version] })) m.set(`env.${n}`, s);
  for (const mod of wasiModules) for (const [n, s] of Object.entries(wasiImports)) m.set(`${mod}.${n}`, s);
  return m;
}

/** Callbacks the host looks up (§3). All optional except an allocator. */
export function moduleExports(version: AbiVersion): Map<string, Signature> {
  const headers = version === "0.1.0" ? i32s(2) : i32s(3);
  const e: Record<string, Signature> = {
    _initialize: sig("", ""),
    _start: sig("", ""),
    main: i32s(2),
    __main_void: i32s(0),
    malloc: i32s(1),
    proxy_on_memory_allocate: i32s(1),
    proxy_on_context_create: i32s(2, ""),
    proxy_on_vm_start: i32s(2),
    proxy_validate_configuration: i32s(2),
    proxy_on_configure: i32s(2),
    proxy_on_tick: i32s(1, ""),
    proxy_on_done: i32s(1),
    proxy_on_log: i32s(1, ""),
    proxy_on_delete: i32s(1, ""),
    proxy_on_queue_ready: i32s(2, ""),
    proxy_on_request_headers: headers,
    proxy_on_request_body: i32s(3),
    proxy_on_request_trailers: i32s(2),
    proxy_on_request_metadata: i32s(2),
    proxy_on_response_headers: headers,
    proxy_on_response_body: i32s(3),
    proxy_on_response_trailers: i32s(2),
    proxy_on_response_metadata: i32s(2),
    proxy_on_new_connection: i32s(1),
    proxy_on_downstream_data: i32s(3),
    proxy_on_upstream_data: i32s(3),
    proxy_on_downstream_connection_close: i32s(2, ""),
    proxy_on_upstream_connection_close: i32s(2, ""),
    proxy_on_http_call_response: i32s(5, ""),
    proxy_on_grpc_receive_initial_metadata: i32s(3, ""),
    proxy_on_grpc_receive: i32s(3, ""),
    proxy_on_grpc_receive_trailing_metadata: i32s(3, ""),
    proxy_on_grpc_close: i32s(3, ""),
    envoy_on_resolve_dns: i32s(3, ""),
    envoy_on_stats_update: i32s(2, ""),
  };
  if (version !== "0.1.0") e.proxy_on_foreign_function = i32s(3, "");
  for (const [marker] of abiMarkers) e[marker] = sig("", "");
  return new Map(Object.entries(e));
}

export function formatSignature(s: Signature): string {
  return `(${s.params.join(", ")}) -> (${s.results.join(", ")})`;
}

export function sameSignature(a: Signature, b: Signature): boolean {
  return a.params.join() === b.params.join() && a.results.join() === b.results.join();
}
