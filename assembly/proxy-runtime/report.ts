// proxy-runtime aborted the VM (CHECK_RESULT: log at critical, then throw) whenever a host call it
// did not expect to fail did fail — e.g. replacing a response header from onRequestHeaders, or
// reading an absent property. Envoy then failed every stream on that worker. Here those calls
// return the status instead, and because solo-style code ignores what used to be `void`, the
// failure is also logged at warn so that it stays visible. Nothing is formatted unless a call
// failed and warn is enabled.
import { LogLevel, WasmResult, logEnabled, logWarn, wasmResultName } from "../index";

/** Logs "proxy-runtime: <what> failed: <Result>" at warn when `result` is not Ok; returns it. */
export function reportFailure(what: string, result: WasmResult, subject: string = ""): WasmResult {
  if (result != WasmResult.Ok && logEnabled(LogLevel.Warn)) {
    logWarn("proxy-runtime: ", what, subject, " failed: ", wasmResultName(result));
  }
  return result;
}
