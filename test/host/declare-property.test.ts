// The declare_property foreign function (proxy-wasm-abi.md §7.4) as Envoy implements it:
// DeclarePropertyArguments{name = 1, readonly = 2, type = 3, schema = 4, span = 5} with
// WasmType Bytes 0, String 1, FlatBuffers 2, Protobuf 3 (Envoy ext/declare_property.proto,
// foreign.cc), declarations kept by the root context and consulted by proxy_set_property, and
// CelState::exprValue: the bytes when the state is the whole path, the message of the type URL
// when the path goes further into a Protobuf-typed state.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeJson } from "../../host/envoy/protos.js";
import { WasmResult } from "../../host/wasm/types.js";
import { loadProbe, readOut, requestHeaders, res } from "./wat-kit.js";

const STRUCT_URL = "type.googleapis.com/google.protobuf.Struct";

/** Serialized DeclarePropertyArguments (every field here is short: one-byte lengths and values). */
function declareArgs(a: { name: string; readonly?: boolean; type?: number; schema?: string; span?: number }): Uint8Array {
  const out: number[] = [];
  const bytesField = (field: number, s: string) => out.push((field << 3) | 2, Buffer.byteLength(s), ...Buffer.from(s));
  bytesField(1, a.name);
  if (a.readonly) out.push(2 << 3, 1);
  if (a.type) out.push(3 << 3, a.type);
  if (a.schema) bytesField(4, a.schema);
  if (a.span) out.push(5 << 3, a.span);
  return Uint8Array.from(out);
}

const store = (i: number, call: string) => `(i32.store (i32.const ${res(i)}) ${call})`;
const declare = (args: string) => `(call $proxy_call_foreign_function $S(declare) $S(${args}) (i32.const 0) (i32.const 0))`;

describe("declare_property", () => {
  it("types filter state as Envoy's CelState: bytes for the whole value, the message for a path into it", async () => {
    const struct = encodeJson("google.protobuf.Struct", { NAME: "reviews-v1", LABELS: { app: "reviews" } });
    const { emu, plugin } = await loadProbe({
      imports: ["proxy_call_foreign_function", "proxy_set_property", "proxy_get_property"],
      strings: {
        declare: "declare_property",
        peerArgs: declareArgs({ name: "peer", type: 3, schema: STRUCT_URL, span: 1 }),
        idArgs: declareArgs({ name: "peer_id", type: 1, readonly: true }),
        peer: "peer",
        peerId: "peer_id",
        peerName: "peer\0NAME",
        peerApp: "peer\0LABELS\0app",
        struct,
        id: "node-1",
        id2: "node-2",
      },
      callbacks: {
        proxy_on_configure: [
          store(0, declare("peerArgs")),
          store(1, declare("idArgs")),
          store(2, declare("peerArgs")), // declared twice: BadArgument
          "(i32.const 1)",
        ].join("\n"),
        proxy_on_request_headers: [
          store(3, "(call $proxy_set_property $S(peer) $S(struct))"),
          store(4, "(call $proxy_set_property $S(peerId) $S(id))"),
          store(5, "(call $proxy_set_property $S(peerId) $S(id2))"), // read-only: set once
          store(6, `(call $proxy_get_property $S(peer) (i32.const ${res(20)}) (i32.const ${res(21)}))`),
          store(7, `(call $proxy_get_property $S(peerName) (i32.const ${res(22)}) (i32.const ${res(23)}))`),
          store(8, `(call $proxy_get_property $S(peerApp) (i32.const ${res(24)}) (i32.const ${res(25)}))`),
          "(i32.const 0)",
        ].join("\n"),
      },
    });
    const st = (i: number) => plugin.readU32(res(i));
    assert.equal(st(0), WasmResult.Ok);
    assert.equal(st(1), WasmResult.Ok);
    assert.equal(st(2), WasmResult.BadArgument);

    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(st(3), WasmResult.Ok);
    assert.equal(st(4), WasmResult.Ok);
    assert.equal(st(5), WasmResult.BadArgument);
    assert.deepEqual(s.filterState("wasm.peer"), { bytes: Uint8Array.from(struct), type: "protobuf", readOnly: false, schema: STRUCT_URL });
    assert.deepEqual(s.filterState("wasm.peer_id"), { bytes: Uint8Array.from(Buffer.from("node-1")), type: "string", readOnly: true });
    assert.equal(st(6), WasmResult.Ok);
    assert.deepEqual(readOut(plugin, res(20), res(21)), Buffer.from(struct));
    assert.equal(st(7), WasmResult.Ok);
    assert.equal(readOut(plugin, res(22), res(23)).toString(), "reviews-v1");
    assert.equal(st(8), WasmResult.Ok);
    assert.equal(readOut(plugin, res(24), res(25)).toString(), "reviews");
    s.complete();
  });

  it("leaves undeclared state as bytes that cannot be walked into", async () => {
    const struct = encodeJson("google.protobuf.Struct", { NAME: "reviews-v1" });
    const { emu, plugin } = await loadProbe({
      imports: ["proxy_set_property", "proxy_get_property"],
      strings: { peer: "peer", peerName: "peer\0NAME", struct },
      callbacks: {
        proxy_on_request_headers: [
          store(0, "(call $proxy_set_property $S(peer) $S(struct))"),
          store(1, `(call $proxy_get_property $S(peerName) (i32.const ${res(20)}) (i32.const ${res(21)}))`),
          "(i32.const 0)",
        ].join("\n"),
      },
    });
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(s.filterState("wasm.peer")?.type, "bytes");
    assert.equal(plugin.readU32(res(1)), WasmResult.NotFound);
    s.complete();
  });
});
