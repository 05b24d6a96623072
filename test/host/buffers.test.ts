// Buffers (proxy-wasm-abi.md §2.4, §3.3, §3.6, §4.2): availability per callback, start/length
// clamping, Envoy's set_buffer_bytes rules, cumulative bodies while buffering, trailers created at
// the end of the body, and the buffer limit.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FilterDataStatus } from "../../host/http/filter.js";
import { WasmResult } from "../../host/wasm/types.js";
import { ALLOC_COUNT, loadProbe, readOut, requestHeaders, res } from "./wat-kit.js";

const bufferImports = ["proxy_get_buffer_bytes", "proxy_set_buffer_bytes", "proxy_get_buffer_status", "proxy_add_header_map_value"];
const store = (i: number, call: string) => `(i32.store (i32.const ${res(i)}) ${call})`;
const get = (type: number | string, start: number | string, len: number | string, ptrSlot: number, lenSlot: number) =>
  `(call $proxy_get_buffer_bytes (i32.const ${type}) ${typeof start === "number" ? `(i32.const ${start})` : start} ${typeof len === "number" ? `(i32.const ${len})` : len} (i32.const ${res(ptrSlot)}) (i32.const ${res(lenSlot)}))`;

describe("buffer availability and reads", () => {
  it("serves configuration buffers, clamps reads and rejects bad types", async () => {
    const { emu, plugin } = await loadProbe(
      {
        imports: bufferImports,
        callbacks: {
          proxy_on_configure: [store(0, get(7, 0, 100, 20, 21)), store(1, get(6, 0, 100, 22, 23)), "(i32.const 1)"].join("\n"),
          proxy_on_request_headers: [
            store(2, get(7, 0, 100, 24, 25)), // plugin configuration: only inside on_configure
            store(3, get(6, 2, 100, 26, 27)), // vm configuration any time; start 2, clamped length
            store(4, get(6, 100, 5, 28, 29)), // start past the end: OK with 0,0
            store(5, get(9, 0, 1, 28, 29)), // type > 8
            store(6, get(4, 0, 1, 28, 29)), // callout body outside the callback
            store(7, get(0, 0, 10, 30, 31)), // request body outside a body callback: empty
            store(8, `(call $proxy_get_buffer_status (i32.const 6) (i32.const ${res(32)}) (i32.const ${res(33)}))`),
            store(9, `(call $proxy_get_buffer_status (i32.const 7) (i32.const ${res(32)}) (i32.const ${res(33)}))`),
            store(10, `(call $proxy_get_buffer_status (i32.const 9) (i32.const ${res(32)}) (i32.const ${res(33)}))`),
            store(11, `(call $proxy_set_buffer_bytes (i32.const 6) (i32.const 0) (i32.const 0) (i32.const 64) (i32.const 1))`),
            store(12, `(call $proxy_set_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 0) (i32.const 64) (i32.const 1))`),
            store(13, `(call $proxy_set_buffer_bytes (i32.const 11) (i32.const 0) (i32.const 0) (i32.const 64) (i32.const 1))`),
            store(14, get(6, 0, 3, 34, 35)),
            store(15, `(call $proxy_get_buffer_bytes (i32.const 6) (i32.const 0) (i32.const 3) (i32.const 0x7ffffff0) (i32.const ${res(35)}))`),
            store(16, get(5, 0, 3, 36, 37)), // gRPC buffer outside its callback reads as empty
            store(17, get(8, 0, 3, 36, 37)), // call data outside a foreign call reads as empty
            "(i32.const 0)",
          ].join("\n"),
        },
      },
      { configuration: "plugin-config", vmConfiguration: "vm-config" },
    );
    const st = (i: number) => plugin.readU32(res(i));
    assert.equal(st(0), WasmResult.Ok);
    assert.equal(readOut(plugin, res(20), res(21)).toString(), "plugin-config");
    assert.equal(readOut(plugin, res(22), res(23)).toString(), "vm-config");
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(st(2), WasmResult.NotFound);
    assert.equal(st(3), WasmResult.Ok);
    assert.equal(readOut(plugin, res(26), res(27)).toString(), "-config");
    assert.equal(st(4), WasmResult.Ok);
    assert.deepEqual([plugin.readU32(res(28)), plugin.readU32(res(29))], [0, 0]);
    assert.equal(st(5), WasmResult.BadArgument);
    assert.equal(st(6), WasmResult.NotFound);
    assert.equal(st(7), WasmResult.Ok);
    assert.equal(plugin.readU32(res(31)), 0);
    assert.equal(st(8), WasmResult.Ok);
    assert.equal(st(9), WasmResult.NotFound);
    assert.equal(st(10), WasmResult.BadArgument);
    assert.equal(st(11), WasmResult.BadArgument, "configuration buffers are immutable");
    assert.equal(st(12), WasmResult.NotFound);
    assert.equal(st(13), WasmResult.BadArgument);
    assert.equal(st(14), WasmResult.Ok);
    assert.equal(st(15), WasmResult.InvalidMemoryAccess);
    assert.equal(st(16), WasmResult.Ok);
    assert.equal(st(17), WasmResult.Ok);
  });

  it("reports the buffer length and always 0 flags", async () => {
    const { emu, plugin } = await loadProbe({
      imports: bufferImports,
      callbacks: {
        proxy_on_request_body: `${store(0, `(call $proxy_get_buffer_status (i32.const 0) (i32.const ${res(1)}) (i32.const ${res(2)}))`)} (i32.const 0)`,
      },
    });
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders);
    s.sendRequestBody("12345", { endStream: true });
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(1)), 5);
    assert.equal(plugin.readU32(res(2)), 0, "EndOfStream is never set");
  });

  it("fails with InvalidMemoryAccess when the allocator returns 0", async () => {
    const { plugin } = await loadProbe(
      { imports: bufferImports, allocator: "zero", callbacks: { proxy_on_configure: `${store(0, get(7, 0, 10, 1, 2))} ${store(3, get(7, 0, 0, 1, 2))} (i32.const 1)` } },
      { configuration: "abc" },
    );
    assert.equal(plugin.readU32(res(0)), WasmResult.InvalidMemoryAccess);
    assert.equal(plugin.readU32(res(3)), WasmResult.Ok, "zero length needs no allocation");
    assert.ok(plugin.readU32(ALLOC_COUNT) >= 1);
  });
});

describe("request and response bodies", () => {
  // Buffers every chunk (returns StopIterationAndBuffer) until end_of_stream; records the sizes
  // seen; at the end reads the whole body and rewrites it with set_buffer_bytes.
  const bodyProbe = (name: string, bufferType: number, trailerMap: number) => ({
    imports: bufferImports,
    strings: { head: "<", tail: ">", whole: "REPLACED", bad: "x", tk: "x-trailer", tv: "added" },
    callbacks: {
      [name]: [
        `(i32.store (i32.const ${res(0)}) (i32.add (i32.load (i32.const ${res(0)})) (i32.const 1)))`,
        `(i32.store (i32.add (i32.const ${res(1)}) (i32.shl (i32.load (i32.const ${res(0)})) (i32.const 2))) (local.get 1))`,
        `(if (i32.eqz (local.get 2)) (then (return (i32.const ${FilterDataStatus.StopIterationAndBuffer}))))`,
        store(10, get(bufferType, 0, 1000, 11, 12)),
        // start=1, len=1 is neither prepend, replace nor append: BadArgument.
        store(13, `(call $proxy_set_buffer_bytes (i32.const ${bufferType}) (i32.const 1) (i32.const 1) $S(bad))`),
        // start=0, len=2 drains two bytes and prepends (Envoy Buffer::copyFrom): "abcdefgh" → "xcdefgh".
        store(18, `(call $proxy_set_buffer_bytes (i32.const ${bufferType}) (i32.const 0) (i32.const 2) $S(bad))`),
        store(19, get(bufferType, 0, 1000, 20, 21)),
        store(14, `(call $proxy_set_buffer_bytes (i32.const ${bufferType}) (i32.const 0) (local.get 1) $S(whole))`),
        store(15, `(call $proxy_set_buffer_bytes (i32.const ${bufferType}) (i32.const 0) (i32.const 0) $S(head))`),
        store(16, `(call $proxy_set_buffer_bytes (i32.const ${bufferType}) (i32.const 1000) (i32.const 0) $S(tail))`),
        // Trailers can be created from the last body callback (Envoy addDecoded/EncodedTrailers).
        store(17, `(call $proxy_add_header_map_value (i32.const ${trailerMap}) $S(tk) $S(tv))`),
        "(i32.const 0)",
      ].join("\n"),
    },
  });

  it("accumulates a buffered request body and applies Envoy's set_buffer_bytes rules", async () => {
    const { emu, plugin } = await loadProbe(bodyProbe("proxy_on_request_body", 0, 1));
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders);
    assert.equal(s.sendRequestBody("abc", { endStream: false }), FilterDataStatus.StopIterationAndBuffer);
    s.sendRequestBody("de", { endStream: false });
    assert.equal(s.upstream.body.length, 0, "nothing reaches the upstream while buffering");
    s.sendRequestBody("fgh", { endStream: true });
    assert.equal(plugin.readU32(res(0)), 3);
    // body_size is cumulative while buffering.
    assert.deepEqual([plugin.readU32(res(2)), plugin.readU32(res(3)), plugin.readU32(res(4))], [3, 5, 8]);
    assert.equal(readOut(plugin, res(11), res(12)).toString(), "abcdefgh");
    assert.equal(plugin.readU32(res(13)), WasmResult.BadArgument);
    assert.equal(plugin.readU32(res(18)), WasmResult.Ok);
    assert.equal(readOut(plugin, res(20), res(21)).toString(), "xcdefgh");
    for (const i of [14, 15, 16, 17]) assert.equal(plugin.readU32(res(i)), WasmResult.Ok, `slot ${i}`);
    assert.equal(s.upstream.body.toString(), "<REPLACED>");
    assert.equal(s.upstream.trailers?.get("x-trailer"), "added");
    assert.equal(s.upstream.complete, true);
  });

  it("does the same for the response body (map 3 for trailers)", async () => {
    const { emu } = await loadProbe(bodyProbe("proxy_on_response_body", 1, 3));
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    s.sendResponseHeaders({ ":status": "200" });
    s.sendResponseBody("12", { endStream: false });
    s.sendResponseBody("345", { endStream: true });
    assert.equal(s.downstream.body.toString(), "<REPLACED>");
    assert.equal(s.downstream.trailers?.get("x-trailer"), "added");
  });

  it("sees only the current chunk when not buffering", async () => {
    const { emu, plugin } = await loadProbe({
      imports: bufferImports,
      callbacks: { proxy_on_request_body: `${store(0, get(0, 0, 100, 1, 2))} (i32.store (i32.const ${res(3)}) (local.get 1)) (i32.const 0)` },
    });
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders);
    s.sendRequestBody("first", { endStream: false });
    s.sendRequestBody("second", { endStream: true });
    assert.equal(readOut(plugin, res(1), res(2)).toString(), "second");
    assert.equal(plugin.readU32(res(3)), 6);
    assert.equal(s.upstream.body.toString(), "firstsecond");
  });

  it("answers 413 when a buffered request body exceeds the buffer limit", async () => {
    const { emu } = await loadProbe({ callbacks: { proxy_on_request_body: `(i32.const ${FilterDataStatus.StopIterationAndBuffer})` } });
    const s = emu.newStream({ bufferLimitBytes: 8 });
    s.sendRequestHeaders(requestHeaders);
    s.sendRequestBody("12345", { endStream: false });
    s.sendRequestBody("67890", { endStream: false });
    assert.equal(s.downstream.headers?.get(":status"), "413");
    assert.equal(s.localReply?.details, "request_payload_too_large");
  });
});
