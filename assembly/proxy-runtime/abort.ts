// proxy-runtime told users to build with `--use abort=abort_proc_exit`. Build scripts that still
// say so keep working: this global forwards to the SDK's handler, which logs the message at
// critical and traps. proxy-runtime's version called WASI proc_exit, which Envoy only logs
// (proxy-wasm-abi.md §2.12), so the trap came from the `unreachable` after it anyway.
import "../runtime/abort";

// @ts-ignore: decorator
@global function abort_proc_exit(message: string | null, fileName: string | null, lineNumber: u32, columnNumber: u32): void {
  // @ts-ignore: defined by the SDK as a global (runtime/abort.ts)
  __proxy_abort(message, fileName, lineNumber, columnNumber);
}
