// The complete host-function table: every family, keyed by "module.name" as the loader and VM
// link them (proxy-wasm-abi.md §2). The ABI table in abi.ts decides which of these a module of a
// given ABI version may import.
import { wasiModules } from "../abi.js";
import type { HostFunction } from "../vm.js";
import { bufferHostFunctions } from "./buffers.js";
import { calloutHostFunctions } from "./callouts.js";
import { dnsHostFunctions } from "./dns.js";
import { foreignHostFunctions } from "./foreign.js";
import { headerHostFunctions } from "./headers.js";
import { loggingHostFunctions } from "./logging.js";
import { metricHostFunctions } from "./metrics.js";
import { propertyHostFunctions } from "./properties.js";
import { sharedHostFunctions } from "./shared.js";
import { streamControlHostFunctions } from "./stream-control.js";
import { emscriptenHostFunctions, wasiHostFunctions } from "./wasi.js";

function build(): Map<string, HostFunction> {
  const table = new Map<string, HostFunction>();
  const env = [
    loggingHostFunctions,
    propertyHostFunctions,
    bufferHostFunctions,
    headerHostFunctions,
    streamControlHostFunctions,
    calloutHostFunctions,
    sharedHostFunctions,
    metricHostFunctions,
    foreignHostFunctions,
    emscriptenHostFunctions,
    dnsHostFunctions,
  ];
  for (const family of env) for (const [name, f] of Object.entries(family)) table.set(`env.${name}`, f);
  for (const m of wasiModules) for (const [name, f] of Object.entries(wasiHostFunctions)) table.set(`${m}.${name}`, f);
  return table;
}

export const hostFunctionTable: ReadonlyMap<string, HostFunction> = build();

/** Host functions that are never subject to capability restriction (cpp-host registers them first). */
export const alwaysAllowed = new Set(["pthread_equal", "emscripten_notify_memory_growth"]);

/**
 * AssemblyScript's default abort import, only with WasmHostOptions.lenientAbort. Traps like the
 * SDK's own abort handler would (after logging the message at critical).
 */
export const lenientAbort: HostFunction = () => {
  throw new WebAssembly.RuntimeError("abort");
};
