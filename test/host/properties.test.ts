// Properties (proxy-wasm-abi.md §2.3, §5.2, §5.3, §7.2; filters.md §0): the attribute tree with
// Envoy's serialization, availability per phase, filter state written by proxy_set_property,
// declare_property types, and the legacy (pre-1.33) names behind an option.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emulator, type EmulatedPlugin } from "../../host/emulator/index.js";
import { decodeToObject, encodeJson } from "../../host/envoy/protos.js";
import { decodePairs } from "../../host/wasm/pairs.js";
import { WasmResult } from "../../host/wasm/types.js";
import { loadProbe, readOut, requestHeaders, res } from "./wat-kit.js";

const node = { id: "sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local", cluster: "productpage.ns", metadata: { NAME: "productpage-v1", LABELS: { app: "productpage" }, LIST: [1, "a"] } };

/** One result triple (status, ptr, len) per path, slots 3i..3i+2 from `base`. */
function propertyCalls(paths: string[][], base = 0): { strings: Record<string, string>; body: string } {
  const strings: Record<string, string> = {};
  const body = paths
    .map((segments, i) => {
      strings[`p${base + i}`] = segments.join("\0");
      const slot = (base + i) * 3;
      return `(i32.store (i32.const ${res(slot)}) (call $proxy_get_property $S(p${base + i}) (i32.const ${res(slot + 1)}) (i32.const ${res(slot + 2)})))`;
    })
    .join("\n");
  return { strings, body };
}

function reader(plugin: EmulatedPlugin, base = 0) {
  return {
    status: (i: number) => plugin.readU32(res((base + i) * 3)),
    bytes: (i: number) => readOut(plugin, res((base + i) * 3 + 1), res((base + i) * 3 + 2)),
    text: (i: number) => readOut(plugin, res((base + i) * 3 + 1), res((base + i) * 3 + 2)).toString(),
    int: (i: number) => readOut(plugin, res((base + i) * 3 + 1), res((base + i) * 3 + 2)).readBigInt64LE(),
    uint: (i: number) => readOut(plugin, res((base + i) * 3 + 1), res((base + i) * 3 + 2)).readBigUInt64LE(),
  };
}

describe("attribute tree", () => {
  it("serves xds.node as protobuf, navigates into it, and the plugin_* names, in the root context", async () => {
    const paths = [
      ["xds", "node"],
      ["xds", "node", "id"],
      ["xds", "node", "metadata", "NAME"],
      ["xds", "node", "metadata", "LABELS"],
      ["xds", "node", "metadata", "LIST"],
      ["xds", "node", "metadata", "LIST", "1"],
      ["xds", "node", "nope"],
      ["plugin_name"],
      ["plugin_root_id"],
      ["plugin_vm_id"],
      ["request", "path"],
      ["no_such_attribute"],
      ["node"],
      ["xds", "node", "metadata", "LIST", "0"],
    ];
    const { strings, body } = propertyCalls(paths);
    const emu = new Emulator({ node });
    const { plugin } = await loadProbe({ imports: ["proxy_get_property"], strings, callbacks: { proxy_on_configure: `${body} (i32.const 1)` } }, { name: "pn", rootId: "rid", vmId: "vid" }, emu);
    const r = reader(plugin);
    assert.equal(r.status(0), WasmResult.Ok);
    assert.deepEqual(Buffer.from(r.bytes(0)), Buffer.from(encodeJson("envoy.config.core.v3.Node", node)));
    assert.equal(decodeToObject("envoy.config.core.v3.Node", r.bytes(0)).id, node.id);
    assert.equal(r.text(1), node.id);
    assert.equal(r.text(2), "productpage-v1");
    assert.deepEqual(decodePairs(r.bytes(3)), [["app", "productpage"]], "a Struct reads as a map (pairs)");
    // A list: pairs with each item as key; 1 is a double.
    const list = decodePairs(r.bytes(4));
    assert.equal(list.length, 2);
    assert.equal(Buffer.from(list[0]![0], "latin1").readDoubleLE(), 1);
    assert.equal(list[1]![0], "a");
    assert.equal(r.text(5), "a");
    assert.equal(r.status(6), WasmResult.NotFound);
    assert.deepEqual([r.text(7), r.text(8), r.text(9)], ["pn", "rid", "vid"]);
    assert.equal(r.status(10), WasmResult.NotFound, "no request in the root context");
    assert.equal(r.status(11), WasmResult.NotFound);
    assert.equal(r.status(12), WasmResult.NotFound, "⚠ legacy top-level names are gone in Envoy ≥ 1.33");
    assert.equal(r.bytes(13).readDoubleLE(), 1, "a Value number reads as a double");
  });

  it("serves request, connection, source/destination, upstream and xds stream attributes", async () => {
    const paths = [
      ["request", "path"],
      ["request", "url_path"],
      ["request", "host"],
      ["request", "scheme"],
      ["request", "method"],
      ["request", "headers", "x-multi"],
      ["request", "headers"],
      ["request", "referer"],
      ["request", "useragent"],
      ["request", "id"],
      ["request", "protocol"],
      ["request", "query"],
      ["request", "time"],
      ["request", "size"],
      ["request", "duration"],
      ["connection", "mtls"],
      ["connection", "id"],
      ["connection", "requested_server_name"],
      ["connection", "uri_san_peer_certificate"],
      ["connection", "dns_san_peer_certificate"],
      ["source", "address"],
      ["source", "port"],
      ["destination", "address"],
      ["upstream", "request_attempt_count"],
      ["xds", "cluster_name"],
      ["xds", "route_name"],
      ["xds", "listener_direction"],
      ["xds", "route_metadata", "filter_metadata", "istio", "svc"],
      ["metadata", "filter_metadata", "envoy.lb", "canary"],
      ["connection_id"],
      ["connection", "tls_version"],
      ["xds", "filter_chain_name"],
      ["request", "headers", "x-multi", ""],
    ];
    const { strings, body } = propertyCalls(paths);
    const { emu, plugin } = await loadProbe({ imports: ["proxy_get_property"], strings, callbacks: { proxy_on_request_headers: `${body} (i32.const 0)` } });
    emu.advance(250);
    const s = emu.newStream({
      connection: {
        id: 42n,
        mtls: true,
        tlsVersion: "TLSv1.3",
        requestedServerName: "svc.local",
        uriSanPeerCertificate: "spiffe://cluster.local/ns/default/sa/client",
        source: { ip: "10.1.2.3", port: 45678 },
        destination: { ip: "::1", port: 8443 },
      },
      streamInfo: {
        clusterName: "outbound|80||svc",
        routeName: "default",
        routeMetadata: { filter_metadata: { istio: { svc: "reviews" } } },
        listenerDirection: 1,
        dynamicMetadata: { filter_metadata: { "envoy.lb": { canary: true } } },
        protocol: "HTTP/2",
      },
    });
    s.sendRequestHeaders(
      [...Object.entries(requestHeaders), ["x-multi", "a"], ["x-multi", "b"], ["referer", "http://ref"], ["user-agent", "curl/8"], ["x-request-id", "rid-1"], ["content-length", "12"]],
      { endStream: false },
    );
    const r = reader(plugin);
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((i) => r.text(i)),
      ["/path?q=1", "/path", "example.com", "http", "GET"],
    );
    assert.equal(r.text(5), "a,b", "repeated headers are comma-joined");
    const all = new Map(decodePairs(r.bytes(6)));
    assert.equal(all.get("x-multi"), "a,b");
    assert.equal(all.get(":authority"), "example.com");
    assert.deepEqual([r.text(7), r.text(8), r.text(9), r.text(10), r.text(11)], ["http://ref", "curl/8", "rid-1", "HTTP/2", "q=1"]);
    assert.equal(r.int(12), emu.clock.systemTimeNs(), "request.time: ns since the epoch");
    assert.equal(r.int(13), 12n, "request.size from content-length");
    assert.equal(r.status(14), WasmResult.NotFound, "no duration before completion");
    assert.deepEqual([...r.bytes(15)], [1], "bool: one byte");
    assert.equal(r.uint(16), 42n);
    assert.equal(r.text(17), "svc.local");
    assert.equal(r.text(18), "spiffe://cluster.local/ns/default/sa/client");
    assert.equal(r.status(19), WasmResult.SerializationFailure, "an absent SAN on a TLS connection is a CEL null");
    assert.equal(r.text(20), "10.1.2.3:45678");
    assert.equal(r.int(21), 45678n);
    assert.equal(r.text(22), "[::1]:8443");
    assert.equal(r.uint(23), 0n, "no upstream attempt yet");
    assert.equal(r.text(24), "outbound|80||svc");
    assert.equal(r.text(25), "default");
    assert.equal(r.int(26), 1n);
    assert.equal(r.text(27), "reviews");
    assert.deepEqual([...r.bytes(28)], [1]);
    assert.equal(r.uint(29), 42n);
    assert.equal(r.text(30), "TLSv1.3");
    assert.equal(r.text(31), "");
    assert.equal(r.text(32), "a,b", "a trailing NUL in the path is tolerated");
  });

  it("⚠ has no request.* header attributes once the filter let the request headers go, but has them in on_log", async () => {
    const resp = propertyCalls([["request", "path"], ["response", "code"]], 0);
    const log = propertyCalls(
      [
        ["request", "path"],
        ["request", "duration"],
        ["response", "code"],
        ["response", "code_details"],
        ["response", "flags"],
        ["response", "grpc_status"],
        ["response", "headers", "x-resp"],
        ["response", "size"],
        ["request", "total_size"],
        ["upstream", "request_attempt_count"],
        ["response", "total_size"],
      ],
      10,
    );
    const { emu, plugin } = await loadProbe({
      imports: ["proxy_get_property"],
      strings: { ...resp.strings, ...log.strings },
      callbacks: { proxy_on_response_headers: `${resp.body} (i32.const 0)`, proxy_on_log: log.body },
    });
    const s = emu.newStream({ streamInfo: { responseFlags: 0x20 } });
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    emu.advance(30);
    s.respond({ status: 503, headers: { "x-resp": "r" }, body: "unavailable" });
    s.complete();
    const r = reader(plugin);
    assert.equal(r.status(0), WasmResult.NotFound);
    assert.equal(r.int(1), 503n);
    const l = reader(plugin, 10);
    assert.equal(l.text(0), "/path?q=1");
    assert.equal(l.int(1), 30_000_000n, "duration: ns from start to completion");
    assert.equal(l.int(2), 503n);
    assert.equal(l.text(3), "via_upstream", "set by the router for upstream answers");
    assert.equal(l.int(4), 0x20n);
    assert.equal(l.int(5), 14n, "503 maps to gRPC Unavailable");
    assert.equal(l.text(6), "r");
    assert.equal(l.int(7), 11n);
    const reqBytes = Object.entries(requestHeaders).reduce((n, [k, v]) => n + k.length + v.length, 0);
    assert.equal(l.int(8), BigInt(reqBytes));
    assert.equal(l.uint(9), 1n);
    assert.equal(l.int(10), 11n + BigInt(":status".length + 3 + "x-resp".length + 1));
  });

  it("resolves the legacy top-level names only when emulating Envoy < 1.33", async () => {
    const { strings, body } = propertyCalls([["node", "id"], ["route_name"], ["listener_direction"], ["cluster_name"]]);
    const emu = new Emulator({ node, legacyProperties: true });
    const { plugin } = await loadProbe({ imports: ["proxy_get_property"], strings, callbacks: { proxy_on_request_headers: `${body} (i32.const 0)` } }, {}, emu);
    emu.newStream({ streamInfo: { routeName: "r1", listenerDirection: 2 } }).sendRequestHeaders(requestHeaders, { endStream: true });
    const r = reader(plugin);
    assert.equal(r.text(0), node.id);
    assert.equal(r.text(1), "r1");
    assert.equal(r.int(2), 2n);
    assert.equal(r.status(3), WasmResult.NotFound, "no cluster chosen");
  });

  it("rejects an empty path and bad memory", async () => {
    const { plugin } = await loadProbe({
      imports: ["proxy_get_property"],
      callbacks: {
        proxy_on_configure: [
          `(i32.store (i32.const ${res(0)}) (call $proxy_get_property (i32.const 64) (i32.const 0) (i32.const ${res(1)}) (i32.const ${res(2)})))`,
          `(i32.store (i32.const ${res(3)}) (call $proxy_get_property (i32.const 0x7ffffff0) (i32.const 20) (i32.const ${res(1)}) (i32.const ${res(2)})))`,
          "(i32.const 1)",
        ].join("\n"),
      },
    });
    assert.equal(plugin.readU32(res(0)), WasmResult.SerializationFailure);
    assert.equal(plugin.readU32(res(3)), WasmResult.InvalidMemoryAccess);
  });
});

describe("proxy_set_property and filter state", () => {
  const declareArgs = (name: string, type: number, readonly: boolean): Buffer => {
    // DeclarePropertyArguments{name=1, readonly=2, type=3} (Envoy's declare_property.proto)
    const n = Buffer.from(name);
    return Buffer.concat([Buffer.from([0x0a, n.length]), n, readonly ? Buffer.from([0x10, 1]) : Buffer.alloc(0), Buffer.from([0x18, type])]);
  };

  it("stores wasm.<path> filter state readable by later filters, and typed by declare_property", async () => {
    const writer = propertyCalls([["downstream_peer"], ["filter_state", "wasm.downstream_peer"], ["fixed"]], 10);
    const { emu, plugin } = await loadProbe({
      imports: ["proxy_get_property", "proxy_set_property", "proxy_call_foreign_function"],
      strings: {
        key: "downstream_peer",
        value: "peer\u0000bytes",
        fixedKey: "fixed",
        fixed: "once",
        again: "twice",
        declare: "declare_property",
        args: declareArgs("fixed", 1, true).toString("latin1"),
        ...writer.strings,
      },
      callbacks: {
        proxy_on_configure: [
          `(i32.store (i32.const ${res(0)}) (call $proxy_call_foreign_function $S(declare) $S(args) (i32.const 0) (i32.const 0)))`,
          `(i32.store (i32.const ${res(1)}) (call $proxy_call_foreign_function $S(declare) $S(args) (i32.const 0) (i32.const 0)))`,
          `(i32.store (i32.const ${res(2)}) (call $proxy_set_property $S(key) $S(value)))`,
          "(i32.const 1)",
        ].join("\n"),
        proxy_on_request_headers: [
          `(i32.store (i32.const ${res(3)}) (call $proxy_set_property $S(key) $S(value)))`,
          `(i32.store (i32.const ${res(4)}) (call $proxy_set_property $S(fixedKey) $S(fixed)))`,
          `(i32.store (i32.const ${res(5)}) (call $proxy_set_property $S(fixedKey) $S(again)))`,
          `(i32.store (i32.const ${res(6)}) (call $proxy_set_property (i32.const 0x7ffffff0) (i32.const 4) $S(fixed)))`,
          writer.body,
          "(i32.const 0)",
        ].join("\n"),
      },
    });
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(1)), WasmResult.BadArgument, "declared twice");
    assert.equal(plugin.readU32(res(2)), WasmResult.NotFound, "no stream in the root context");
    assert.equal(plugin.readU32(res(3)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(4)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(5)), WasmResult.BadArgument, "read-only state is set once");
    assert.equal(plugin.readU32(res(6)), WasmResult.InvalidMemoryAccess);
    assert.deepEqual(s.filterState("wasm.downstream_peer"), { bytes: Uint8Array.from(Buffer.from("peer\0bytes")), type: "bytes", readOnly: false });
    assert.equal(s.filterState("wasm.fixed")?.type, "string");
    const r = reader(plugin, 10);
    assert.equal(r.text(0), "peer\0bytes", "unknown top-level names read filter state wasm.<name>");
    assert.equal(r.text(1), "peer\0bytes");
    assert.equal(r.text(2), "once");
  });

  it("shares filter state between chained plugins on one stream", async () => {
    const emu = new Emulator();
    const { plugin: first } = await loadProbe(
      { imports: ["proxy_set_property"], strings: { k: "upstream_peer", v: "from-first" }, callbacks: { proxy_on_request_headers: "(drop (call $proxy_set_property $S(k) $S(v))) (i32.const 0)" } },
      { name: "first" },
      emu,
    );
    const read = propertyCalls([["upstream_peer"]]);
    const { plugin: second } = await loadProbe({ imports: ["proxy_get_property"], strings: read.strings, callbacks: { proxy_on_request_headers: `${read.body} (i32.const 0)` } }, { name: "second", vmId: "other" }, emu);
    emu.newStream({ plugins: [first, second] }).sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(reader(second).text(0), "from-first");
  });
});
