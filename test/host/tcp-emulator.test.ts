// The emulator's connection API (host/emulator/README.md "Connections (TCP)"): the README's
// example, held upstream data, per-worker VMs, connection ids, teardown of the contexts, and the
// errors a test gets for driving a connection the way no client or upstream could.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NetworkFilterStatus, PeerType } from "../../host/emulator/index.js";
import { WasmResult } from "../../host/wasm/types.js";
import { loadProbe, res } from "./wat-kit.js";

/** Upper-cases downstream data in place (get, edit in the VM's memory, replace). */
const upperCase = {
  imports: ["proxy_get_buffer_bytes", "proxy_set_buffer_bytes"],
  callbacks: {
    proxy_on_downstream_data: `(local $p i32) (local $n i32) (local $i i32) (local $c i32)
      (drop (call $proxy_get_buffer_bytes (i32.const 2) (i32.const 0) (local.get 1) (i32.const ${res(0)}) (i32.const ${res(1)})))
      (local.set $p (i32.load (i32.const ${res(0)})))
      (local.set $n (i32.load (i32.const ${res(1)})))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (if (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
          (then (i32.store8 (i32.add (local.get $p) (local.get $i)) (i32.sub (local.get $c) (i32.const 32)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
      (drop (call $proxy_set_buffer_bytes (i32.const 2) (i32.const 0) (local.get 1) (local.get $p) (local.get $n)))
      (i32.const 0)`,
  },
};

describe("emulator connections", () => {
  it("runs the README example", async () => {
    const { emu } = await loadProbe(upperCase);
    const conn = emu.newConnection({ connection: { source: { ip: "10.0.0.7", port: 41000 } } });
    assert.equal(conn.open(), NetworkFilterStatus.Continue);
    assert.equal(conn.sendDownstreamData("hello"), NetworkFilterStatus.Continue);
    assert.equal(conn.upstream.data.toString(), "HELLO");
    conn.sendUpstreamData("bye", { endStream: true });
    assert.equal(conn.downstream.data.toString(), "bye");
    conn.closeDownstream(PeerType.Remote);
    assert.equal(conn.closedBy, PeerType.Remote);
    assert.equal(conn.lastStatus("onData", "probe"), NetworkFilterStatus.Continue);
    assert.equal(conn.streamInfo.bytesReceived, 5);
    assert.equal(conn.streamInfo.bytesSent, 3);
  });

  it("holds upstream data a write filter stopped on and delivers it with the next upstream bytes", async () => {
    const { emu } = await loadProbe({ callbacks: { proxy_on_upstream_data: "(i32.lt_u (local.get 1) (i32.const 6))" } });
    const conn = emu.newConnection();
    conn.open();
    assert.equal(conn.sendUpstreamData("abc"), NetworkFilterStatus.StopIteration);
    assert.equal(conn.pendingUpstream.toString(), "abc");
    assert.equal(conn.downstream.data.length, 0);
    assert.equal(conn.streamInfo.bytesSent, 0, "counted once the write filters let it through");
    assert.equal(conn.sendUpstreamData("def"), NetworkFilterStatus.Continue);
    assert.equal(conn.downstream.data.toString(), "abcdef");
    assert.equal(conn.pendingUpstream.length, 0);
    assert.equal(conn.streamInfo.bytesSent, 6);
  });

  it("serves a connection from the chosen worker's VM and gives each connection its own id", async () => {
    const { emu, plugin } = await loadProbe({ callbacks: { proxy_on_new_connection: `(i32.store (i32.const ${res(0)}) (i32.add (i32.load (i32.const ${res(0)})) (i32.const 1))) (i32.const 0)` } });
    const first = emu.newConnection({ worker: 1 });
    first.open();
    const second = emu.newConnection({ worker: 1 });
    second.open();
    assert.deepEqual([plugin.readU32(res(0), 0), plugin.readU32(res(0), 1)], [0, 2]);
    assert.notEqual(first.streamInfo.connection.id, second.streamInfo.connection.id);
    assert.throws(() => emu.newConnection({ worker: 5 }), /worker 5 does not exist/);
  });

  it("removes the connection's context from the VM after it closes (deferred delete)", async () => {
    const CONN = res(50);
    const { emu, plugin } = await loadProbe({
      imports: ["proxy_set_tick_period_milliseconds", "proxy_set_effective_context"],
      callbacks: {
        proxy_on_configure: "(drop (call $proxy_set_tick_period_milliseconds (i32.const 10))) (i32.const 1)",
        proxy_on_context_create: `(if (local.get 1) (then (i32.store (i32.const ${CONN}) (local.get 0))))`,
        proxy_on_tick: `(i32.store (i32.const ${res(1)}) (call $proxy_set_effective_context (i32.load (i32.const ${CONN}))))`,
      },
    });
    const conn = emu.newConnection();
    conn.open();
    emu.advance(10);
    assert.equal(plugin.readU32(res(1)), WasmResult.Ok, "the open connection's context exists");
    conn.complete();
    emu.advance(10);
    assert.equal(plugin.readU32(res(1)), WasmResult.BadArgument, "gone once the connection was destroyed");
  });

  it("refuses to drive a connection the way no client or upstream could", async () => {
    const { emu } = await loadProbe({ callbacks: { proxy_on_new_connection: "(i32.const 0)" } });
    const conn = emu.newConnection();
    conn.open();
    assert.throws(() => conn.open(), /already open/);
    conn.sendUpstreamData("x", { endStream: true });
    assert.throws(() => conn.sendUpstreamData("y"), /upstream already ended/);
    conn.sendDownstreamData("z", { endStream: true });
    assert.equal(conn.closed, true, "both directions ended");
    assert.throws(() => conn.closeDownstream(), /the connection is closed/);
    conn.complete();
    assert.throws(() => conn.sendDownstreamData("w"), /already completed/);
    const other = emu.newConnection();
    other.open();
    other.sendDownstreamData("a", { endStream: true });
    assert.throws(() => other.sendDownstreamData("b"), /client already ended/);
  });
});
