// The SDK's TCP context (test/sdk/modules/sdk-tcp) as Envoy's Wasm network filter drives it,
// through the emulator's connections (context creation, on_new_connection, data callbacks, close
// events, then on_done → on_log → on_delete, proxy-wasm-abi.md §3.4, §6.3).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PeerType } from "../../host/emulator/index.js";
import type { PluginRuntime } from "../../host/wasm/lifecycle.js";
import { loadModule, said } from "./emulated.js";

describe("SDK TCP context", () => {
  it("creates a TcpContext and rewrites data in both directions", async () => {
    const { emulator } = await loadModule("sdk-tcp");
    const conn = emulator.newConnection();
    assert.equal(conn.open(), 0);
    assert.equal(conn.sendDownstreamData("hello"), 0, "Continue");
    assert.equal(conn.upstream.data.toString(), "<HELLO>");
    // The upstream's end of stream is the only upstream close Envoy reports (peer Unknown, which
    // the module logs as "local"); the downstream close then ends the context.
    assert.equal(conn.sendUpstreamData("reply", { endStream: true }), 0);
    assert.equal(conn.downstream.data.toString(), "reply!");
    conn.closeDownstream(PeerType.Remote);
    assert.deepEqual(said(emulator, "tcp"), [
      "new connection with id",
      "downstream 5 hello",
      "upstream rep",
      "upstream append Ok",
      "upstream closed by local",
      "downstream closed by remote",
      "done",
      "log",
      "delete",
    ]);
  });

  it("pauses downstream data (StopIteration) and resumes it from the root", async () => {
    const { emulator, plugin } = await loadModule("sdk-tcp");
    const conn = emulator.newConnection();
    conn.open();
    assert.equal(conn.sendDownstreamData("hold"), 1, "Pause is StopIteration");
    assert.deepEqual(conn.requests, []);
    assert.equal(conn.upstream.data.length, 0);
    assert.equal(conn.pendingDownstream.toString(), "hold");
    // The module resumes from proxy_on_tick but never sets a tick period, so Envoy would never
    // tick it; call on_tick on the worker's root context the way the tick timer would.
    const { vm, root } = (plugin.plugin as PluginRuntime).workerState(0);
    vm.withDeferredActions(() => vm.call("proxy_on_tick", root!, root!.id));
    emulator.drain();
    assert.deepEqual(conn.requests, [{ request: "continueReading", filter: plugin.name }]);
    assert.ok(said(emulator, "tcp").includes("resume Ok"));
    assert.equal(conn.upstream.data.toString(), "hold", "continueReading() delivered the held data");
  });

  it("closes the connection", async () => {
    const { emulator, plugin } = await loadModule("sdk-tcp");
    const conn = emulator.newConnection();
    conn.open();
    conn.sendDownstreamData("close");
    assert.deepEqual(conn.requests, [{ request: "close", filter: plugin.name, details: "wasm_downstream_close" }]);
    assert.equal(conn.closedBy, PeerType.Local);
    assert.ok(said(emulator, "tcp").includes("close Ok"));
    assert.deepEqual(said(emulator, "tcp").slice(-4), ["downstream closed by local", "done", "log", "delete"]);
    assert.equal(plugin.failed(), false);
  });
});
