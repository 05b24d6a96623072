// The WASI preview1 subset proxy-wasm-cpp-host provides (proxy-wasm-abi.md §2.12), registered
// under both wasi_snapshot_preview1 and wasi_unstable, plus the Emscripten helpers (§2.11).
// stdout/stderr go to Envoy's wasm log; environ comes only from vm_config.environment_variables;
// the clocks read the server's (in the emulator: virtual) time; proc_exit only logs.
import { randomFillSync } from "node:crypto";
import { WasiErrno } from "../types.js";
import type { HostFunction, WasmVm } from "../vm.js";
import { contextOf, type HostFunctions } from "./common.js";
import { wasmLog } from "./logging.js";

const trace = (vm: WasmVm, message: string): void => {
  // Envoy Context::error() logs at trace level.
  vm.integration.server.log.log("wasm", "trace", message);
};

const stdioOnly =
  (success: number = WasiErrno.Success): HostFunction =>
  (_vm: WasmVm, fd: number) =>
    fd === 1 || fd === 2 ? success : WasiErrno.Badf;

export const wasiHostFunctions: HostFunctions = {
  // stdout → info, stderr → error, one trailing newline stripped; other fds → EBADF.
  fd_write(vm: WasmVm, fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number {
    const level = fd === 1 ? 2 : fd === 2 ? 4 : -1;
    if (level < 0) return WasiErrno.Badf;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < iovsLen; i++) {
      const buf = vm.getWord(iovs + i * 8);
      const len = vm.getWord(iovs + i * 8 + 4);
      if (buf === null || len === null) return WasiErrno.Fault;
      if (len === 0) continue;
      const m = vm.getMemory(buf, len);
      if (m === null) return WasiErrno.Fault;
      parts.push(Uint8Array.from(m));
    }
    const data = Buffer.concat(parts);
    if (data.length > 0) {
      const text = data.toString("utf8");
      wasmLog(vm, contextOf(vm), level, text.endsWith("\n") ? text.slice(0, -1) : text);
    }
    return vm.setWord(nwrittenPtr, data.length) ? WasiErrno.Success : WasiErrno.Fault;
  },
  fd_read: () => WasiErrno.Nosys,
  fd_seek(vm: WasmVm): number {
    trace(vm, "wasi_unstable fd_seek");
    return WasiErrno.Success;
  },
  fd_close(vm: WasmVm): number {
    trace(vm, "wasi_unstable fd_close");
    return WasiErrno.Success;
  },
  // 24-byte fdstat for stdout/stderr with fs_rights_base = FD_WRITE (64).
  fd_fdstat_get(vm: WasmVm, fd: number, statPtr: number): number {
    if (fd !== 1 && fd !== 2) return WasiErrno.Badf;
    const stat = new Uint8Array(24);
    new DataView(stat.buffer).setBigUint64(8, 64n, true);
    vm.setMemory(statPtr, stat);
    return WasiErrno.Success;
  },
  fd_fdstat_set_flags: () => WasiErrno.Nosys,
  // No preopened directories.
  fd_prestat_get: () => WasiErrno.Badf,
  fd_prestat_dir_name: () => WasiErrno.Nosys,
  environ_sizes_get(vm: WasmVm, countPtr: number, bufSizePtr: number): number {
    const env = vm.integration.environment;
    const size = env.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v) + 2, 0);
    return vm.setWord(countPtr, env.length) && vm.setWord(bufSizePtr, size) ? WasiErrno.Success : WasiErrno.Fault;
  },
  environ_get(vm: WasmVm, environPtr: number, environBuf: number): number {
    let ptr = environPtr;
    let buf = environBuf;
    for (const [k, v] of vm.integration.environment) {
      const entry = Buffer.from(`${k}=${v}\0`, "utf8");
      if (!vm.setWord(ptr, buf) || !vm.setMemory(buf, entry)) return WasiErrno.Fault;
      ptr += 4;
      buf += entry.length;
    }
    return WasiErrno.Success;
  },
  args_sizes_get(vm: WasmVm, argcPtr: number, bufSizePtr: number): number {
    return vm.setWord(argcPtr, 0) && vm.setWord(bufSizePtr, 0) ? WasiErrno.Success : WasiErrno.Fault;
  },
  args_get: () => WasiErrno.Success,
  clock_time_get(vm: WasmVm, clockId: number, _precision: bigint, timePtr: number): number {
    const d = vm.integration.server.dispatcher;
    if (clockId !== 0 && clockId !== 1) return WasiErrno.Notsup;
    const t = clockId === 0 ? d.systemTimeNs() : d.monotonicTimeNs();
    return vm.setU64(timePtr, t) ? WasiErrno.Success : WasiErrno.Fault;
  },
  clock_res_get(vm: WasmVm, clockId: number, resPtr: number): number {
    if (clockId !== 0 && clockId !== 1) return WasiErrno.Notsup;
    return vm.setU64(resPtr, 1n) ? WasiErrno.Success : WasiErrno.Fault;
  },
  random_get(vm: WasmVm, bufPtr: number, len: number): number {
    if (len > 65536) return WasiErrno.Inval;
    const bytes = randomFillSync(new Uint8Array(len));
    return vm.setMemory(bufPtr, bytes) ? WasiErrno.Success : WasiErrno.Fault;
  },
  // cpp-host only logs: the module keeps running (AssemblyScript's abort then hits `unreachable`).
  proc_exit(vm: WasmVm): void {
    trace(vm, "wasi_unstable proc_exit");
  },
  sched_yield: () => WasiErrno.Success,
  // No events: enough for runtimes (Go) that poll during start-up.
  poll_oneoff(vm: WasmVm, _in: number, _out: number, _n: number, neventsPtr: number): number {
    return vm.setWord(neventsPtr, 0) ? WasiErrno.Success : WasiErrno.Fault;
  },
  path_open: () => WasiErrno.Noent,
  fd_advise: stdioOnly(),
  fd_allocate: stdioOnly(),
  fd_datasync: stdioOnly(),
  fd_fdstat_set_rights: stdioOnly(),
  fd_filestat_get: stdioOnly(WasiErrno.Notsup),
  fd_filestat_set_size: stdioOnly(WasiErrno.Notsup),
  fd_filestat_set_times: stdioOnly(WasiErrno.Notsup),
  fd_pread: stdioOnly(WasiErrno.Notsup),
  fd_pwrite: stdioOnly(WasiErrno.Notsup),
  fd_readdir: stdioOnly(WasiErrno.Notsup),
  fd_renumber: stdioOnly(WasiErrno.Notsup),
  fd_sync: stdioOnly(),
  fd_tell: stdioOnly(WasiErrno.Notsup),
  path_create_directory: () => WasiErrno.Badf,
  path_filestat_get: () => WasiErrno.Badf,
  path_filestat_set_times: () => WasiErrno.Badf,
  path_link: () => WasiErrno.Badf,
  path_readlink: () => WasiErrno.Badf,
  path_remove_directory: () => WasiErrno.Badf,
  path_rename: () => WasiErrno.Badf,
  path_symlink: () => WasiErrno.Badf,
  path_unlink_file: () => WasiErrno.Badf,
  sock_accept: () => WasiErrno.Nosys,
  sock_recv: () => WasiErrno.Nosys,
  sock_send: () => WasiErrno.Nosys,
  sock_shutdown: () => WasiErrno.Nosys,
};

/** Emscripten and Envoy-only helpers in module "env" (§2.11). */
export const emscriptenHostFunctions: HostFunctions = {
  pthread_equal: (_vm: WasmVm, a: number, b: number) => (a === b ? 1 : 0),
  emscripten_notify_memory_growth: () => undefined,
};
