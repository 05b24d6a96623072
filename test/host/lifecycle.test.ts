// Lifecycle (proxy-wasm-abi.md §6.1–§6.4, §3.2): base VM, canary, one VM per worker, root
// contexts per plugin (also when plugins share a VM), lazily created stream contexts, the HTTP
// teardown order on_log → on_done → on_delete, and root shutdown with proxy_done.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emulator, WasmLoadError, type EmulatedPlugin } from "../../host/emulator/index.js";
import { moduleExports } from "../../host/wasm/abi.js";
import { FailState, WasmResult } from "../../host/wasm/types.js";
import { loadProbe, probe, requestHeaders, res } from "./wat-kit.js";

const JCOUNT = res(99);
const JOURNAL = 4096;
const codes = [
  "proxy_on_context_create",
  "proxy_on_vm_start",
  "proxy_on_configure",
  "proxy_on_request_headers",
  "proxy_on_request_body",
  "proxy_on_request_trailers",
  "proxy_on_response_headers",
  "proxy_on_response_body",
  "proxy_on_response_trailers",
  "proxy_on_log",
  "proxy_on_done",
  "proxy_on_delete",
  "proxy_on_tick",
] as const;
type Code = (typeof codes)[number];

/** Every callback appends (code, arg0, arg1) to a journal in memory and returns a benign value. */
function journaling(overrides: Partial<Record<Code, string>> = {}, extra = ""): Parameters<typeof probe>[0] {
  const exportsTable = moduleExports("0.2.1");
  const callbacks: Record<string, string> = {};
  codes.forEach((name, code) => {
    const sig = exportsTable.get(name)!;
    const a0 = sig.params.length > 0 ? "(local.get 0)" : "(i32.const 0)";
    const a1 = sig.params.length > 1 ? "(local.get 1)" : "(i32.const 0)";
    const result = sig.results.length ? (name === "proxy_on_vm_start" || name === "proxy_on_configure" || name === "proxy_on_done" ? "(i32.const 1)" : "(i32.const 0)") : "";
    callbacks[name] = `(call $j (i32.const ${code}) ${a0} ${a1}) ${overrides[name] ?? result}`;
  });
  return {
    imports: ["proxy_log", "proxy_done", "proxy_set_tick_period_milliseconds"],
    strings: { start: "vm_start" },
    callbacks,
    extra: `(func $j (param i32 i32 i32) (local $p i32)
      (local.set $p (i32.add (i32.const ${JOURNAL}) (i32.mul (i32.load (i32.const ${JCOUNT})) (i32.const 12))))
      (i32.store (local.get $p) (local.get 0))
      (i32.store offset=4 (local.get $p) (local.get 1))
      (i32.store offset=8 (local.get $p) (local.get 2))
      (i32.store (i32.const ${JCOUNT}) (i32.add (i32.load (i32.const ${JCOUNT})) (i32.const 1))))
      ${extra}`,
  };
}

function journal(plugin: EmulatedPlugin, worker = 0): Array<[string, number, number]> {
  const n = plugin.readU32(JCOUNT, worker);
  const out: Array<[string, number, number]> = [];
  for (let i = 0; i < n; i++) {
    const b = plugin.readMemory(JOURNAL + 12 * i, 12, worker);
    out.push([codes[b.readUInt32LE(0)]!.replace("proxy_on_", ""), b.readUInt32LE(4), b.readUInt32LE(8)]);
  }
  return out;
}

describe("VM and root contexts (§6.1)", () => {
  it("starts each worker's root context with on_context_create(R, 0), on_vm_start and on_configure", async () => {
    const { plugin } = await loadProbe(journaling(), { vmConfiguration: "vm-cfg", configuration: "plugin-config", concurrency: 2 });
    for (const w of [0, 1]) {
      assert.deepEqual(journal(plugin, w), [
        ["context_create", 1, 0],
        ["vm_start", 1, 6],
        ["configure", 1, 13],
      ]);
      assert.equal(plugin.rootContextId(w), 1, "ids restart in every VM");
    }
  });

  it("runs the canary too: on_vm_start once per instance (canary + workers)", async () => {
    const emu = new Emulator({ logLevel: "info" });
    await loadProbe(journaling({ proxy_on_vm_start: "(drop (call $proxy_log (i32.const 2) $S(start))) (i32.const 1)" }), { concurrency: 3 }, emu);
    assert.equal(emu.logs("info").filter((l) => l.endsWith("vm_start")).length, 4);
  });

  it("rejects the plugin when on_vm_start or on_configure fail in the canary, with cpp-host's messages", async () => {
    for (const [name, message, state] of [
      ["proxy_on_vm_start", "Failed to start base Wasm", FailState.StartFailed],
      ["proxy_on_configure", "Failed to configure base Wasm plugin", FailState.ConfigureFailed],
    ] as const) {
      const emu = new Emulator();
      await assert.rejects(emu.loadPlugin({ wasm: await probe(journaling({ [name]: "(i32.const 0)" })), name: "bad" }), (e: Error) => {
        assert.ok(e instanceof WasmLoadError);
        assert.equal(e.message, message);
        assert.equal(e.failState, state);
        return true;
      });
      assert.deepEqual(emu.logs("critical"), ["Plugin bad failed to load"]);
      assert.ok(emu.logs("error").includes(message));
    }
  });

  it("gives each plugin sharing a VM (same vm_id, code, vm config) its own root context in one instance", async () => {
    const wasm = await probe(journaling());
    const emu = new Emulator();
    const a = await emu.loadPlugin({ wasm, name: "a", rootId: "ra", vmId: "shared", concurrency: 1 });
    const b = await emu.loadPlugin({ wasm, name: "b", rootId: "rb", vmId: "shared", concurrency: 1, configuration: "b" });
    assert.equal(a.rootContextId(), 1);
    assert.equal(b.rootContextId(), 2);
    // One instance: b's journal contains a's start too.
    assert.deepEqual(journal(b), [
      ["context_create", 1, 0],
      ["vm_start", 1, 0],
      ["configure", 1, 0],
      ["context_create", 2, 0],
      ["vm_start", 2, 0],
      ["configure", 2, 1],
    ]);
    // A different vm_id means another VM.
    const c = await emu.loadPlugin({ wasm, name: "c", vmId: "other", concurrency: 1 });
    assert.equal(c.rootContextId(), 1);
  });
});

describe("HTTP stream contexts (§6.2, §6.3)", () => {
  it("creates the context lazily and tears down in the order on_log → on_done → on_delete", async () => {
    const { emu, plugin } = await loadProbe(journaling(), { concurrency: 1 });
    const a = emu.newStream();
    const b = emu.newStream();
    // Ids are allocated with the filter (2 for a, 3 for b), on_context_create waits for headers.
    b.sendRequestHeaders(requestHeaders);
    a.sendRequestHeaders(requestHeaders, { endStream: true });
    b.sendRequestBody("body", { endStream: false });
    b.sendRequestTrailers({ t: "1" });
    b.sendResponseHeaders({ ":status": "200" });
    b.sendResponseBody("x", { endStream: false });
    b.sendResponseTrailers({ rt: "1" });
    b.complete();
    assert.deepEqual(journal(plugin).slice(3), [
      ["context_create", 3, 1],
      ["request_headers", 3, 4],
      ["context_create", 2, 1],
      ["request_headers", 2, 4],
      ["request_body", 3, 4],
      ["request_trailers", 3, 1],
      ["response_headers", 3, 1],
      ["response_body", 3, 1],
      ["response_trailers", 3, 1],
      ["log", 3, 0],
      ["done", 3, 0],
      ["delete", 3, 0],
    ]);
  });

  it("still creates, logs and deletes a stream that ended before its headers", async () => {
    const { emu, plugin } = await loadProbe(journaling(), { concurrency: 1 });
    emu.newStream().complete();
    assert.deepEqual(journal(plugin).slice(3), [
      ["context_create", 2, 1],
      ["log", 2, 0],
      ["done", 2, 0],
      ["delete", 2, 0],
    ]);
  });

  it("ignores on_done's result for streams (on_delete follows anyway)", async () => {
    const { emu, plugin } = await loadProbe(journaling({ proxy_on_done: "(i32.const 0)" }), { concurrency: 1 });
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    s.complete();
    assert.deepEqual(journal(plugin).slice(-2), [["done", 2, 0], ["delete", 2, 0]]);
  });
});

describe("root shutdown (§6.4)", () => {
  it("deletes a root context whose on_done returns true", async () => {
    const { plugin } = await loadProbe(journaling(), { concurrency: 1 });
    await plugin.shutdown();
    // The VM is gone after shutdown; what ran is visible in the memory we keep a handle to.
    assert.deepEqual(journal(plugin).slice(-2), [["done", 1, 0], ["delete", 1, 0]]);
  });

  it("keeps a root pending when on_done returns false, until proxy_done (then on_delete after the call)", async () => {
    const { emu, plugin } = await loadProbe(
      journaling({
        proxy_on_done: `(i32.store (i32.const ${res(0)}) (call $proxy_done)) (drop (call $proxy_set_tick_period_milliseconds (i32.const 10))) (i32.const 0)`,
        proxy_on_tick: `(i32.store (i32.const ${res(1)}) (call $proxy_done))`,
      }),
      { concurrency: 1 },
    );
    await plugin.shutdown();
    assert.equal(plugin.readU32(res(0)), WasmResult.NotFound, "proxy_done inside on_done: not pending yet");
    assert.deepEqual(journal(plugin).slice(-1), [["done", 1, 0]]);
    // The pending root keeps its timer; it finishes from on_tick.
    emu.advance(10);
    assert.equal(plugin.readU32(res(1)), WasmResult.Ok);
    assert.deepEqual(journal(plugin).slice(-2), [["tick", 1, 0], ["delete", 1, 0]]);
    emu.advance(100);
    assert.equal(journal(plugin).length, 6, "no tick after the delete");
  });
});
