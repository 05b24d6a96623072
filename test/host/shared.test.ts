// Shared data and shared queues (proxy-wasm-abi.md §2.8): CAS semantics with a global counter,
// vm_id scoping across plugins and workers, injected contention for CAS retry loops, data dropped
// with the last VM of a vm_id, queue tokens and notifications to the last registrant.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emulator } from "../../host/emulator/index.js";
import { WasmResult } from "../../host/wasm/types.js";
import { loadProbe, probe, readOut, requestHeaders, res } from "./wat-kit.js";

const store = (i: number, call: string) => `(i32.store (i32.const ${res(i)}) ${call})`;
const sharedImports = [
  "proxy_get_shared_data",
  "proxy_set_shared_data",
  "proxy_register_shared_queue",
  "proxy_resolve_shared_queue",
  "proxy_enqueue_shared_queue",
  "proxy_dequeue_shared_queue",
];
const getData = (key: string, slot: number) =>
  `(call $proxy_get_shared_data $S(${key}) (i32.const ${res(slot)}) (i32.const ${res(slot + 1)}) (i32.const ${res(slot + 2)}))`;

describe("shared data", () => {
  it("implements get/set with CAS exactly like cpp-host", async () => {
    const { emu, plugin } = await loadProbe({
      imports: sharedImports,
      strings: { k: "counter", v1: "one", v2: "two", v3: "three", v4: "four" },
      callbacks: {
        proxy_on_request_headers: [
          store(0, getData("k", 20)),
          // Absent key: stored whatever the cas.
          store(1, "(call $proxy_set_shared_data $S(k) $S(v1) (i32.const 12345))"),
          store(2, getData("k", 23)),
          // Stale cas → CasMismatch; current cas → OK; cas 0 → unconditional.
          store(3, `(call $proxy_set_shared_data $S(k) $S(v2) (i32.add (i32.load (i32.const ${res(25)})) (i32.const 1000)))`),
          store(4, `(call $proxy_set_shared_data $S(k) $S(v3) (i32.load (i32.const ${res(25)})))`),
          store(5, getData("k", 26)),
          store(6, "(call $proxy_set_shared_data $S(k) $S(v4) (i32.const 0))"),
          store(7, getData("k", 29)),
          store(8, `(call $proxy_get_shared_data (i32.const 0x7ffffff0) (i32.const 4) (i32.const ${res(32)}) (i32.const ${res(33)}) (i32.const ${res(34)}))`),
          "(i32.const 0)",
        ].join("\n"),
      },
    });
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    const st = (i: number) => plugin.readU32(res(i));
    assert.equal(st(0), WasmResult.NotFound);
    assert.equal(st(1), WasmResult.Ok);
    assert.equal(st(2), WasmResult.Ok);
    assert.equal(readOut(plugin, res(23), res(24)).toString(), "one");
    const cas1 = st(25);
    assert.ok(cas1 > 0);
    assert.equal(st(3), WasmResult.CasMismatch);
    assert.equal(st(4), WasmResult.Ok);
    assert.equal(readOut(plugin, res(26), res(27)).toString(), "three");
    assert.ok(st(28) > cas1, "every write gets a new cas");
    assert.equal(st(6), WasmResult.Ok);
    assert.equal(readOut(plugin, res(29), res(30)).toString(), "four");
    assert.equal(st(8), WasmResult.InvalidMemoryAccess);
  });

  it("answers NotFound for a key never written", async () => {
    const { plugin } = await loadProbe({ imports: sharedImports, strings: { k: "never" }, callbacks: { proxy_on_configure: `${store(0, getData("k", 20))} (i32.const 1)` } });
    assert.equal(plugin.readU32(res(0)), WasmResult.NotFound);
  });

  it("is shared by every worker and plugin with the same vm_id, and only by them", async () => {
    const writer = await probe({
      imports: sharedImports,
      strings: { k: "k", v: "from-writer" },
      callbacks: { proxy_on_request_headers: "(drop (call $proxy_set_shared_data $S(k) $S(v) (i32.const 0))) (i32.const 0)" },
    });
    const reader = await probe({
      imports: sharedImports,
      strings: { k: "k" },
      callbacks: { proxy_on_request_headers: `${store(0, getData("k", 1))} (i32.const 0)` },
    });
    const emu = new Emulator();
    const w = await emu.loadPlugin({ wasm: writer, name: "w", vmId: "shared", concurrency: 2 });
    const same = await emu.loadPlugin({ wasm: reader, name: "r1", vmId: "shared", concurrency: 2 });
    const other = await emu.loadPlugin({ wasm: reader, name: "r2", vmId: "other", concurrency: 2 });
    emu.newStream({ plugins: [w], worker: 0 }).sendRequestHeaders(requestHeaders, { endStream: true });
    emu.newStream({ plugins: [same], worker: 1 }).sendRequestHeaders(requestHeaders, { endStream: true });
    emu.newStream({ plugins: [other], worker: 1 }).sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(same.readU32(res(0), 1), WasmResult.Ok);
    assert.equal(readOut(same, res(1), res(2), 1).toString(), "from-writer");
    assert.equal(other.readU32(res(0), 1), WasmResult.NotFound);
    assert.equal(emu.sharedData("k", "shared")?.value.toString(), "from-writer");
  });

  it("lets a test inject contention between a get and its CAS set (the module retries)", async () => {
    // get → set(cas); on CasMismatch, count a retry and loop.
    const { emu, plugin } = await loadProbe({
      imports: sharedImports,
      strings: { k: "hits", v: "mine" },
      callbacks: {
        proxy_on_request_headers: `(block $done (loop $retry
          (drop ${getData("k", 10)})
          (br_if $done (i32.eqz (call $proxy_set_shared_data $S(k) $S(v) (i32.load (i32.const ${res(12)})))))
          (i32.store (i32.const ${res(0)}) (i32.add (i32.load (i32.const ${res(0)})) (i32.const 1)))
          (br $retry))) (i32.const 0)`,
      },
    });
    emu.setSharedData("hits", "initial", "probe_vm");
    emu.injectCasContention("hits", "competitor", { vmId: "probe_vm", times: 2 });
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(plugin.readU32(res(0)), 2, "two lost races, then success");
    assert.equal(emu.sharedData("hits", "probe_vm")?.value.toString(), "mine");
  });

  it("drops a vm_id's data when its last VM goes away", async () => {
    const { emu, plugin } = await loadProbe({
      imports: sharedImports,
      strings: { k: "k", v: "v" },
      callbacks: { proxy_on_configure: "(drop (call $proxy_set_shared_data $S(k) $S(v) (i32.const 0))) (i32.const 1)" },
    });
    assert.ok(emu.sharedData("k", "probe_vm"));
    await plugin.shutdown();
    assert.equal(emu.sharedData("k", "probe_vm"), null);
  });
});

describe("shared queues", () => {
  const queueProbe = {
    imports: sharedImports,
    strings: { q: "jobs", unknown: "nope", empty: "", item: "job-1", vm: "probe_vm" },
    callbacks: {
      proxy_on_configure: [
        store(0, `(call $proxy_register_shared_queue $S(q) (i32.const ${res(20)}))`),
        store(1, `(call $proxy_register_shared_queue $S(q) (i32.const ${res(21)}))`),
        store(2, `(call $proxy_resolve_shared_queue $S(empty) $S(q) (i32.const ${res(22)}))`),
        store(3, `(call $proxy_resolve_shared_queue $S(vm) $S(q) (i32.const ${res(23)}))`),
        store(4, `(call $proxy_resolve_shared_queue $S(empty) $S(unknown) (i32.const ${res(24)}))`),
        store(5, `(call $proxy_dequeue_shared_queue (i32.load (i32.const ${res(20)})) (i32.const ${res(25)}) (i32.const ${res(26)}))`),
        store(6, "(call $proxy_enqueue_shared_queue (i32.const 999) $S(item))"),
        store(7, `(call $proxy_dequeue_shared_queue (i32.const 999) (i32.const ${res(25)}) (i32.const ${res(26)}))`),
        "(i32.const 1)",
      ].join("\n"),
      proxy_on_request_headers: `${store(8, `(call $proxy_enqueue_shared_queue (i32.load (i32.const ${res(20)})) $S(item))`)} (i32.const 0)`,
      proxy_on_queue_ready: [
        `(i32.store (i32.const ${res(9)}) (i32.add (i32.load (i32.const ${res(9)})) (i32.const 1)))`,
        `(i32.store (i32.const ${res(10)}) (local.get 0))`,
        `(i32.store (i32.const ${res(11)}) (local.get 1))`,
        store(12, `(call $proxy_dequeue_shared_queue (local.get 1) (i32.const ${res(13)}) (i32.const ${res(14)}))`),
      ].join("\n"),
    },
  };

  it("registers, resolves, enqueues and dequeues with cpp-host's results", async () => {
    const { emu, plugin } = await loadProbe(queueProbe, { concurrency: 1 });
    const st = (i: number) => plugin.readU32(res(i));
    for (const i of [0, 1, 2, 3]) assert.equal(st(i), WasmResult.Ok, `slot ${i}`);
    const token = st(20);
    assert.ok(token > 0);
    assert.deepEqual([st(21), st(22), st(23)], [token, token, token], "same token for the same (vm_id, name)");
    assert.equal(st(4), WasmResult.NotFound);
    assert.equal(st(5), WasmResult.Empty);
    assert.equal(st(6), WasmResult.NotFound);
    assert.equal(st(7), WasmResult.NotFound);
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(st(8), WasmResult.Ok);
    assert.equal(st(9), 1, "on_queue_ready posted and run");
    assert.equal(st(10), plugin.rootContextId());
    assert.equal(st(11), token);
    assert.equal(st(12), WasmResult.Ok);
    assert.equal(readOut(plugin, res(13), res(14)).toString(), "job-1");
    assert.deepEqual(emu.queueItems("jobs", "probe_vm"), []);
  });

  it("notifies only the last registrant (here the last worker to start)", async () => {
    const { emu, plugin } = await loadProbe(queueProbe, { concurrency: 2 });
    emu.newStream({ worker: 0 }).sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(plugin.readU32(res(9), 0), 0, "worker 0 registered first and was re-targeted away");
    assert.equal(plugin.readU32(res(9), 1), 1);
    assert.equal(readOut(plugin, res(13), res(14), 1).toString(), "job-1");
  });
});
