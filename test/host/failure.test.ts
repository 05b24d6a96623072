// Traps and failure policies (proxy-wasm-abi.md §6.5): the VM fails as a whole with Envoy's log
// line and in-VM backtrace; FAIL_CLOSED answers one 503 `wasm_fail_stream` per stream, FAIL_OPEN
// skips the filter, FAIL_RELOAD builds a new VM for later streams after the backoff.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emulator } from "../../host/emulator/index.js";
import { FilterHeadersStatus } from "../../host/http/filter.js";
import { wat } from "../support/wat.js";
import { loadProbe, probe, probeText, requestHeaders, res } from "./wat-kit.js";

/** Traps on a request whose path is "/boom" (reads the first byte after the slash: 'b'). */
const trapping = {
  imports: ["proxy_get_header_map_value", "proxy_add_header_map_value"],
  strings: { path: ":path", k: "x-seen", v: "1" },
  callbacks: {
    proxy_on_request_headers: `(drop (call $proxy_get_header_map_value (i32.const 0) $S(path) (i32.const ${res(0)}) (i32.const ${res(1)})))
      (if (i32.eq (i32.load8_u (i32.add (i32.load (i32.const ${res(0)})) (i32.const 1))) (i32.const 98)) (then (call $boom)))
      (drop (call $proxy_add_header_map_value (i32.const 0) $S(k) $S(v)))
      (i32.const 0)`,
    proxy_on_log: `(i32.store (i32.const ${res(5)}) (i32.add (i32.load (i32.const ${res(5)})) (i32.const 1)))`,
  },
  extra: `(func $boom (call $deeper)) (func $deeper unreachable)`,
};
const boom = { ...requestHeaders, ":path": "/boom" };
const fine = { ...requestHeaders, ":path": "/fine" };

describe("traps", () => {
  it("fail the VM and log Envoy's message with the in-VM backtrace", async () => {
    const { emu, plugin } = await loadProbe(trapping, { failurePolicy: "FAIL_CLOSED" });
    const s = emu.newStream();
    assert.equal(s.sendRequestHeaders(boom, { endStream: true }), FilterHeadersStatus.StopAllIterationAndWatermark);
    const [message] = emu.logs("error");
    const lines = message!.split("\n");
    assert.equal(lines[0], "Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable");
    assert.equal(lines[1], "Proxy-Wasm plugin in-VM backtrace:");
    assert.match(lines[2]!, /^ {2}0: {2}0x[0-9a-f]+ - deeper$/);
    assert.match(lines[3]!, /^ {2}1: {2}0x[0-9a-f]+ - boom$/);
    assert.match(lines[4]!, /^ {2}2: {2}0x[0-9a-f]+ - unknown\(function index:\d+\)$/, "an export without a name");
    assert.equal(plugin.failed(0), true);
    assert.equal(plugin.failed(1), false, "other workers have their own VM");
  });

  it("prints no backtrace for a module without a name section", async () => {
    const emu = new Emulator();
    await emu.loadPlugin({ wasm: await wat(probeText(trapping), { names: false }), concurrency: 1 });
    emu.newStream().sendRequestHeaders(boom, { endStream: true });
    assert.deepEqual(emu.logs("error"), ["Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable"]);
  });

  it("report out-of-bounds accesses and stack overflows with V8's messages", async () => {
    const { emu } = await loadProbe({
      imports: ["proxy_get_header_map_value"],
      strings: { path: ":path" },
      callbacks: {
        proxy_on_request_headers: `(drop (call $proxy_get_header_map_value (i32.const 0) $S(path) (i32.const ${res(0)}) (i32.const ${res(1)})))
          (if (i32.eq (i32.load8_u (i32.add (i32.load (i32.const ${res(0)})) (i32.const 1))) (i32.const 111)) (then (drop (i32.load (i32.const 0x7ffffff0)))))
          (call $recurse) (i32.const 0)`,
      },
      extra: "(func $recurse (call $recurse))",
    }, { concurrency: 2 });
    emu.newStream({ worker: 0 }).sendRequestHeaders({ ...requestHeaders, ":path": "/oob" }, { endStream: true });
    emu.newStream({ worker: 1 }).sendRequestHeaders({ ...requestHeaders, ":path": "/x" }, { endStream: true });
    const [oob, overflow] = emu.logs("error");
    assert.match(oob!, /^Function: proxy_on_request_headers failed: Uncaught RuntimeError: memory access out of bounds/);
    assert.match(overflow!, /^Function: proxy_on_request_headers failed: Uncaught RangeError: Maximum call stack size exceeded/);
  });
});

describe("failure policies", () => {
  it("FAIL_CLOSED: one 503 wasm_fail_stream per stream, no more VM calls on that worker", async () => {
    const { emu, plugin } = await loadProbe(trapping, { failurePolicy: "FAIL_CLOSED" });
    const inFlight = emu.newStream({ worker: 0 });
    inFlight.sendRequestHeaders(fine);
    const s = emu.newStream({ worker: 0 });
    s.sendRequestHeaders(boom, { endStream: true });
    assert.deepEqual(s.localReply, { status: 503, body: "", grpcStatus: 14, details: "wasm_fail_stream" });
    assert.equal(s.downstream.headers?.get(":status"), "503");
    assert.equal(s.upstream.headers, null);
    // A stream that was already running fails at its next callback.
    inFlight.sendRequestBody("b");
    assert.equal(inFlight.downstream.headers?.get(":status"), "503");
    // New streams on that worker: 503 without calling the VM (no x-seen, no on_log).
    const later = emu.newStream({ worker: 0 });
    later.sendRequestHeaders(fine, { endStream: true });
    assert.equal(later.localReply?.details, "wasm_fail_stream");
    later.complete();
    assert.equal(plugin.readU32(res(5), 0), 0, "on_log skipped on a failed VM");
    // gRPC requests get Unavailable.
    const g = emu.newStream({ worker: 0 });
    g.sendRequestHeaders({ ...fine, "content-type": "application/grpc" }, { endStream: true });
    assert.equal(g.downstream.headers?.get("grpc-status"), "14");
    // The other worker still works.
    const ok = emu.newStream({ worker: 1 });
    ok.sendRequestHeaders(fine, { endStream: true });
    assert.equal(ok.upstream.headers?.get("x-seen"), "1");
  });

  it("FAIL_OPEN: the trapping stream continues and later streams skip the filter", async () => {
    const { emu } = await loadProbe(trapping, { failurePolicy: "FAIL_OPEN" });
    const s = emu.newStream();
    assert.equal(s.sendRequestHeaders(boom, { endStream: true }), FilterHeadersStatus.Continue);
    assert.ok(s.upstream.headers);
    const later = emu.newStream();
    later.sendRequestHeaders(fine, { endStream: true });
    assert.equal(later.upstream.headers?.get("x-seen"), undefined, "filter skipped");
    assert.equal(later.localReply, null);
  });

  it("FAIL_RELOAD: 503 while backing off, then a fresh VM serves later streams", async () => {
    const { emu, plugin } = await loadProbe(trapping, { failurePolicy: "FAIL_RELOAD", reloadBackoffMs: 500, concurrency: 1 });
    const created = emu.counter("wasm.envoy.wasm.runtime.v8.created")!;
    emu.advance(100);
    emu.newStream().sendRequestHeaders(boom, { endStream: true });
    // Loaded 100 ms ago: within the backoff → fail closed.
    const early = emu.newStream();
    early.sendRequestHeaders(fine, { endStream: true });
    assert.equal(early.localReply?.details, "wasm_fail_stream");
    emu.advance(400);
    const reloaded = emu.newStream();
    reloaded.sendRequestHeaders(fine, { endStream: true });
    assert.equal(reloaded.upstream.headers?.get("x-seen"), "1");
    assert.equal(plugin.failed(), false);
    assert.equal(emu.counter("wasm.envoy.wasm.runtime.v8.created"), created + 1n, "one new VM");
  });

  it("rejects the plugin when on_configure traps in the canary, with the trap as the message", async () => {
    const emu = new Emulator();
    await assert.rejects(
      emu.loadPlugin({ wasm: await probe({ callbacks: { proxy_on_configure: "unreachable" } }) }),
      { name: "WasmLoadError", message: /^Function: proxy_on_configure failed: Uncaught RuntimeError: unreachable/ },
    );
  });
});
