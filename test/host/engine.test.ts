// Modules compile as in Envoy's V8 engine (proxy-wasm-cpp-host src/v8/v8.cc: Liftoff off): every
// function is TurboFan code before the first call, and the V8 flags are back to the process's own
// afterwards, so other Wasm in the process (binaryen, wabt) still compiles lazily with Liftoff.
// V8 tells a function's tier only with --allow-natives-syntax, hence the child process.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const engine = fileURLToPath(new URL("../../host/wasm/engine.js", import.meta.url));
const loader = fileURLToPath(new URL("../../host/wasm/loader.js", import.meta.url));
const watKit = fileURLToPath(new URL("../support/wat.js", import.meta.url));

/** Runs `body` (an async ES module body) in `node --allow-natives-syntax [flags]`; returns its JSON output. */
function inChild(body: string, flags: string[] = []): Record<string, unknown> {
  const script = `
    import { compileLikeEnvoy } from ${JSON.stringify(engine)};
    import { compileModule } from ${JSON.stringify(loader)};
    import { wat } from ${JSON.stringify(watKit)};
    const tier = new Function("f", "return %IsUncompiledWasmFunction(f) ? 'uncompiled' : %IsLiftoffFunction(f) ? 'liftoff' : 'turbofan'");
    const adder = (n) => wat('(module (memory (export "memory") 1) (func (export "malloc") (param i32) (result i32) (i32.const 1024)) (func (export "proxy_abi_version_0_2_1")) (func (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.const ' + n + '))))');
    const out = {};
    ${body}
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ["--allow-natives-syntax", ...flags, "--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe("compiling like Envoy's V8 engine", () => {
  it("gives TurboFan code before the first call, and leaves other modules to V8's defaults", () => {
    const out = inChild(`
      const envoy = new WebAssembly.Instance(compileLikeEnvoy(await adder(1))).exports.f;
      out.envoy = tier(envoy);
      out.envoyResult = envoy(41);
      const plain = new WebAssembly.Instance(new WebAssembly.Module(await adder(2))).exports.f;
      out.plainBeforeCall = tier(plain);
      plain(1);
      out.plainAfterCall = tier(plain);`);
    assert.deepEqual(out, { envoy: "turbofan", envoyResult: 42, plainBeforeCall: "uncompiled", plainAfterCall: "liftoff" });
  });

  it("is how the host's loader compiles a plugin module", () => {
    const out = inChild(`
      const compiled = await compileModule(await adder(3));
      out.tier = tier(new WebAssembly.Instance(compiled.module).exports.f);`);
    assert.deepEqual(out, { tier: "turbofan" });
  });

  it("puts the flags back when the bytes do not compile", () => {
    const out = inChild(`
      try { compileLikeEnvoy(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1])); } catch (e) { out.error = e.constructor.name; }
      const plain = new WebAssembly.Instance(new WebAssembly.Module(await adder(4))).exports.f;
      out.plain = tier(plain);`);
    assert.deepEqual(out, { error: "CompileError", plain: "uncompiled" });
  });

  it("keeps the process's own --no-liftoff", () => {
    const out = inChild(`
      compileLikeEnvoy(await adder(5));
      const plain = new WebAssembly.Instance(new WebAssembly.Module(await adder(6))).exports.f;
      plain(1);
      out.plain = tier(plain);`, ["--no-liftoff"]);
    assert.deepEqual(out, { plain: "turbofan" });
  });
});
