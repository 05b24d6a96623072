// Header maps (proxy-wasm-abi.md §2.5, §4.3, §5.1) through real WAT modules: lower-cased keys,
// first value on get, byte size, malformed pairs wiping the map, availability per phase, and the
// error results (BadArgument, NotFound, InvalidMemoryAccess).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodePairs, encodePairs } from "../../host/wasm/pairs.js";
import { WasmResult } from "../../host/wasm/types.js";
import { ALLOC_COUNT, loadProbe, pairs, readOut, requestHeaders, res } from "./wat-kit.js";

const mapImports = [
  "proxy_get_header_map_value",
  "proxy_get_header_map_pairs",
  "proxy_set_header_map_pairs",
  "proxy_add_header_map_value",
  "proxy_replace_header_map_value",
  "proxy_remove_header_map_value",
  "proxy_get_header_map_size",
];
const strings = {
  xfoo: "X-Foo",
  missing: "missing",
  added: "X-Added",
  one: "1",
  two: "2",
  rep: "x-rep",
  v: "v",
  nothing: "x-nothing",
  good: pairs([["New-Key", "nv"], [":path", "/rewritten"]]),
  bad: "this is not a pairs buffer",
};
const OOB = "(i32.const 0x7ffffff0)";

describe("header map host calls in proxy_on_request_headers", () => {
  const store = (i: number, call: string) => `(i32.store (i32.const ${res(i)}) ${call})`;
  const body = [
    store(0, "(call $proxy_get_header_map_size (i32.const 0) (i32.const " + res(40) + "))"),
    store(1, `(call $proxy_get_header_map_value (i32.const 0) $S(xfoo) (i32.const ${res(41)}) (i32.const ${res(42)}))`),
    store(2, `(call $proxy_get_header_map_value (i32.const 0) $S(missing) (i32.const ${res(43)}) (i32.const ${res(44)}))`),
    store(3, `(call $proxy_get_header_map_value (i32.const 2) $S(xfoo) (i32.const ${res(45)}) (i32.const ${res(46)}))`),
    store(4, `(call $proxy_get_header_map_value (i32.const 8) $S(xfoo) (i32.const ${res(45)}) (i32.const ${res(46)}))`),
    store(5, `(call $proxy_get_header_map_value (i32.const 0) ${OOB} (i32.const 4) (i32.const ${res(45)}) (i32.const ${res(46)}))`),
    store(6, `(call $proxy_get_header_map_pairs (i32.const 0) (i32.const ${res(47)}) (i32.const ${res(48)}))`),
    // Response headers are absent in the request phase: pairs read as empty, edits are BadArgument.
    store(7, `(i32.load (i32.const ${ALLOC_COUNT}))`),
    store(8, `(call $proxy_get_header_map_pairs (i32.const 2) (i32.const ${res(49)}) (i32.const ${res(50)}))`),
    store(9, `(i32.load (i32.const ${ALLOC_COUNT}))`),
    store(10, `(call $proxy_add_header_map_value (i32.const 2) $S(added) $S(one))`),
    store(11, `(call $proxy_get_header_map_size (i32.const 2) (i32.const ${res(51)}))`),
    store(12, `(call $proxy_add_header_map_value (i32.const 0) $S(added) $S(one))`),
    store(13, `(call $proxy_add_header_map_value (i32.const 0) $S(added) $S(two))`),
    store(14, `(call $proxy_replace_header_map_value (i32.const 0) $S(rep) $S(v))`),
    store(15, `(call $proxy_remove_header_map_value (i32.const 0) $S(nothing))`),
    store(16, `(call $proxy_remove_header_map_value (i32.const 9) $S(nothing))`),
    store(17, `(call $proxy_set_header_map_pairs (i32.const 3) $S(good))`),
    store(18, `(call $proxy_add_header_map_value (i32.const 0) ${OOB} (i32.const 4) $S(v))`),
    store(19, `(call $proxy_get_header_map_pairs (i32.const 8) (i32.const ${res(49)}) (i32.const ${res(50)}))`),
    store(20, `(call $proxy_get_header_map_size (i32.const 8) (i32.const ${res(51)}))`),
    store(21, `(call $proxy_set_header_map_pairs (i32.const 8) $S(good))`),
    store(22, `(call $proxy_replace_header_map_value (i32.const 8) $S(rep) $S(v))`),
    store(23, `(call $proxy_get_header_map_value (i32.const 6) $S(xfoo) (i32.const ${res(45)}) (i32.const ${res(46)}))`),
    "(i32.const 0)",
  ].join("\n    ");

  it("reads, edits and sizes the request headers like Envoy", async () => {
    const { emu, plugin } = await loadProbe({ imports: mapImports, strings, callbacks: { proxy_on_request_headers: body } });
    const s = emu.newStream();
    // A value longer than the host's byte-by-byte copy handles, and one with a latin1 byte.
    const headers: Array<[string, string]> = [
      ...Object.entries(requestHeaders), ["x-foo", "a"], ["x-foo", "b"], ["x-rep", "1"], ["x-rep", "2"], ["x-long", "L".repeat(100)], ["x-latin1", "caf\u00e9"],
    ];
    const status = s.sendRequestHeaders(headers, { endStream: true });
    assert.equal(status, 0);
    const st = (i: number) => plugin.readU32(res(i));
    // byteSize(): sum of key and value lengths, not the entry count.
    assert.equal(st(0), WasmResult.Ok);
    assert.equal(plugin.readU32(res(40)), headers.reduce((n, [k, v]) => n + k.length + v.length, 0));
    // Key lower-cased, first value of a repeated header.
    assert.equal(st(1), WasmResult.Ok);
    assert.equal(readOut(plugin, res(41), res(42)).toString(), "a");
    assert.equal(st(2), WasmResult.NotFound);
    assert.equal(st(3), WasmResult.BadArgument, "response headers are not available in the request phase");
    assert.equal(st(4), WasmResult.BadArgument, "map type > 7");
    assert.equal(st(5), WasmResult.InvalidMemoryAccess);
    assert.equal(st(6), WasmResult.Ok);
    assert.deepEqual(decodePairs(readOut(plugin, res(47), res(48))), headers);
    assert.deepEqual(readOut(plugin, res(47), res(48)), encodePairs(headers), "byte for byte the §5.1 encoding");
    // Empty map: OK with 0,0 and the allocator is not called.
    assert.equal(st(8), WasmResult.Ok);
    assert.equal(plugin.readU32(res(49)), 0);
    assert.equal(plugin.readU32(res(50)), 0);
    assert.equal(st(9), st(7), "no allocation for an empty result");
    assert.equal(st(10), WasmResult.BadArgument);
    assert.equal(st(11), WasmResult.BadArgument);
    for (const i of [12, 13, 14, 15]) assert.equal(st(i), WasmResult.Ok, `slot ${i}`);
    assert.equal(st(16), WasmResult.BadArgument);
    assert.equal(st(17), WasmResult.BadArgument, "response trailers are not available either");
    assert.equal(st(18), WasmResult.InvalidMemoryAccess);
    for (const i of [19, 20, 21, 22]) assert.equal(st(i), WasmResult.BadArgument, `map type 8 in slot ${i}`);
    assert.equal(st(23), WasmResult.BadArgument, "callout response headers outside the callout callback");
    // The upstream sees the edits: duplicates appended with lower-cased keys, replace leaves one value.
    const up = s.upstream.headers!;
    assert.deepEqual(up.getAll("x-added"), ["1", "2"]);
    assert.deepEqual(up.getAll("x-rep"), ["v"]);
  });

  it("replaces the whole map with set_header_map_pairs, lower-casing keys", async () => {
    const { emu } = await loadProbe({ imports: mapImports, strings, callbacks: { proxy_on_request_headers: "(drop (call $proxy_set_header_map_pairs (i32.const 0) $S(good))) (i32.const 0)" } });
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    // The pairs arrive as [New-Key, :path]; Envoy's HeaderMapImpl puts pseudo-headers first.
    assert.deepEqual(s.upstream.headers!.entries(), [[":path", "/rewritten"], ["new-key", "nv"]]);
  });

  it("⚠ wipes the map when the pairs buffer is malformed (still OK)", async () => {
    const { emu, plugin } = await loadProbe({
      imports: mapImports,
      strings,
      callbacks: { proxy_on_request_headers: `(i32.store (i32.const ${res(0)}) (call $proxy_set_header_map_pairs (i32.const 0) $S(bad))) (i32.const 0)` },
    });
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.deepEqual(s.upstream.headers!.entries(), []);
  });

  it("⚠ drops the request-header map once on_request_headers continued (body and response phases)", async () => {
    const get = (slot: number) => `(i32.store (i32.const ${res(slot)}) (call $proxy_get_header_map_value (i32.const 0) $S(xfoo) (i32.const ${res(60)}) (i32.const ${res(61)})))`;
    const { emu, plugin } = await loadProbe({
      imports: mapImports,
      strings,
      callbacks: {
        proxy_on_request_headers: `${get(0)} (i32.const 0)`,
        proxy_on_request_body: `${get(1)} (i32.const 0)`,
        proxy_on_response_headers: `${get(2)} (i32.store (i32.const ${res(3)}) (call $proxy_get_header_map_size (i32.const 2) (i32.const ${res(62)}))) (i32.const 0)`,
      },
    });
    const s = emu.newStream();
    s.sendRequestHeaders({ ...requestHeaders, "x-foo": "a" });
    s.sendRequestBody("b");
    s.respond({ status: 200 });
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(1)), WasmResult.BadArgument);
    assert.equal(plugin.readU32(res(2)), WasmResult.BadArgument);
    assert.equal(plugin.readU32(res(3)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(62)), ":status".length + "200".length);
  });

  it("reads maps in proxy_on_log from the access log (absent maps are NotFound, sizes BadArgument)", async () => {
    const { emu, plugin } = await loadProbe({
      imports: mapImports,
      strings,
      callbacks: {
        proxy_on_log: [
          `(i32.store (i32.const ${res(0)}) (call $proxy_get_header_map_value (i32.const 0) $S(xfoo) (i32.const ${res(10)}) (i32.const ${res(11)})))`,
          `(i32.store (i32.const ${res(1)}) (call $proxy_get_header_map_value (i32.const 1) $S(xfoo) (i32.const ${res(12)}) (i32.const ${res(13)})))`,
          `(i32.store (i32.const ${res(2)}) (call $proxy_get_header_map_size (i32.const 0) (i32.const ${res(14)})))`,
          `(i32.store (i32.const ${res(3)}) (call $proxy_get_header_map_value (i32.const 2) $S(xfoo) (i32.const ${res(15)}) (i32.const ${res(16)})))`,
        ].join("\n"),
      },
    });
    const s = emu.newStream();
    s.sendRequestHeaders({ ...requestHeaders, "x-foo": "logged" }, { endStream: true });
    s.respond({ status: 204, headers: { "x-foo": "resp" } });
    s.complete();
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(readOut(plugin, res(10), res(11)).toString(), "logged");
    assert.equal(plugin.readU32(res(1)), WasmResult.NotFound);
    assert.equal(plugin.readU32(res(2)), WasmResult.BadArgument);
    assert.equal(plugin.readU32(res(3)), WasmResult.Ok);
    assert.equal(readOut(plugin, res(15), res(16)).toString(), "resp");
  });

  it("ABI 0.1.0: a missing key (or map in on_log) is OK with an empty value", async () => {
    const { emu, plugin } = await loadProbe({
      abi: "0.1.0",
      imports: ["proxy_get_header_map_value"],
      strings,
      callbacks: {
        proxy_on_request_headers: `(i32.store (i32.const ${res(44)}) (i32.const 77)) (i32.store (i32.const ${res(0)}) (call $proxy_get_header_map_value (i32.const 0) $S(missing) (i32.const ${res(43)}) (i32.const ${res(44)}))) (i32.const 0)`,
        proxy_on_log: `(i32.store (i32.const ${res(1)}) (call $proxy_get_header_map_value (i32.const 1) $S(xfoo) (i32.const ${res(45)}) (i32.const ${res(46)})))`,
      },
    });
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    s.respond();
    s.complete();
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(44)), 0, "empty value written as 0,0");
    assert.equal(plugin.readU32(res(1)), WasmResult.Ok);
  });
});
