// Loading a module (proxy-wasm-abi.md §1, §2.1, §3, §3.1, §8.1, §8.2): ABI detection, exact
// import/export checks with proxy-wasm-cpp-host's wording, allocator lookup, initialisation order
// and the restricted phases.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emulator, WasmLoadError } from "../../host/emulator/index.js";
import { compileModule, detectAbiVersion } from "../../host/wasm/loader.js";
import { readModuleInfo } from "../../host/wasm/module-info.js";
import { hostImports } from "../../host/wasm/abi.js";
import { FailState } from "../../host/wasm/types.js";
import { builtModules } from "../support/modules.js";
import { wat } from "../support/wat.js";
import { ALLOC_COUNT, loadProbe, probe, probeText } from "./wat-kit.js";

const load = async (text: string, concurrency = 1) => {
  const emu = new Emulator({ logLevel: "trace" });
  const plugin = await emu.loadPlugin({ wasm: await wat(text), name: "p", concurrency });
  return { emu, plugin };
};
/** Adds an import line at the top of a probe module (imports must precede definitions). */
const withImport = (text: string, line: string): string => text.replace("(module\n", `(module\n  ${line}\n`);
const rejects = async (bytes: Promise<Uint8Array> | Uint8Array, message: string | RegExp) => {
  const emu = new Emulator();
  await assert.rejects(emu.loadPlugin({ wasm: await bytes, name: "p" }), (e: Error) => {
    assert.ok(e instanceof WasmLoadError, `expected a WasmLoadError, got ${e}`);
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
  return emu;
};

describe("ABI version (§1.1)", () => {
  it("is taken from the first marker export", async () => {
    const text = probeText({ abi: "0.1.0" }).replace(
      `(func (export "proxy_abi_version_0_1_0"))`,
      `(func (export "proxy_abi_version_0_1_0")) (func (export "proxy_abi_version_0_2_1"))`,
    );
    const { plugin } = await load(text);
    assert.equal(plugin.plugin.abiVersion, "0.1.0");
    const { plugin: p2 } = await loadProbe({});
    assert.equal(p2.plugin.abiVersion, "0.2.1");
  });

  it("rejects a module without a marker with Envoy's message, and logs it", async () => {
    const emu = await rejects(probe({ noMarker: true }), "Missing or unknown Proxy-Wasm ABI version");
    assert.deepEqual(emu.logs("error"), ["Missing or unknown Proxy-Wasm ABI version"]);
    assert.deepEqual(emu.logs("critical"), ["Plugin p failed to load"]);
  });

  it("ignores a marker that is not a function export, and the vNEXT placeholder", async () => {
    await rejects(probe({ noMarker: true, extra: `(global (export "proxy_abi_version_0_2_1") i32 (i32.const 0))` }), "Missing or unknown Proxy-Wasm ABI version");
    await rejects(probe({ noMarker: true, extra: `(func (export "proxy_abi_version_0_x_x"))` }), "Missing or unknown Proxy-Wasm ABI version");
  });

  it("rejects bytes that are not a module", async () => {
    await rejects(Buffer.from("not wasm at all"), "Failed to parse corrupted Wasm module");
  });
});

describe("imports (§1.2, §2.1, §2.11)", () => {
  it("fails to link env.abort with Envoy's exact message", async () => {
    await rejects(wat(withImport(probeText({}), `(import "env" "abort" (func (param i32 i32 i32 i32)))`)), "Failed to load Wasm module due to a missing import: env.abort");
  });

  it("registers version-specific imports only for that version", async () => {
    await rejects(
      wat(withImport(probeText({ abi: "0.2.0" }), `(import "env" "proxy_get_log_level" (func (param i32) (result i32)))`)),
      "Failed to load Wasm module due to a missing import: env.proxy_get_log_level",
    );
    await rejects(
      wat(withImport(probeText({}), `(import "env" "proxy_continue_request" (func (result i32)))`)),
      "Failed to load Wasm module due to a missing import: env.proxy_continue_request",
    );
    await rejects(
      wat(withImport(probeText({ abi: "0.1.0" }), `(import "env" "proxy_continue_stream" (func (param i32) (result i32)))`)),
      "Failed to load Wasm module due to a missing import: env.proxy_continue_stream",
    );
    // ...and each version links its own.
    await loadProbe({ abi: "0.1.0", imports: ["proxy_continue_request", "proxy_get_configuration", "proxy_clear_route_cache"] });
    await loadProbe({ abi: "0.2.0", imports: ["proxy_continue_stream", "proxy_close_stream"] });
    await loadProbe({ imports: ["proxy_get_log_level", "pthread_equal", "emscripten_notify_memory_growth", "envoy_resolve_dns"] });
  });

  it("rejects AssemblyScript's other special imports and unknown modules", async () => {
    for (const [name, type] of [["trace", "(param i32 i32 f64 f64 f64 f64 f64)"], ["seed", "(result f64)"]]) {
      await rejects(wat(withImport(probeText({}), `(import "env" "${name}" (func ${type}))`)), `Failed to load Wasm module due to a missing import: env.${name}`);
    }
    await rejects(wat(withImport(probeText({}), `(import "other" "f" (func))`)), "Failed to load Wasm module due to a missing import: other.f");
  });

  it("treats an imported global as a missing import", async () => {
    await rejects(wat(withImport(probeText({}), `(import "env" "g" (global i32))`)), "Failed to load Wasm module due to a missing import: env.g");
  });

  it("checks import signatures exactly", async () => {
    await rejects(
      wat(withImport(probeText({}), `(import "env" "proxy_log" (func (param i32 i32) (result i32)))`)),
      "Failed to load Wasm module due to an import type mismatch: env.proxy_log, want: i32 i32 -> i32, but host exports: i32 i32 i32 -> i32",
    );
    await rejects(
      wat(withImport(probeText({}), `(import "env" "proxy_increment_metric" (func (param i32 i32) (result i32)))`)),
      "Failed to load Wasm module due to an import type mismatch: env.proxy_increment_metric, want: i32 i32 -> i32, but host exports: i32 i64 -> i32",
    );
    await rejects(
      wat(withImport(probeText({}), `(import "wasi_snapshot_preview1" "proc_exit" (func (param i32) (result i32)))`)),
      "Failed to load Wasm module due to an import type mismatch: wasi_snapshot_preview1.proc_exit, want: i32 -> i32, but host exports: i32 -> void",
    );
  });

  it("provides WASI under both module names", async () => {
    await load(withImport(probeText({ wasi: ["fd_write"] }), `(import "wasi_unstable" "random_get" (func (param i32 i32) (result i32)))`));
    const table = hostImports("0.2.1");
    for (const name of ["fd_write", "proc_exit", "clock_time_get", "random_get", "environ_get"]) {
      assert.ok(table.has(`wasi_unstable.${name}`) && table.has(`wasi_snapshot_preview1.${name}`), name);
    }
  });

  it("accepts an imported memory", async () => {
    const text = probeText({ imports: ["proxy_log"], strings: { hi: "hi" }, callbacks: { proxy_on_vm_start: "(drop (call $proxy_log (i32.const 2) $S(hi))) (i32.const 1)" } })
      .replace(`(memory (export "memory") 2)`, "");
    const withMemory = withImport(text, `(import "env" "memory" (memory 2))`);
    const { emu } = await load(withMemory);
    // A root context logs with " <root_id> <vm_id>" (both empty here), not the plugin name.
    assert.ok(emu.logs("info").includes("wasm log: hi"));
  });

  it("rejects a module with no memory at all", async () => {
    await rejects(wat(`(module (func (export "proxy_abi_version_0_2_1")) (func (export "malloc") (param i32) (result i32) (i32.const 0)))`), /has no memory/);
  });

  it("reports a trap in the module's start function as Envoy does", async () => {
    await rejects(wat(probeText({ extra: `(func $boom unreachable) (start $boom)` })), "Failed to create new Wasm instance");
  });
});

describe("exports (§3)", () => {
  it("checks the signature of every callback the host looks up", async () => {
    await rejects(
      probe({ extra: `(func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))` }),
      "Bad function signature for: proxy_on_request_headers, want: i32 i32 i32 -> i32, but the module exports: i32 i32 -> i32",
    );
    await rejects(
      probe({ extra: `(func (export "proxy_on_log") (param i32) (result i32) (i32.const 0))` }),
      "Bad function signature for: proxy_on_log, want: i32 -> void, but the module exports: i32 -> i32",
    );
    // 0.1.0 header callbacks take no end_of_stream.
    await loadProbe({ abi: "0.1.0", callbacks: { proxy_on_request_headers: "(i32.const 0)" } });
    await rejects(
      probe({ abi: "0.1.0", extra: `(func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))` }),
      "Bad function signature for: proxy_on_request_headers, want: i32 i32 -> i32, but the module exports: i32 i32 i32 -> i32",
    );
  });

  it("does not look up main without _initialize, nor _start with it", async () => {
    await loadProbe({ extra: `(func (export "main") (result i32) (i32.const 0))` });
    await loadProbe({ extra: `(func (export "_initialize")) (func (export "_start") (param i32))` });
    await rejects(probe({ extra: `(func (export "_initialize")) (func (export "main") (result i32) (i32.const 0))` }), /^Bad function signature for: main, want: i32 i32 -> i32/);
  });

  it("requires an allocator: malloc first, then proxy_on_memory_allocate", async () => {
    const emu = await rejects(probe({ allocator: "none" }), "Wasm module is missing malloc function.");
    assert.ok(emu.logs("error").includes("Wasm module is missing malloc function."));
    // Only proxy_on_memory_allocate: used.
    const getConfig = {
      imports: ["proxy_get_buffer_bytes"],
      callbacks: { proxy_on_configure: "(drop (call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 100) (i32.const 2048) (i32.const 2052))) (i32.const 1)" },
    };
    const { plugin } = await loadProbe({ ...getConfig, allocator: "proxy_on_memory_allocate" }, { configuration: "abc" });
    assert.equal(plugin.readU32(ALLOC_COUNT), 1);
    // Both: malloc wins (proxy_on_memory_allocate would trap).
    const { plugin: p2 } = await loadProbe({ ...getConfig, extra: `(func (export "proxy_on_memory_allocate") (param i32) (result i32) unreachable)` }, { configuration: "abc" });
    assert.equal(p2.readU32(ALLOC_COUNT), 1);
    assert.equal(p2.failed(), false);
  });
});

describe("initialisation (§3.1, §2.12, §6.1)", () => {
  const initModule = (exports: string) =>
    probeText({
      imports: ["proxy_log"],
      strings: { init: "_initialize", main: "main", mainvoid: "__main_void", start: "_start" },
      extra: exports,
    });
  const logs = async (exports: string, concurrency = 1) => (await load(initModule(exports), concurrency)).emu.logs("info");

  it("calls _initialize then main(0, 0), and never _start", async () => {
    const l = await logs(`
      (func (export "_initialize") (drop (call $proxy_log (i32.const 2) $S(init))))
      (func (export "main") (param i32 i32) (result i32) (drop (call $proxy_log (i32.const 2) $S(main))) (i32.const 0))
      (func (export "__main_void") (result i32) (drop (call $proxy_log (i32.const 2) $S(mainvoid))) (i32.const 0))
      (func (export "_start") (drop (call $proxy_log (i32.const 2) $S(start))))`);
    assert.deepEqual(l.slice(0, 2), ["wasm log: _initialize", "wasm log: main"]);
    assert.ok(!l.some((m) => m.includes("_start") || m.includes("__main_void")));
  });

  it("calls __main_void when main is absent, and _start only without _initialize", async () => {
    const a = await logs(`
      (func (export "_initialize") (drop (call $proxy_log (i32.const 2) $S(init))))
      (func (export "__main_void") (result i32) (drop (call $proxy_log (i32.const 2) $S(mainvoid))) (i32.const 0))`);
    assert.deepEqual(a.slice(0, 2), ["wasm log: _initialize", "wasm log: __main_void"]);
    const b = await logs(`(func (export "_start") (drop (call $proxy_log (i32.const 2) $S(start))))`);
    assert.equal(b[0], "wasm log: _start");
  });

  it("initialises every instance: base VM, canary and each worker (N + 2)", async () => {
    const l = await logs(`(func (export "_initialize") (drop (call $proxy_log (i32.const 2) $S(init))))`, 3);
    assert.equal(l.filter((m) => m === "wasm log: _initialize").length, 5);
  });

  it("restricts host calls during initialisation (restricted_callback trap)", async () => {
    const text = probeText({
      imports: ["proxy_log", "proxy_set_tick_period_milliseconds"],
      strings: { ok: "logging is allowed" },
      extra: `(func $init (export "_initialize")
        (drop (call $proxy_log (i32.const 2) $S(ok)))
        (drop (call $proxy_set_tick_period_milliseconds (i32.const 10))))`,
    });
    const emu = await rejects(wat(text), /^Function: _initialize failed: Uncaught Error: restricted_callback\nProxy-Wasm plugin in-VM backtrace:\n  0:  0x[0-9a-f]+ - \$?init$/);
    assert.ok(emu.logs("info").includes("wasm log: logging is allowed"));
  });

  it("restricts host calls made from inside the allocator, but allows logging", async () => {
    const body = (call: string) =>
      probeText({
        imports: ["proxy_log", "proxy_get_buffer_bytes", "proxy_set_shared_data"],
        strings: { k: "k", m: "in malloc" },
        allocator: "none",
        callbacks: { proxy_on_configure: "(drop (call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 10) (i32.const 2048) (i32.const 2052))) (i32.const 1)" },
        extra: `(func (export "malloc") (param i32) (result i32) ${call} (i32.const 4096))`,
      });
    const emu = new Emulator({ logLevel: "trace" });
    await emu.loadPlugin({ wasm: await wat(body("(drop (call $proxy_log (i32.const 2) $S(m)))")), configuration: "xyz" });
    assert.ok(emu.logs("info").includes("wasm log: in malloc"));
    // The trap fails the VM (the host call reports InvalidMemoryAccess to the module); like Envoy,
    // a failure in on_configure's host calls does not reject the plugin, its streams fail instead.
    const emu2 = new Emulator();
    const p = await emu2.loadPlugin({ wasm: await wat(body("(drop (call $proxy_set_shared_data $S(k) $S(k) (i32.const 0)))")), configuration: "xyz" });
    assert.match(emu2.logs("error")[0]!, /^Function: malloc failed: Uncaught Error: restricted_callback/);
    assert.equal(p.failed(), true);
    const s = emu2.newStream();
    s.sendRequestHeaders({ ":path": "/" }, { endStream: true });
    assert.equal(s.localReply?.details, "wasm_fail_stream");
  });
});

describe("AssemblyScript modules (§8.1)", () => {
  it("rejects a module compiled with default asc options (it imports env.abort)", async () => {
    const asc = (await import("assemblyscript/asc")).default;
    const source = `
      export function proxy_abi_version_0_2_1(): void {}
      export function malloc(size: usize): usize { return heap.alloc(size); }
      export function proxy_on_vm_start(root: u32, size: u32): u32 { assert(size < 100, "vm config too big"); return 1; }`;
    const { binary, error, stderr } = await asc.compileString(source, { runtime: "incremental" });
    assert.ok(!error, `asc failed: ${stderr?.toString()}`);
    const info = readModuleInfo(binary!);
    assert.ok(info.imports.some((i) => i.module === "env" && i.name === "abort"), "default options import env.abort");
    await rejects(binary!, "Failed to load Wasm module due to a missing import: env.abort");
    // Only the explicit (non-Envoy) lenient option links it.
    const emu = new Emulator();
    await emu.loadPlugin({ wasm: binary!, lenientAbort: true, vmConfiguration: "ok" });
  });

  it("links every module of the project's build (SDK filters and examples)", async (t) => {
    const { readFileSync } = await import("node:fs");
    // Filters and examples, plus test modules that claim to be proxy-wasm modules (export a
    // marker); other test modules are plain AssemblyScript harnesses.
    const built = builtModules().filter((m) => !m.testOnly || detectAbiVersion(readModuleInfo(readFileSync(m.path))) !== null);
    if (built.length === 0) return t.skip("no build/*.wasm yet (run npm run build:wasm)");
    for (const m of built) {
      await assert.doesNotReject(compileModule(readFileSync(m.path)), `${m.name} must link in Envoy`);
      // Instantiation and start (base VM + canary) must not fail for a link or init reason.
      const emu = new Emulator();
      try {
        await emu.loadPlugin({ wasm: m.path, name: m.name });
      } catch (e) {
        const err = e as WasmLoadError;
        assert.ok(err instanceof WasmLoadError && err.failState === FailState.ConfigureFailed, `${m.name}: ${err.message}`);
      }
    }
  });
});
