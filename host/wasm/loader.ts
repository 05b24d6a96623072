// Loading a module the way proxy-wasm-cpp-host does before any VM runs (WasmBase::load and
// V8::link in src/wasm.cc and src/v8/v8.cc): parse, detect the ABI version from the first marker
// export, compile, and check every import against the host's table for that ABI version and every
// export the host looks up against its expected signature. Failures carry cpp-host's exact wording
// (proxy-wasm-abi.md §1.1, §2.1, §3, §8.2) so that a module rejected by Envoy is rejected here with
// the same message.
import { abiMarkers, hostImports, moduleExports, type AbiVersion, type Signature } from "./abi.js";
import { compileLikeEnvoy } from "./engine.js";
import { readModuleInfo, WasmFormatError, type ModuleInfo } from "./module-info.js";
import { FailState } from "./types.js";

/** A load or start failure, with the FailState cpp-host records and its log message. */
export class WasmLoadError extends Error {
  constructor(
    message: string,
    readonly failState: FailState,
  ) {
    super(message);
    this.name = "WasmLoadError";
  }
}

export interface CompiledModule {
  module: WebAssembly.Module;
  abiVersion: AbiVersion;
  info: ModuleInfo;
  /** The host imports (by "module.name") the module links, with their signatures. */
  hostImports: Map<string, Signature>;
}

/** cpp-host printValTypes: space-separated kinds, "void" when empty. */
export function printValTypes(types: readonly string[]): string {
  return types.length === 0 ? "void" : types.join(" ");
}

const printSignature = (s: Signature): string => `${printValTypes(s.params)} -> ${printValTypes(s.results)}`;

/** bytecode_util.cc getAbiVersion: the first function export named like a marker. */
export function detectAbiVersion(info: ModuleInfo): AbiVersion | null {
  const markers = new Map(abiMarkers);
  for (const e of info.exports) {
    if (e.kind !== "function") continue;
    const v = markers.get(e.name);
    if (v) return v;
  }
  return null;
}

/**
 * Parses, checks and compiles a module. `extraImports` adds host functions beyond Envoy's table
 * (the lenient `env.abort` option); nothing else can be linked.
 */
export async function compileModule(code: Uint8Array, extraImports?: Map<string, Signature>): Promise<CompiledModule> {
  let info: ModuleInfo;
  try {
    info = readModuleInfo(code);
  } catch (e) {
    if (e instanceof WasmFormatError) throw new WasmLoadError("Failed to parse corrupted Wasm module", FailState.UnableToInitializeCode);
    throw e;
  }
  const abiVersion = detectAbiVersion(info);
  if (!abiVersion) throw new WasmLoadError("Missing or unknown Proxy-Wasm ABI version", FailState.UnableToInitializeCode);
  let module: WebAssembly.Module;
  try {
    module = compileLikeEnvoy(code);
  } catch {
    throw new WasmLoadError("Failed to load Wasm bytecode", FailState.UnableToInitializeCode);
  }
  const available = hostImports(abiVersion);
  for (const [k, v] of extraImports ?? []) available.set(k, v);
  checkImports(info, available);
  checkExports(info, abiVersion);
  if (!info.exports.some((e) => e.kind === "memory") && !info.imports.some((i) => i.kind === "memory")) {
    // cpp-host would dereference a null memory here; reject with a clear message instead.
    throw new WasmLoadError("Wasm module has no memory (neither exported nor imported)", FailState.UnableToInitializeCode);
  }
  return { module, abiVersion, info, hostImports: available };
}

/** V8::link: every function import must exist with identical types; globals are never provided. */
function checkImports(info: ModuleInfo, available: Map<string, Signature>): void {
  for (const imp of info.imports) {
    const key = `${imp.module}.${imp.name}`;
    if (imp.kind === "memory" || imp.kind === "table") continue;
    const host = imp.kind === "function" ? available.get(key) : undefined;
    if (!host) throw new WasmLoadError(`Failed to load Wasm module due to a missing import: ${key}`, FailState.UnableToInitializeCode);
    const want = imp.signature!;
    if (want.params.join() !== host.params.join() || want.results.join() !== host.results.join()) {
      throw new WasmLoadError(
        `Failed to load Wasm module due to an import type mismatch: ${key}, want: ${printSignature(want)}, but host exports: ${printSignature(host)}`,
        FailState.UnableToInitializeCode,
      );
    }
  }
}

/**
 * WasmBase::getFunctions: the exports the host looks up, with their expected signatures. `main` is
 * only looked up when `_initialize` exists and `_start` only when it does not; the ABI markers are
 * never looked up (only their names matter). Also requires an allocator.
 */
function checkExports(info: ModuleInfo, abi: AbiVersion): void {
  const expected = moduleExports(abi);
  const exported = new Map(info.exports.filter((e) => e.kind === "function").map((e) => [e.name, e.signature!]));
  const markers = new Set(abiMarkers.map(([m]) => m));
  // cpp-host's lookup order: _initialize, then main or _start, then the allocator, then callbacks.
  const first = ["_initialize", ...(exported.has("_initialize") ? ["main", "__main_void"] : ["_start"]), "malloc", "proxy_on_memory_allocate"];
  const rest = [...expected.keys()].filter((n) => !markers.has(n) && !["_initialize", "main", "__main_void", "_start", "malloc", "proxy_on_memory_allocate"].includes(n));
  const check = (name: string): void => {
    const got = exported.get(name);
    const want = expected.get(name)!;
    if (!got) return;
    if (got.params.join() !== want.params.join() || got.results.join() !== want.results.join()) {
      throw new WasmLoadError(
        `Bad function signature for: ${name}, want: ${printSignature(want)}, but the module exports: ${printSignature(got)}`,
        FailState.UnableToInitializeCode,
      );
    }
  };
  first.forEach(check);
  if (!exported.has("malloc") && !exported.has("proxy_on_memory_allocate")) {
    throw new WasmLoadError("Wasm module is missing malloc function.", FailState.MissingFunction);
  }
  rest.forEach(check);
}
