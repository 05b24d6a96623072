// TCP callbacks (proxy-wasm-abi.md §3.4) as Envoy's Wasm network filter drives them
// (extensions/common/wasm/context.cc onNewConnection/onData/onWrite/onEvent/onCloseTCP): lazy
// context creation, result conversion, buffers 2/3 and when they exist (§2.4, §4.2), continue and
// close for the Downstream/Upstream stream types (§2.6), close events with their PeerType and the
// TCP teardown order on_done → on_log → on_delete (§6.3), properties of a connection, failure
// policies (§6.5), chains of network filters and log prefixes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emulator, NetworkFilterStatus, PeerType, type EmulatedPlugin } from "../../host/emulator/index.js";
import { WasmResult } from "../../host/wasm/types.js";
import { loadProbe, probe, readOut, requestHeaders, res, type ProbeOptions } from "./wat-kit.js";

// ---------------------------------------------------------------------------- a tracing probe

/** Every callback appends (code, a, b) records here; the count is at EVENT_COUNT. */
const EVENT_COUNT = res(300);
const EVENTS = res(301);
/** The connection context id (remembered by on_context_create) and on_delete's context id. */
const CONN_ID = res(298);
const DELETED_ID = res(297);

const eventNames = ["", "create", "new_connection", "downstream_data", "upstream_data", "downstream_close", "upstream_close", "done", "log", "delete", "tick"];
const ev = (name: string, a = "(i32.const 0)", b = "(i32.const 0)") => `(call $ev (i32.const ${eventNames.indexOf(name)}) ${a} ${b})`;
const store = (i: number, call: string) => `(i32.store (i32.const ${res(i)}) ${call})`;

const traceFunction = `(func $ev (param $code i32) (param $a i32) (param $b i32) (local $p i32)
  (local.set $p (i32.add (i32.const ${EVENTS}) (i32.mul (i32.load (i32.const ${EVENT_COUNT})) (i32.const 12))))
  (i32.store (local.get $p) (local.get $code))
  (i32.store offset=4 (local.get $p) (local.get $a))
  (i32.store offset=8 (local.get $p) (local.get $b))
  (i32.store (i32.const ${EVENT_COUNT}) (i32.add (i32.load (i32.const ${EVENT_COUNT})) (i32.const 1))))`;

/** The events of a worker's VM as "name a b" strings (args only where they mean something). */
function events(plugin: EmulatedPlugin, worker = 0): string[] {
  const n = plugin.readU32(EVENT_COUNT, worker);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const [code, a, b] = [0, 4, 8].map((o) => plugin.readU32(EVENTS + 12 * i + o, worker)) as [number, number, number];
    const name = eventNames[code]!;
    if (name === "downstream_data" || name === "upstream_data") out.push(`${name} ${a} ${b}`);
    else if (name === "create" || name === "downstream_close" || name === "upstream_close") out.push(`${name} ${a}`);
    else out.push(name);
  }
  return out;
}

/**
 * A probe tracing every TCP callback. `returns` gives the result of on_new_connection and the data
 * callbacks (WAT, default Continue); `extra` adds code after the trace of a callback.
 */
function tcpProbe(o: { returns?: Record<string, string>; extra?: Record<string, string>; imports?: string[]; strings?: Record<string, string>; callbacks?: Record<string, string>; module?: string } = {}): ProbeOptions {
  const body = (name: string, trace: string, result?: string) => `${trace}\n${o.extra?.[name] ?? ""}\n${result === undefined ? "" : (o.returns?.[name] ?? result)}`;
  return {
    imports: ["proxy_log", ...(o.imports ?? [])],
    strings: o.strings,
    callbacks: {
      // Only stream contexts (parent ≠ 0) are traced; the parent is the root context id.
      proxy_on_context_create: `(if (local.get 1) (then ${ev("create", "(local.get 1)")} (i32.store (i32.const ${CONN_ID}) (local.get 0))))`,
      proxy_on_new_connection: body("proxy_on_new_connection", ev("new_connection"), "(i32.const 0)"),
      proxy_on_downstream_data: body("proxy_on_downstream_data", ev("downstream_data", "(local.get 1)", "(local.get 2)"), "(i32.const 0)"),
      proxy_on_upstream_data: body("proxy_on_upstream_data", ev("upstream_data", "(local.get 1)", "(local.get 2)"), "(i32.const 0)"),
      proxy_on_downstream_connection_close: body("proxy_on_downstream_connection_close", ev("downstream_close", "(local.get 1)")),
      proxy_on_upstream_connection_close: body("proxy_on_upstream_connection_close", ev("upstream_close", "(local.get 1)")),
      // Returns 0 ("not done"): Envoy ignores it for connections and goes on with on_log/on_delete.
      proxy_on_done: `${ev("done")} (i32.const 0)`,
      proxy_on_log: ev("log"),
      proxy_on_delete: `${ev("delete")} (i32.store (i32.const ${DELETED_ID}) (local.get 0))`,
      ...o.callbacks,
    },
    extra: `${traceFunction}\n${o.module ?? ""}`,
  };
}

const teardown = (peer: PeerType) => [`downstream_close ${peer}`, "done", "log", "delete"];

// ---------------------------------------------------------------------------- lifecycle

describe("connection lifecycle (§3.4, §6.3)", () => {
  it("creates the context when the connection opens and ends it with on_done → on_log → on_delete", async () => {
    const { emu, plugin } = await loadProbe(tcpProbe());
    const conn = emu.newConnection();
    assert.deepEqual(events(plugin), [], "no VM call before the connection opens");
    assert.equal(conn.open(), NetworkFilterStatus.Continue);
    const root = plugin.rootContextId();
    assert.deepEqual(events(plugin), [`create ${root}`, "new_connection"]);
    assert.equal(conn.sendDownstreamData("hello"), NetworkFilterStatus.Continue);
    assert.equal(conn.upstream.data.toString(), "hello");
    assert.equal(conn.sendUpstreamData("world!"), NetworkFilterStatus.Continue);
    assert.equal(conn.downstream.data.toString(), "world!");
    conn.closeDownstream(PeerType.Remote);
    assert.deepEqual(events(plugin), [`create ${root}`, "new_connection", "downstream_data 5 0", "upstream_data 6 0", ...teardown(PeerType.Remote)]);
    const id = plugin.readU32(CONN_ID);
    assert.notEqual(id, root);
    assert.equal(plugin.readU32(DELETED_ID), id);
    assert.equal(conn.closedBy, PeerType.Remote);
    conn.complete();
    assert.equal(events(plugin).length, 8, "nothing after on_delete");
    assert.deepEqual(
      conn.calls.map((c) => `${c.callback} ${c.status}`),
      ["onNewConnection 0", "onData 0", "onWrite 0"],
    );
  });

  it("never creates a context for a connection that does not open", async () => {
    const { emu, plugin } = await loadProbe(tcpProbe());
    emu.newConnection().complete();
    assert.deepEqual(events(plugin), []);
    assert.throws(() => emu.newConnection().sendDownstreamData("x"), /call open\(\) first/);
  });

  it("converts results: 0 is Continue, anything else StopIteration", async () => {
    for (const [raw, expected] of [
      [0, NetworkFilterStatus.Continue],
      [1, NetworkFilterStatus.StopIteration],
      [2, NetworkFilterStatus.StopIteration],
      [7, NetworkFilterStatus.StopIteration],
    ] as const) {
      const { emu } = await loadProbe(tcpProbe({ returns: { proxy_on_new_connection: `(i32.const ${raw})`, proxy_on_downstream_data: `(i32.const ${raw})`, proxy_on_upstream_data: `(i32.const ${raw})` } }));
      const conn = emu.newConnection();
      assert.equal(conn.open(), expected, `on_new_connection → ${raw}`);
      assert.equal(conn.sendDownstreamData("a"), expected, `on_downstream_data → ${raw}`);
      assert.equal(conn.sendUpstreamData("b"), expected, `on_upstream_data → ${raw}`);
      assert.equal(conn.upstream.data.toString(), raw === 0 ? "a" : "");
      assert.equal(conn.downstream.data.toString(), raw === 0 ? "b" : "");
    }
  });

  it("⚠ delivers data a filter stopped on again, together with the next bytes", async () => {
    // Stop until at least 8 bytes are there: the read buffer keeps what the filter did not let through.
    const { emu, plugin } = await loadProbe(tcpProbe({ returns: { proxy_on_downstream_data: "(i32.lt_u (local.get 1) (i32.const 8))" } }));
    const conn = emu.newConnection();
    conn.open();
    assert.equal(conn.sendDownstreamData("hold"), NetworkFilterStatus.StopIteration);
    assert.equal(conn.pendingDownstream.toString(), "hold");
    assert.equal(conn.sendDownstreamData("more"), NetworkFilterStatus.Continue);
    assert.equal(conn.upstream.data.toString(), "holdmore");
    assert.deepEqual(events(plugin).slice(2), ["downstream_data 4 0", "downstream_data 8 0"]);
    // Envoy's filter manager counts the whole read buffer on every read.
    assert.equal(conn.streamInfo.bytesReceived, 12);
  });

  it("passes end of stream each way; the upstream's end is on_upstream_connection_close(Unknown); both ends close the connection", async () => {
    const { emu, plugin } = await loadProbe(tcpProbe());
    const conn = emu.newConnection();
    conn.open();
    assert.equal(conn.sendDownstreamData("bye", { endStream: true }), NetworkFilterStatus.Continue);
    assert.deepEqual(conn.upstream, { data: Buffer.from("bye"), endStream: true });
    assert.equal(conn.closed, false, "half-closed: the upstream may still answer");
    conn.sendUpstreamData("ok", { endStream: true });
    assert.deepEqual(conn.downstream, { data: Buffer.from("ok"), endStream: true });
    assert.deepEqual(events(plugin).slice(2), ["downstream_data 3 1", "upstream_data 2 1", `upstream_close ${PeerType.Unknown}`, ...teardown(PeerType.Local)]);
    assert.equal(conn.closedBy, PeerType.Local, "Envoy closes once it has written its end");
  });

  it("closes as RemoteClose when the client's end of stream comes last, with on_downstream_data(0, 1)", async () => {
    const { emu, plugin } = await loadProbe(tcpProbe());
    const conn = emu.newConnection();
    conn.open();
    conn.sendUpstreamData("", { endStream: true });
    conn.sendDownstreamData("", { endStream: true });
    assert.deepEqual(events(plugin).slice(2), ["upstream_data 0 1", `upstream_close ${PeerType.Unknown}`, "downstream_data 0 1", ...teardown(PeerType.Remote)]);
    assert.throws(() => conn.sendDownstreamData("late"), /the connection is closed/);
  });

  it("closeUpstream: the upstream's end of stream, then tcp_proxy closes the downstream connection", async () => {
    const { emu, plugin } = await loadProbe(tcpProbe());
    const conn = emu.newConnection();
    conn.open();
    conn.closeUpstream();
    assert.deepEqual(events(plugin).slice(2), ["upstream_data 0 1", `upstream_close ${PeerType.Unknown}`, ...teardown(PeerType.Local)]);
    assert.equal(conn.downstream.endStream, true);
  });

  it("closeDownstream(Local): Envoy closed the connection", async () => {
    const { emu, plugin } = await loadProbe(tcpProbe());
    const conn = emu.newConnection();
    conn.open();
    conn.closeDownstream(PeerType.Local);
    assert.deepEqual(events(plugin).slice(2), teardown(PeerType.Local));
  });
});

// ---------------------------------------------------------------------------- buffers

describe("buffers 2 (DownstreamData) and 3 (UpstreamData) (§2.4, §4.2)", () => {
  const bufferImports = ["proxy_get_buffer_bytes", "proxy_set_buffer_bytes", "proxy_get_buffer_status"];
  const get = (type: number, start: number, len: number, slot: number) =>
    `(call $proxy_get_buffer_bytes (i32.const ${type}) (i32.const ${start}) (i32.const ${len}) (i32.const ${res(slot)}) (i32.const ${res(slot + 1)}))`;
  const set = (type: number, start: number | string, len: number | string, str: string) =>
    `(call $proxy_set_buffer_bytes (i32.const ${type}) ${typeof start === "number" ? `(i32.const ${start})` : start} ${typeof len === "number" ? `(i32.const ${len})` : len} $S(${str}))`;
  const status = (type: number, slot: number) => `(call $proxy_get_buffer_status (i32.const ${type}) (i32.const ${res(slot)}) (i32.const ${res(slot + 1)}))`;
  /** Reads, rewrites with every set_buffer_bytes rule, and checks the other buffer is absent. */
  const rewrite = (own: number, other: number) =>
    [
      store(0, get(own, 0, 100, 20)),
      store(1, get(own, 1, 2, 22)),
      store(2, set(own, 1, 1, "x")), // neither prepend, replace nor append: BadArgument
      store(3, set(own, 0, "(local.get 1)", "whole")),
      store(4, set(own, 0, 0, "head")),
      store(5, set(own, 1000, 0, "tail")),
      store(6, status(own, 24)),
      store(7, get(other, 0, 100, 26)),
      store(8, set(other, 0, 0, "x")),
    ].join("\n");
  const strings = { x: "x", whole: "WHOLE", head: "<", tail: ">" };

  function assertRewrite(plugin: EmulatedPlugin, original: string): void {
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(readOut(plugin, res(20), res(21)).toString(), original);
    assert.equal(readOut(plugin, res(22), res(23)).toString(), original.slice(1, 3));
    assert.equal(plugin.readU32(res(2)), WasmResult.BadArgument);
    for (const i of [3, 4, 5, 6]) assert.equal(plugin.readU32(res(i)), WasmResult.Ok, `slot ${i}`);
    assert.deepEqual([plugin.readU32(res(24)), plugin.readU32(res(25))], [7, 0], "size after the edits, flags always 0");
    assert.equal(plugin.readU32(res(7)), WasmResult.Ok, "the other direction's buffer reads as empty");
    assert.equal(plugin.readU32(res(27)), 0);
    assert.equal(plugin.readU32(res(8)), WasmResult.BadArgument, "and refuses writes");
  }

  for (const [direction, own, other, callback] of [
    ["downstream", 2, 3, "proxy_on_downstream_data"],
    ["upstream", 3, 2, "proxy_on_upstream_data"],
  ] as const) {
    it(`reads and rewrites ${direction} data inside ${callback}`, async () => {
      const { emu, plugin } = await loadProbe(tcpProbe({ imports: bufferImports, strings, extra: { [callback]: rewrite(own, other) } }));
      const conn = emu.newConnection();
      conn.open();
      if (direction === "downstream") conn.sendDownstreamData("hello");
      else conn.sendUpstreamData("hello");
      assertRewrite(plugin, "hello");
      assert.equal((direction === "downstream" ? conn.upstream : conn.downstream).data.toString(), "<WHOLE>");
    });
  }

  it("reads both as empty and refuses writes outside the data callbacks, also on HTTP streams", async () => {
    const outside = [2, 3].map((t, i) => [store(i * 3, get(t, 0, 10, 20 + 2 * i)), store(i * 3 + 1, set(t, 0, 0, "x")), store(i * 3 + 2, status(t, 30 + 2 * i))].join("\n")).join("\n");
    const check = (plugin: EmulatedPlugin) => {
      for (const i of [0, 1]) {
        assert.equal(plugin.readU32(res(i * 3)), WasmResult.Ok);
        assert.equal(plugin.readU32(res(21 + 2 * i)), 0, "zero length");
        assert.equal(plugin.readU32(res(i * 3 + 1)), WasmResult.BadArgument);
        assert.equal(plugin.readU32(res(i * 3 + 2)), WasmResult.Ok);
        assert.equal(plugin.readU32(res(30 + 2 * i)), 0);
      }
    };
    const tcp = await loadProbe(tcpProbe({ imports: bufferImports, strings, extra: { proxy_on_new_connection: outside } }));
    tcp.emu.newConnection().open();
    check(tcp.plugin);
    const http = await loadProbe({ imports: bufferImports, strings, callbacks: { proxy_on_request_headers: `${outside} (i32.const 0)` } });
    http.emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    check(http.plugin);
  });

  it("keeps held data reachable from another callback until the filter lets it through", async () => {
    const { emu, plugin } = await loadProbe(
      tcpProbe({
        imports: [...bufferImports, "proxy_set_tick_period_milliseconds", "proxy_set_effective_context", "proxy_continue_stream"],
        strings: { bang: "!" },
        returns: { proxy_on_downstream_data: "(i32.const 1)" },
        callbacks: {
          proxy_on_configure: "(drop (call $proxy_set_tick_period_milliseconds (i32.const 1000))) (i32.const 1)",
          proxy_on_tick: [
            store(0, `(call $proxy_set_effective_context (i32.load (i32.const ${CONN_ID})))`),
            store(1, get(2, 0, 100, 20)),
            store(2, set(2, 1000, 0, "bang")),
            store(3, "(call $proxy_continue_stream (i32.const 2))"),
            store(4, "(call $proxy_continue_stream (i32.const 3))"),
          ].join("\n"),
        },
      }),
    );
    const conn = emu.newConnection();
    conn.open();
    assert.equal(conn.sendDownstreamData("hold"), NetworkFilterStatus.StopIteration);
    assert.equal(conn.upstream.data.length, 0);
    emu.advance(1000);
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(readOut(plugin, res(20), res(21)).toString(), "hold");
    assert.equal(plugin.readU32(res(2)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(3)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(4)), WasmResult.Unimplemented, "the write path cannot be resumed");
    assert.equal(conn.upstream.data.toString(), "hold!", "continueReading() ran after on_tick returned");
    assert.deepEqual(conn.requests, [{ request: "continueReading", filter: "probe" }]);
  });
});

// ---------------------------------------------------------------------------- stream control

describe("continue and close on a connection (§2.6)", () => {
  const controlImports = ["proxy_continue_stream", "proxy_close_stream", "proxy_send_local_response"];

  it("validates stream types and resumes reading after the callback returns", async () => {
    const { emu, plugin } = await loadProbe(
      tcpProbe({
        imports: controlImports,
        returns: { proxy_on_downstream_data: "(i32.const 1)" },
        extra: {
          proxy_on_downstream_data: [
            store(0, "(call $proxy_continue_stream (i32.const 4))"),
            store(1, "(call $proxy_continue_stream (i32.const 3))"),
            store(2, "(call $proxy_continue_stream (i32.const 0))"),
            store(3, "(call $proxy_continue_stream (i32.const 1))"),
            store(4, "(call $proxy_close_stream (i32.const 4))"),
            store(5, "(call $proxy_continue_stream (i32.const 2))"),
          ].join("\n"),
        },
      }),
    );
    const conn = emu.newConnection();
    conn.open();
    assert.equal(conn.sendDownstreamData("data"), NetworkFilterStatus.StopIteration);
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => plugin.readU32(res(i))), [
      WasmResult.BadArgument,
      WasmResult.Unimplemented,
      WasmResult.Ok,
      WasmResult.Ok,
      WasmResult.BadArgument,
      WasmResult.Ok,
    ]);
    // Envoy runs the deferred continueReading() before the filter's StopIteration reaches the
    // filter manager: the data went on.
    assert.equal(conn.upstream.data.toString(), "data");
    assert.deepEqual(conn.requests, [{ request: "continueReading", filter: "probe" }]);
  });

  it("proxy_close_stream(Downstream) closes the connection after the callback (LocalClose, wasm_downstream_close)", async () => {
    const { emu, plugin } = await loadProbe(tcpProbe({ imports: controlImports, extra: { proxy_on_downstream_data: store(0, "(call $proxy_close_stream (i32.const 2))") } }));
    const conn = emu.newConnection();
    conn.open();
    assert.equal(conn.sendDownstreamData("data"), NetworkFilterStatus.Continue);
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.deepEqual(events(plugin).slice(2), ["downstream_data 4 0", ...teardown(PeerType.Local)]);
    assert.equal(conn.upstream.data.length, 0, "a closed connection forwards nothing");
    assert.equal(conn.closeDetails, "wasm_downstream_close");
    assert.deepEqual(conn.requests, [{ request: "close", filter: "probe", details: "wasm_downstream_close" }]);
    assert.equal(conn.closedBy, PeerType.Local);
  });

  it("⚠ proxy_close_stream(Upstream) closes the downstream connection too (wasm_upstream_close)", async () => {
    const { emu, plugin } = await loadProbe(tcpProbe({ imports: controlImports, extra: { proxy_on_upstream_data: store(0, "(call $proxy_close_stream (i32.const 3))") } }));
    const conn = emu.newConnection();
    conn.open();
    conn.sendUpstreamData("reply");
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.deepEqual(events(plugin).slice(2), ["upstream_data 5 0", ...teardown(PeerType.Local)]);
    assert.equal(conn.downstream.data.length, 0);
    assert.equal(conn.closeDetails, "wasm_upstream_close");
    assert.deepEqual(conn.requests, [{ request: "close", filter: "probe", details: "wasm_upstream_close" }]);
  });

  it("ignores proxy_send_local_response on a connection: OK, and the result is not forced to stop", async () => {
    const { emu, plugin } = await loadProbe(
      tcpProbe({ imports: controlImports, extra: { proxy_on_downstream_data: store(0, "(call $proxy_send_local_response (i32.const 403) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const -1))") } }),
    );
    const conn = emu.newConnection();
    conn.open();
    assert.equal(conn.sendDownstreamData("data"), NetworkFilterStatus.Continue);
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(conn.upstream.data.toString(), "data");
    assert.equal(conn.closed, false);
  });
});

// ---------------------------------------------------------------------------- properties

describe("properties of a connection (§2.3, §7.2)", () => {
  it("serves source/destination/connection.*, request.* without headers, and stores filter state", async () => {
    const paths = [
      ["source", "address"],
      ["source", "port"],
      ["destination", "address"],
      ["connection", "id"],
      ["connection_id"],
      ["connection", "mtls"],
      ["request", "time"],
      ["request", "size"],
      ["request", "protocol"],
      ["request", "path"],
      ["response", "code"],
      ["plugin_name"],
      ["xds", "cluster_name"],
      ["tcp_seen"],
      ["request", "headers"],
      ["request", "total_size"],
    ];
    const strings: Record<string, string> = { key: "tcp_seen", value: "yes" };
    paths.forEach((p, i) => (strings[`p${i}`] = p.join("\0")));
    const lookups = paths.map((_, i) => store(3 * i, `(call $proxy_get_property $S(p${i}) (i32.const ${res(3 * i + 1)}) (i32.const ${res(3 * i + 2)}))`)).join("\n");
    const { emu, plugin } = await loadProbe(
      tcpProbe({
        imports: ["proxy_get_property", "proxy_set_property"],
        strings,
        extra: { proxy_on_downstream_data: `${store(60, "(call $proxy_set_property $S(key) $S(value))")}\n${lookups}` },
      }),
    );
    const conn = emu.newConnection({
      connection: { id: 42n, source: { ip: "10.0.0.7", port: 41000 }, destination: { ip: "10.0.0.9", port: 9000 } },
      streamInfo: { clusterName: "backend" },
    });
    conn.open();
    conn.sendDownstreamData("12345");
    const status = (i: number) => plugin.readU32(res(3 * i));
    const value = (i: number) => readOut(plugin, res(3 * i + 1), res(3 * i + 2));
    assert.equal(plugin.readU32(res(60)), WasmResult.Ok);
    assert.equal(value(0).toString(), "10.0.0.7:41000");
    assert.equal(value(1).readBigInt64LE(), 41000n);
    assert.equal(value(2).toString(), "10.0.0.9:9000");
    assert.equal(value(3).readBigUInt64LE(), 42n);
    assert.equal(value(4).readBigUInt64LE(), 42n);
    assert.deepEqual([...value(5)], [0]);
    assert.equal(value(6).readBigInt64LE(), conn.streamInfo.startTimeNs, "request.time is the connection's start");
    assert.equal(value(7).readBigInt64LE(), 5n, "request.size counts the bytes received");
    assert.equal(status(8), WasmResult.NotFound, "a connection has no HTTP protocol");
    assert.equal(status(9), WasmResult.NotFound, "no request headers on a connection");
    assert.equal(status(10), WasmResult.NotFound);
    assert.equal(value(11).toString(), "probe");
    assert.equal(value(12).toString(), "backend");
    assert.equal(value(13).toString(), "yes", "proxy_set_property's value reads back");
    assert.equal(Buffer.from(conn.filterState("wasm.tcp_seen")!.bytes).toString(), "yes");
    assert.deepEqual([...value(14)], [0, 0, 0, 0], "request.headers: an empty map (no pairs)");
    assert.equal(value(15).readBigInt64LE(), 5n);
  });
});

// ---------------------------------------------------------------------------- failure

describe("failure policies on a connection (§6.5)", () => {
  /** Traps on downstream data that starts with 'b'. */
  const trapping = (extra: Record<string, string> = {}) =>
    tcpProbe({
      imports: ["proxy_get_buffer_bytes"],
      extra: {
        proxy_on_downstream_data: `(drop (call $proxy_get_buffer_bytes (i32.const 2) (i32.const 0) (i32.const 1) (i32.const ${res(0)}) (i32.const ${res(1)})))
          (if (i32.eq (i32.load8_u (i32.load (i32.const ${res(0)}))) (i32.const 98)) (then unreachable))`,
        ...extra,
      },
    });

  it("FAIL_CLOSED: a trap closes the connection, no more callbacks; later connections close at once", async () => {
    const { emu, plugin } = await loadProbe(trapping(), { failurePolicy: "FAIL_CLOSED" });
    const conn = emu.newConnection();
    conn.open();
    assert.equal(conn.sendDownstreamData("boom"), NetworkFilterStatus.StopIteration);
    assert.match(emu.logs("error")[0]!, /^Function: proxy_on_downstream_data failed: Uncaught RuntimeError: unreachable/);
    assert.equal(plugin.failed(), true);
    assert.equal(conn.closed, true);
    assert.equal(conn.closedBy, PeerType.Local);
    assert.equal(conn.closeDetails, "");
    assert.deepEqual(conn.requests, [{ request: "close", filter: "probe", details: "" }]);
    assert.equal(conn.upstream.data.length, 0);
    assert.deepEqual(events(plugin).slice(2), ["downstream_data 4 0"], "no close callback, on_done, on_log or on_delete");
    const next = emu.newConnection();
    assert.equal(next.open(), NetworkFilterStatus.StopIteration);
    assert.equal(next.closed, true);
    assert.equal(events(plugin).length, 3, "the empty context never calls the VM");
  });

  it("FAIL_OPEN: the failed filter lets data through; new connections skip it", async () => {
    const { emu, plugin } = await loadProbe(trapping(), { failurePolicy: "FAIL_OPEN" });
    const conn = emu.newConnection();
    conn.open();
    assert.equal(conn.sendDownstreamData("boom"), NetworkFilterStatus.Continue);
    assert.equal(conn.upstream.data.toString(), "boom");
    conn.sendUpstreamData("reply");
    assert.equal(conn.downstream.data.toString(), "reply");
    conn.closeDownstream();
    assert.deepEqual(events(plugin).slice(2), ["downstream_data 4 0"]);
    const next = emu.newConnection();
    assert.equal(next.open(), undefined, "no plugin filter in the chain");
    next.sendDownstreamData("x");
    assert.equal(next.upstream.data.toString(), "x");
    assert.deepEqual(next.calls, []);
  });

  it("FAIL_RELOAD: a fresh VM serves connections after the backoff", async () => {
    const { emu, plugin } = await loadProbe(trapping(), { failurePolicy: "FAIL_RELOAD", reloadBackoffMs: 500, concurrency: 1 });
    const conn = emu.newConnection();
    conn.open();
    conn.sendDownstreamData("boom");
    assert.equal(conn.closed, true);
    assert.equal(emu.newConnection().open(), NetworkFilterStatus.StopIteration, "within the backoff: closed");
    emu.advance(500);
    const reloaded = emu.newConnection();
    assert.equal(reloaded.open(), NetworkFilterStatus.Continue);
    reloaded.sendDownstreamData("fine");
    assert.equal(reloaded.upstream.data.toString(), "fine");
    assert.equal(plugin.failed(), false);
    assert.deepEqual(events(plugin).slice(1), ["new_connection", "downstream_data 4 0"], "a new VM, fresh memory");
  });
});

// ---------------------------------------------------------------------------- chains, logs

describe("network filter chains and logs", () => {
  it("runs read filters in order and write filters in reverse; a stop in on_new_connection delays the next filter's", async () => {
    const emu = new Emulator();
    const a = await emu.loadPlugin({ name: "a", vmId: "a", wasm: await probe(tcpProbe({ returns: { proxy_on_new_connection: "(i32.const 1)" } })) });
    const b = await emu.loadPlugin({ name: "b", vmId: "b", wasm: await probe(tcpProbe()) });
    const conn = emu.newConnection({ plugins: [a, b] });
    assert.equal(conn.open(), NetworkFilterStatus.StopIteration);
    conn.sendDownstreamData("x");
    conn.sendUpstreamData("y");
    assert.deepEqual(
      conn.calls.map((c) => `${c.filter}.${c.callback}`),
      ["a.onNewConnection", "a.onData", "b.onNewConnection", "b.onData", "b.onWrite", "a.onWrite"],
    );
    assert.equal(conn.upstream.data.toString(), "x");
    assert.equal(conn.downstream.data.toString(), "y");
    conn.closeDownstream();
    for (const p of [a, b]) assert.deepEqual(events(p).slice(-4), teardown(PeerType.Remote), p.name);
  });

  it("logs with the plugin's prefix from a connection context", async () => {
    const { emu } = await loadProbe(tcpProbe({ strings: { hi: "hello from tcp" }, extra: { proxy_on_new_connection: "(drop (call $proxy_log (i32.const 2) $S(hi)))" } }));
    emu.newConnection().open();
    assert.deepEqual(emu.logs("info"), ["wasm log probe probe_root probe_vm: hello from tcp"]);
  });
});
