// Stream control (proxy-wasm-abi.md §2.6, §2.10, §3.6): return-value conversion, pausing and
// resuming from another callback with proxy_set_effective_context, local replies forcing a stop
// and travelling through the encoder filters, deferred continue/close, effective-context reset.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus } from "../../host/http/filter.js";
import { WasmResult } from "../../host/wasm/types.js";
import { loadProbe, pairs, requestHeaders, res } from "./wat-kit.js";

const STREAM_ID = res(50);
const store = (i: number, call: string) => `(i32.store (i32.const ${res(i)}) ${call})`;
/** Remembers the stream context id (parent ≠ 0) so that on_tick can act on the stream. */
const rememberStream = `(if (i32.ne (local.get 1) (i32.const 0)) (then (i32.store (i32.const ${STREAM_ID}) (local.get 0))))`;
const controlImports = [
  "proxy_continue_stream",
  "proxy_close_stream",
  "proxy_send_local_response",
  "proxy_set_effective_context",
  "proxy_set_tick_period_milliseconds",
  "proxy_get_header_map_value",
  "proxy_add_header_map_value",
];

describe("return values (§3.6)", () => {
  const returning = (headers: number, data = 0, trailers = 0) => ({
    callbacks: {
      proxy_on_request_headers: `(i32.const ${headers})`,
      proxy_on_request_body: `(i32.const ${data})`,
      proxy_on_request_trailers: `(i32.const ${trailers})`,
    },
  });

  it("converts header results: 1 → watermark, 2 → Continue, > 4 → watermark", async () => {
    for (const [raw, expected] of [
      [0, FilterHeadersStatus.Continue],
      [1, FilterHeadersStatus.StopAllIterationAndWatermark],
      [2, FilterHeadersStatus.Continue],
      [3, FilterHeadersStatus.StopAllIterationAndBuffer],
      [4, FilterHeadersStatus.StopAllIterationAndWatermark],
      [7, FilterHeadersStatus.StopAllIterationAndWatermark],
    ] as const) {
      const { emu } = await loadProbe(returning(raw));
      assert.equal(emu.newStream().sendRequestHeaders(requestHeaders), expected, `raw ${raw}`);
    }
  });

  it("keeps StopIteration with allow_on_headers_stop_iteration (Envoy ≥ 1.35), so body callbacks continue", async () => {
    const { emu } = await loadProbe(returning(1), { allowOnHeadersStopIteration: true });
    const s = emu.newStream();
    assert.equal(s.sendRequestHeaders(requestHeaders), FilterHeadersStatus.StopIteration);
    assert.equal(s.sendRequestBody("x"), FilterDataStatus.Continue);
    assert.ok(s.upstream.headers, "Continue on data resumes the held headers");
  });

  it("⚠ does not deliver body callbacks after a header pause (watermark) until resumed", async () => {
    const { emu } = await loadProbe(returning(1));
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders);
    assert.equal(s.sendRequestBody("x"), undefined, "on_request_body not called");
    assert.equal(s.upstream.headers, null);
  });

  it("converts data and trailer results", async () => {
    for (const [raw, expected] of [
      [1, FilterDataStatus.StopIterationAndBuffer],
      [2, FilterDataStatus.StopIterationAndWatermark],
      [3, FilterDataStatus.StopIterationNoBuffer],
      [9, FilterDataStatus.StopIterationNoBuffer],
    ] as const) {
      const { emu } = await loadProbe(returning(0, raw));
      const s = emu.newStream();
      s.sendRequestHeaders(requestHeaders);
      assert.equal(s.sendRequestBody("x", { endStream: false }), expected, `raw ${raw}`);
    }
    for (const [raw, expected] of [
      [0, FilterTrailersStatus.Continue],
      [1, FilterTrailersStatus.StopIteration],
      [2, FilterTrailersStatus.StopIteration],
    ] as const) {
      const { emu } = await loadProbe(returning(0, 0, raw));
      const s = emu.newStream();
      s.sendRequestHeaders(requestHeaders);
      assert.equal(s.sendRequestTrailers({ t: "1" }), expected, `raw ${raw}`);
    }
  });
});

describe("pause and resume", () => {
  const pauser = (extraTick = "") => ({
    imports: controlImports,
    strings: { k: "x-resumed", v: "yes", p: ":path" },
    callbacks: {
      proxy_on_configure: "(drop (call $proxy_set_tick_period_milliseconds (i32.const 1000))) (i32.const 1)",
      proxy_on_context_create: rememberStream,
      proxy_on_request_headers: "(i32.const 1)",
      proxy_on_request_body: `(i32.store (i32.const ${res(20)}) (local.get 1)) (i32.store (i32.const ${res(21)}) (local.get 2)) (i32.const 0)`,
      proxy_on_tick: [
        store(0, `(call $proxy_set_effective_context (i32.load (i32.const ${STREAM_ID})))`),
        store(1, `(call $proxy_add_header_map_value (i32.const 0) $S(k) $S(v))`),
        store(2, "(call $proxy_continue_stream (i32.const 0))"),
        // Envoy drops the header pointer at proxy_continue_stream (the continue itself is deferred).
        store(3, `(call $proxy_get_header_map_value (i32.const 0) $S(p) (i32.const ${res(30)}) (i32.const ${res(31)}))`),
        extraTick,
      ].join("\n"),
    },
  });

  it("resumes a paused request from on_tick through proxy_set_effective_context", async () => {
    const { emu, plugin } = await loadProbe(pauser());
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders);
    s.sendRequestBody("ab", { endStream: false });
    s.sendRequestBody("cd", { endStream: true });
    assert.equal(s.upstream.headers === null, true, "held while paused");
    emu.advance(1000);
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(1)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(2)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(3)), WasmResult.BadArgument);
    assert.equal(s.upstream.headers?.get("x-resumed"), "yes");
    // The body held by the filter manager is delivered to the resumed filter in one piece.
    assert.equal(plugin.readU32(res(20)), 4);
    assert.equal(plugin.readU32(res(21)), 1);
    assert.equal(s.upstream.body.toString(), "abcd");
    assert.equal(s.upstream.complete, true);
  });

  it("resets the effective context on every callback, and rejects unknown ids", async () => {
    const { emu, plugin } = await loadProbe({
      imports: controlImports,
      strings: { p: ":path" },
      callbacks: {
        proxy_on_configure: "(drop (call $proxy_set_tick_period_milliseconds (i32.const 10))) (i32.const 1)",
        proxy_on_context_create: rememberStream,
        proxy_on_request_headers: "(i32.const 1)",
        proxy_on_tick: [
          `(if (i32.eqz (i32.load (i32.const ${res(40)}))) (then`,
          store(0, `(call $proxy_set_effective_context (i32.load (i32.const ${STREAM_ID})))`),
          store(1, `(call $proxy_get_header_map_value (i32.const 0) $S(p) (i32.const ${res(30)}) (i32.const ${res(31)}))`),
          store(2, "(call $proxy_set_effective_context (i32.const 9999))"),
          `) (else`,
          store(3, `(call $proxy_get_header_map_value (i32.const 0) $S(p) (i32.const ${res(30)}) (i32.const ${res(31)}))`),
          `))`,
          `(i32.store (i32.const ${res(40)}) (i32.add (i32.load (i32.const ${res(40)})) (i32.const 1)))`,
        ].join("\n"),
      },
    });
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders);
    emu.advance(10);
    emu.advance(10);
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(1)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(2)), WasmResult.BadArgument);
    assert.equal(plugin.readU32(res(3)), WasmResult.BadArgument, "second tick acts on the root context again");
  });

  it("validates stream types: > 3 BadArgument, upstream Unimplemented, downstream OK", async () => {
    const { emu, plugin } = await loadProbe({
      imports: controlImports,
      callbacks: {
        proxy_on_request_headers: [
          store(0, "(call $proxy_continue_stream (i32.const 4))"),
          store(1, "(call $proxy_continue_stream (i32.const 3))"),
          store(2, "(call $proxy_continue_stream (i32.const 2))"),
          store(3, "(call $proxy_close_stream (i32.const 4))"),
          "(i32.const 0)",
        ].join("\n"),
      },
    });
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(plugin.readU32(res(0)), WasmResult.BadArgument);
    assert.equal(plugin.readU32(res(1)), WasmResult.Unimplemented);
    assert.equal(plugin.readU32(res(2)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(3)), WasmResult.BadArgument);
  });

  it("closes a stream after the callback returns, with details wasm_close_stream", async () => {
    const { emu, plugin } = await loadProbe({
      imports: controlImports,
      strings: { p: ":path" },
      callbacks: {
        proxy_on_request_headers: [
          store(0, "(call $proxy_close_stream (i32.const 0))"),
          // Deferred: the stream is still usable inside this callback.
          store(1, `(call $proxy_get_header_map_value (i32.const 0) $S(p) (i32.const ${res(30)}) (i32.const ${res(31)}))`),
          "(i32.const 0)",
        ].join("\n"),
      },
    });
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(1)), WasmResult.Ok);
    assert.equal(s.resetReason, "wasm_close_stream");
    assert.equal(s.streamInfo.responseCodeDetails, "wasm_close_stream");
  });

  it("ABI 0.1.0: proxy_continue_request resumes the request", async () => {
    const { emu } = await loadProbe({
      abi: "0.1.0",
      imports: ["proxy_continue_request", "proxy_set_effective_context", "proxy_set_tick_period_milliseconds"],
      callbacks: {
        proxy_on_configure: "(drop (call $proxy_set_tick_period_milliseconds (i32.const 5))) (i32.const 1)",
        proxy_on_context_create: rememberStream,
        proxy_on_request_headers: "(i32.const 1)",
        proxy_on_tick: `(drop (call $proxy_set_effective_context (i32.load (i32.const ${STREAM_ID})))) (drop (call $proxy_continue_request))`,
      },
    });
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(s.upstream.headers, null);
    emu.advance(5);
    assert.ok(s.upstream.headers);
  });
});

describe("local replies (§2.6)", () => {
  const replyProbe = (callback: string, grpc = -1, ret = 0) => ({
    imports: controlImports,
    strings: { details: "denied by\tpolicy now", body: "go away", hdrs: pairs([["X-Reason", "test"]]), p: ":path" },
    callbacks: {
      [callback]: [
        store(0, `(call $proxy_send_local_response (i32.const 403) $S(details) $S(body) $S(hdrs) (i32.const ${grpc}))`),
        // The reply is deferred: the request is still readable in this callback.
        store(1, `(call $proxy_get_header_map_value (i32.const 0) $S(p) (i32.const ${res(30)}) (i32.const ${res(31)}))`),
        `(i32.const ${ret})`,
      ].join("\n"),
      proxy_on_response_headers: `(i32.store (i32.const ${res(2)}) (i32.add (i32.load (i32.const ${res(2)})) (i32.const 1))) (i32.const 0)`,
    },
  });

  it("forces a stop, sends the reply through the encoder filters (proxy_on_response_headers sees it)", async () => {
    const { emu, plugin } = await loadProbe(replyProbe("proxy_on_request_headers"));
    const s = emu.newStream();
    assert.equal(s.sendRequestHeaders(requestHeaders, { endStream: true }), FilterHeadersStatus.StopAllIterationAndWatermark);
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(1)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(2)), 1, "the module's own encoder callback ran for its reply");
    assert.equal(s.upstream.headers, null, "the request never reached the upstream");
    assert.equal(s.downstream.headers?.get(":status"), "403");
    assert.equal(s.downstream.headers?.get("x-reason"), "test");
    assert.equal(s.downstream.body.toString(), "go away");
    assert.deepEqual(s.localReply, { status: 403, body: "go away", headers: [["x-reason", "test"]], grpcStatus: null, details: "denied_by_policy_now" });
    assert.equal(s.streamInfo.responseCodeDetails, "denied_by_policy_now");
  });

  it("forces StopIterationNoBuffer from a body callback", async () => {
    const { emu } = await loadProbe(replyProbe("proxy_on_request_body"));
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders);
    assert.equal(s.sendRequestBody("b"), FilterDataStatus.StopIterationNoBuffer);
    assert.equal(s.downstream.headers?.get(":status"), "403");
  });

  it("emits grpc-status 0..16 for gRPC requests, and none for -1", async () => {
    const { emu } = await loadProbe(replyProbe("proxy_on_request_headers", 7));
    const s = emu.newStream();
    s.sendRequestHeaders({ ...requestHeaders, "content-type": "application/grpc" }, { endStream: true });
    assert.equal(s.downstream.headers?.get("grpc-status"), "7");
    assert.equal(s.downstream.headers?.get(":status"), "200");
    const { emu: emu2 } = await loadProbe(replyProbe("proxy_on_request_headers", -1));
    const s2 = emu2.newStream();
    s2.sendRequestHeaders({ ...requestHeaders, "content-type": "application/grpc" }, { endStream: true });
    assert.equal(s2.localReply?.grpcStatus, null);
    // Without an explicit status Envoy derives one from the HTTP code: 403 → PermissionDenied (7).
    assert.equal(s2.downstream.headers?.get("grpc-status"), "7");
  });
});
