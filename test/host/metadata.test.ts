// HTTP metadata callbacks (proxy-wasm-abi.md §3.3 proxy_on_request_metadata /
// proxy_on_response_metadata). Envoy's Wasm HTTP filter implements Http::StreamFilter's
// decodeMetadata/encodeMetadata (extensions/common/wasm/context.cc): for each HTTP/2 METADATA
// frame (only with http2_protocol_options.allow_metadata; HTTP/1 has none) it calls the callback
// with the number of entries, once the context exists, and always continues (§3.6
// FilterMetadataStatus). Envoy's FilterManager holds METADATA at a filter that has not seen the
// headers yet or stopped all iteration, and delivers it when that filter goes on.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FilterHeadersStatus, FilterMetadataStatus } from "../../host/emulator/index.js";
import { loadProbe, requestHeaders, res } from "./wat-kit.js";

const STREAM_ID = res(50);
const http2 = { streamInfo: { protocol: "HTTP/2" as const } };
/** Counts calls of a metadata callback in slot i, its context id in i+1 and entries in i+2. */
const record = (i: number) => `(i32.store (i32.const ${res(i)}) (i32.add (i32.load (i32.const ${res(i)})) (i32.const 1)))
  (i32.store (i32.const ${res(i + 1)}) (local.get 0)) (i32.store (i32.const ${res(i + 2)}) (local.get 1))`;
const rememberStream = `(if (i32.ne (local.get 1) (i32.const 0)) (then (i32.store (i32.const ${STREAM_ID}) (local.get 0))))`;

describe("proxy_on_request_metadata / proxy_on_response_metadata (§3.3)", () => {
  it("is called with the number of entries of each METADATA frame; any result is Continue", async () => {
    const { emu, plugin } = await loadProbe({
      callbacks: {
        proxy_on_context_create: rememberStream,
        proxy_on_request_metadata: `${record(0)} (i32.const 1)`,
        proxy_on_response_metadata: `${record(3)} (i32.const 7)`,
      },
    });
    const s = emu.newStream(http2);
    assert.equal(s.sendRequestHeaders(requestHeaders), FilterHeadersStatus.Continue);
    assert.equal(s.sendRequestMetadata({ a: "1", b: "2" }), FilterMetadataStatus.Continue);
    assert.deepEqual([plugin.readU32(res(0)), plugin.readU32(res(1)), plugin.readU32(res(2))], [1, plugin.readU32(STREAM_ID), 2]);
    assert.deepEqual(s.upstream.metadata, [new Map([["a", "1"], ["b", "2"]])], "the router forwards it");
    s.sendRequestBody("x");
    s.sendResponseHeaders({ ":status": "200" });
    assert.equal(s.sendResponseMetadata(new Map([["trace", "on"]])), FilterMetadataStatus.Continue);
    assert.deepEqual([plugin.readU32(res(3)), plugin.readU32(res(5))], [1, 1]);
    assert.deepEqual(s.downstream.metadata, [new Map([["trace", "on"]])]);
    s.sendResponseBody("done");
    s.complete();
  });

  it("holds METADATA while the filter stopped all iteration on headers, and delivers it when it continues", async () => {
    const { emu, plugin } = await loadProbe({
      imports: ["proxy_set_tick_period_milliseconds", "proxy_set_effective_context", "proxy_continue_stream"],
      callbacks: {
        proxy_on_configure: "(drop (call $proxy_set_tick_period_milliseconds (i32.const 100))) (i32.const 1)",
        proxy_on_context_create: rememberStream,
        proxy_on_request_headers: "(i32.const 1)",
        proxy_on_request_metadata: `${record(0)} (i32.const 0)`,
        proxy_on_tick: `(drop (call $proxy_set_effective_context (i32.load (i32.const ${STREAM_ID})))) (drop (call $proxy_continue_stream (i32.const 0)))`,
      },
    });
    const s = emu.newStream(http2);
    assert.equal(s.sendRequestHeaders(requestHeaders), FilterHeadersStatus.StopAllIterationAndWatermark);
    assert.equal(s.sendRequestMetadata({ k: "v" }), undefined, "not called while stopped");
    assert.deepEqual(s.upstream.metadata, []);
    emu.advance(100);
    assert.equal(plugin.readU32(res(0)), 1);
    assert.equal(plugin.readU32(res(2)), 1);
    assert.ok(s.upstream.headers, "headers went on first");
    assert.deepEqual(s.upstream.metadata, [new Map([["k", "v"]])]);
    assert.deepEqual(
      s.calls.map((c) => c.callback),
      ["decodeHeaders", "decodeMetadata"],
    );
  });

  it("holds response METADATA that comes before the response headers until the filter saw them", async () => {
    const { emu, plugin } = await loadProbe({ callbacks: { proxy_on_response_metadata: `${record(0)} (i32.const 0)` } });
    const s = emu.newStream(http2);
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(s.sendResponseMetadata({ early: "1" }), undefined);
    assert.equal(plugin.readU32(res(0)), 0);
    s.sendResponseHeaders({ ":status": "200" }, { endStream: true });
    assert.equal(plugin.readU32(res(0)), 1);
    assert.deepEqual(
      s.calls.filter((c) => c.callback.startsWith("encode")).map((c) => c.callback),
      ["encodeHeaders", "encodeMetadata"],
    );
    assert.deepEqual(s.downstream.metadata, [new Map([["early", "1"]])]);
  });

  it("fails the stream with a 503 when the callback traps (FAIL_CLOSED), and does nothing more with FAIL_OPEN", async () => {
    const trapping = { callbacks: { proxy_on_request_metadata: "unreachable" } };
    const closed = await loadProbe(trapping, { failurePolicy: "FAIL_CLOSED" });
    const s = closed.emu.newStream(http2);
    s.sendRequestHeaders(requestHeaders);
    assert.equal(s.sendRequestMetadata({ k: "v" }), FilterMetadataStatus.Continue);
    assert.equal(s.localReply?.details, "wasm_fail_stream");
    assert.equal(s.downstream.headers?.get(":status"), "503");
    const open = await loadProbe(trapping, { failurePolicy: "FAIL_OPEN" });
    const t = open.emu.newStream(http2);
    t.sendRequestHeaders(requestHeaders);
    assert.equal(t.sendRequestMetadata({ k: "v" }), FilterMetadataStatus.Continue);
    assert.equal(t.localReply, null);
    assert.deepEqual(t.upstream.metadata, [new Map([["k", "v"]])]);
  });

  it("exists only on HTTP/2, after the request headers and before the request ends", async () => {
    const { emu } = await loadProbe({ callbacks: { proxy_on_request_metadata: "(i32.const 0)" } });
    assert.throws(() => emu.newStream().sendRequestMetadata({ k: "v" }), /only on HTTP\/2 streams \(this stream is HTTP\/1\.1/);
    assert.throws(() => emu.newStream(http2).sendRequestMetadata({ k: "v" }), /before the request headers/);
    const s = emu.newStream(http2);
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    assert.throws(() => s.sendRequestMetadata({ k: "v" }), /already ended/);
  });

  it("reaches no map type: the metadata entries are not readable through the ABI", async () => {
    // proxy_get_header_map_pairs on every map type (§4.3) inside the callback: none holds the key.
    const reads = [0, 1, 2, 3, 4, 5, 6, 7]
      .map((t) => `(drop (call $proxy_get_header_map_pairs (i32.const ${t}) (i32.const ${res(10 + 2 * t)}) (i32.const ${res(11 + 2 * t)})))`)
      .join("\n");
    const { emu, plugin } = await loadProbe({ imports: ["proxy_get_header_map_pairs"], callbacks: { proxy_on_request_metadata: `${reads} (i32.const 0)` } });
    const s = emu.newStream(http2);
    s.sendRequestHeaders(requestHeaders);
    s.sendRequestMetadata({ "x-secret-metadata": "v" });
    for (let t = 0; t < 8; t++) {
      const len = plugin.readU32(res(11 + 2 * t));
      const bytes = len ? plugin.readMemory(plugin.readU32(res(10 + 2 * t)), len) : Buffer.alloc(0);
      assert.equal(bytes.includes("x-secret-metadata"), false, `map type ${t}`);
    }
  });
});
