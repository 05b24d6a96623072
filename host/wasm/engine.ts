// How V8 compiles a proxy-wasm module: the way Envoy's engine does. proxy-wasm-cpp-host's V8
// runtime (src/v8/v8.cc, engine()) sets `v8_flags.liftoff = false` before it creates the engine,
// so every module runs TurboFan code from its first call. Node's default is Liftoff first, with a
// function tiered up only after it has run about 1.8 MB of code in one instance: each worker VM
// would run baseline code, which Envoy never runs, for its first several thousand requests (the
// whole of a short load test). Node has no per-module switch, so the flags are set for one eager,
// synchronous compile and put back after it: the rest of the process (binaryen and wabt in the
// build and the tests) keeps V8's defaults, and TurboFan code is never tiered down.
import { setFlagsFromString } from "node:v8";

/** V8 flags the process was started with (node --no-liftoff, NODE_OPTIONS), in dash form. */
function startupFlags(): Set<string> {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  return new Set(given.filter((a) => a.startsWith("--")).map((a) => `--${a.slice(2).replace(/_/g, "-")}`));
}

/** Each flag this compile changes, with the value to put back (the process's own choice wins). */
function compileFlags(): Array<{ set: string; restore: string }> {
  const started = startupFlags();
  return [
    { set: "--no-liftoff", restore: started.has("--no-liftoff") ? "--no-liftoff" : "--liftoff" },
    // Eager: with lazy compilation a function compiles at its first call, under the flags of
    // that moment, which are V8's defaults again by then.
    {
      set: "--no-wasm-lazy-compilation",
      restore: started.has("--no-wasm-lazy-compilation") ? "--no-wasm-lazy-compilation" : "--wasm-lazy-compilation",
    },
  ];
}

/** Compiles `code` with TurboFan only, as Envoy does; throws WebAssembly.CompileError like WebAssembly.compile. */
export function compileLikeEnvoy(code: Uint8Array): WebAssembly.Module {
  const flags = compileFlags();
  for (const f of flags) setFlagsFromString(f.set);
  try {
    return new WebAssembly.Module(code);
  } finally {
    for (const f of flags) setFlagsFromString(f.restore);
  }
}
