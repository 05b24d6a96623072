// HTTP and gRPC callouts (proxy-wasm-abi.md §2.7, §3.5, §2.6 proxy_get_status): validation,
// tokens, responses on the root context with maps 6/7 and buffer 4, failures (11 "reset"),
// Envoy's synthetic 504 on timeout, and the gRPC call/stream life cycle.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeJson } from "../../host/envoy/protos.js";
import { decodePairs } from "../../host/wasm/pairs.js";
import { WasmResult } from "../../host/wasm/types.js";
import { loadProbe, pairs, readOut, requestHeaders, res } from "./wat-kit.js";

const STREAM_ID = res(50);
const TOKEN = res(51);
const store = (i: number, call: string) => `(i32.store (i32.const ${res(i)}) ${call})`;
const rememberStream = `(if (i32.ne (local.get 1) (i32.const 0)) (then (i32.store (i32.const ${STREAM_ID}) (local.get 0))))`;

const goodHeaders = pairs([[":method", "POST"], [":path", "/check"], [":authority", "auth.local"], ["X-Caller", "wasm"]]);
const httpStrings = {
  cluster: "cluster_a",
  unknown: "nope",
  hdrs: goodHeaders,
  noauthority: pairs([[":method", "GET"], [":path", "/"]]),
  body: "payload",
  trailers: pairs([["x-t", "1"]]),
  empty: "",
  xr: "x-r",
};
const httpCall = (headers: string, cluster = "cluster", timeout = "(i32.const 1000)", tokenPtr = `(i32.const ${TOKEN})`) =>
  `(call $proxy_http_call $S(${cluster}) $S(${headers}) $S(body) $S(empty) ${timeout} ${tokenPtr})`;

describe("HTTP callouts", () => {
  const probeOptions = {
    imports: ["proxy_http_call", "proxy_get_header_map_value", "proxy_get_header_map_pairs", "proxy_get_buffer_bytes", "proxy_get_status", "proxy_set_effective_context", "proxy_continue_stream"],
    strings: httpStrings,
    callbacks: {
      proxy_on_context_create: rememberStream,
      proxy_on_request_headers: [
        store(0, httpCall("hdrs")),
        `(i32.store (i32.const ${res(1)}) (i32.load (i32.const ${TOKEN})))`,
        store(2, httpCall("noauthority")),
        store(3, httpCall("hdrs", "unknown")),
        store(4, httpCall("hdrs", "cluster", "(i32.const 0x80000000)")),
        store(5, httpCall("hdrs", "cluster", "(i32.const 0)", "(i32.const 0x7ffffff0)")),
        "(i32.const 1)",
      ].join("\n"),
      proxy_on_http_call_response: [
        `(i32.store (i32.const ${res(10)}) (local.get 0))`,
        `(i32.store (i32.const ${res(11)}) (local.get 1))`,
        `(i32.store (i32.const ${res(12)}) (local.get 2))`,
        `(i32.store (i32.const ${res(13)}) (local.get 3))`,
        `(i32.store (i32.const ${res(14)}) (local.get 4))`,
        store(15, `(call $proxy_get_header_map_value (i32.const 6) $S(xr) (i32.const ${res(30)}) (i32.const ${res(31)}))`),
        store(16, `(call $proxy_get_buffer_bytes (i32.const 4) (i32.const 0) (i32.const 100) (i32.const ${res(32)}) (i32.const ${res(33)}))`),
        store(17, `(call $proxy_get_header_map_pairs (i32.const 7) (i32.const ${res(34)}) (i32.const ${res(35)}))`),
        store(18, `(call $proxy_get_status (i32.const ${res(36)}) (i32.const ${res(37)}) (i32.const ${res(38)}))`),
        store(19, `(call $proxy_set_effective_context (i32.load (i32.const ${STREAM_ID})))`),
        store(20, "(call $proxy_continue_stream (i32.const 0))"),
      ].join("\n"),
      proxy_on_request_body: store(25, "(i32.const 1)") + " (i32.const 0)",
      proxy_on_log: store(26, `(call $proxy_get_buffer_bytes (i32.const 4) (i32.const 0) (i32.const 100) (i32.const ${res(32)}) (i32.const ${res(33)}))`),
    },
  };

  it("sends a valid call, rejects invalid ones, and delivers the response to the root context", async () => {
    const { emu, plugin } = await loadProbe(probeOptions);
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    const st = (i: number) => plugin.readU32(res(i));
    assert.equal(st(0), WasmResult.Ok);
    assert.equal(st(1), 4, "first HTTP call token");
    assert.equal(st(2), WasmResult.BadArgument, ":authority is required");
    assert.equal(st(3), WasmResult.BadArgument, "unknown cluster");
    assert.equal(st(4), WasmResult.BadArgument, "negative timeout");
    assert.equal(st(5), WasmResult.InvalidMemoryAccess, "token pointer checked before sending");
    const [call] = emu.pendingHttpCalls();
    assert.equal(emu.pendingHttpCalls().length, 1, "only the valid call went out");
    assert.equal(call!.cluster, "cluster_a");
    assert.equal(call!.timeoutMs, 1000);
    assert.equal(call!.headers.get("x-caller"), "wasm", "keys lower-cased");
    assert.equal(call!.headers.get("content-length"), "7", "non-empty body sets content-length");
    assert.equal(call!.body.toString(), "payload");
    assert.equal(emu.tokenOf(call!), 4);

    emu.respondHttpCall(4, { status: 201, headers: { "x-r": "1" }, body: "resp", trailers: { "x-t": "tv" } });
    assert.equal(st(10), plugin.rootContextId(), "callback on the root context");
    assert.equal(st(11), 4);
    assert.deepEqual([st(12), st(13), st(14)], [2, 4, 1], "headers (:status, x-r), body size, trailers");
    assert.equal(st(15), WasmResult.Ok);
    assert.equal(readOut(plugin, res(30), res(31)).toString(), "1");
    assert.equal(readOut(plugin, res(32), res(33)).toString(), "resp");
    assert.deepEqual(decodePairs(readOut(plugin, res(34), res(35))), [["x-t", "tv"]]);
    assert.equal(st(18), WasmResult.Ok);
    assert.equal(plugin.readU32(res(36)), 0);
    assert.equal(st(19), WasmResult.Ok);
    assert.ok(s.upstream.headers, "resumed from the callout response");
    s.respond();
    s.complete();
    assert.equal(st(26), WasmResult.NotFound, "the callout body is gone after its callback");
  });

  it("reports a failed call as 0,0,0 with status 11 \"reset\"", async () => {
    const { emu, plugin } = await loadProbe(probeOptions);
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    emu.failHttpCall(emu.pendingHttpCalls()[0]!);
    assert.deepEqual([12, 13, 14].map((i) => plugin.readU32(res(i))), [0, 0, 0]);
    assert.equal(plugin.readU32(res(36)), WasmResult.BrokenConnection);
    assert.equal(readOut(plugin, res(37), res(38)).toString(), "reset");
  });

  it("answers a timed-out call with Envoy's synthetic 504", async () => {
    const { emu, plugin } = await loadProbe(probeOptions);
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    emu.advance(999);
    assert.equal(plugin.readU32(res(11)), 0);
    emu.advance(1);
    assert.equal(plugin.readU32(res(11)), 4);
    assert.equal(emu.httpCalls[0]!.state, "timed out");
    assert.equal(readOut(plugin, res(32), res(33)).toString(), "upstream request timeout");
  });

  it("numbers tokens 4, 8, 12 and rejects set_effective_context for a stream that is gone", async () => {
    const { emu, plugin } = await loadProbe(probeOptions);
    for (let i = 0; i < 3; i++) emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    assert.deepEqual(emu.pendingHttpCalls().map((c) => emu.tokenOf(c)), [4, 8, 12]);
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    s.complete();
    emu.respondHttpCall(16, { status: 200 });
    assert.equal(plugin.readU32(res(19)), WasmResult.BadArgument);
  });

  it("fails with InternalFailure when the cluster cannot send", async () => {
    const { emu, plugin } = await loadProbe(probeOptions);
    emu.clusters.httpCall = () => {
      throw new Error("no healthy upstream");
    };
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(plugin.readU32(res(0)), WasmResult.InternalFailure);
  });
});

describe("gRPC callouts", () => {
  const grpcService = encodeJson("envoy.config.core.v3.GrpcService", { envoy_grpc: { cluster_name: "cluster_a" } });
  const grpcStrings = {
    cluster: "cluster_a",
    unknown: "no_such_cluster",
    service: grpcService,
    svc: "pkg.Svc",
    method: "Check",
    md: pairs([["X-Md", "m"]]),
    msg: "request-bytes",
    more: "more",
    mk: "x-init",
  };
  const call = (service: string, tokenSlot: number) =>
    `(call $proxy_grpc_call $S(${service}) $S(svc) $S(method) $S(md) $S(msg) (i32.const 500) (i32.const ${res(tokenSlot)}))`;
  const probeOptions = {
    imports: ["proxy_grpc_call", "proxy_grpc_stream", "proxy_grpc_send", "proxy_grpc_close", "proxy_grpc_cancel", "proxy_get_buffer_bytes", "proxy_get_status", "proxy_get_header_map_value", "proxy_get_header_map_pairs"],
    strings: grpcStrings,
    callbacks: {
      proxy_on_configure: [
        store(0, call("cluster", 20)),
        store(1, call("unknown", 21)),
        store(2, call("service", 22)),
        store(3, `(call $proxy_grpc_stream $S(cluster) $S(svc) $S(method) $S(md) (i32.const ${res(23)}))`),
        store(4, `(call $proxy_grpc_send (i32.load (i32.const ${res(23)})) $S(more) (i32.const 0))`),
        store(5, `(call $proxy_grpc_send (i32.load (i32.const ${res(20)})) $S(more) (i32.const 0))`),
        store(6, `(call $proxy_grpc_send (i32.const 102) $S(more) (i32.const 0))`),
        store(7, `(call $proxy_grpc_cancel (i32.load (i32.const ${res(22)})))`),
        store(8, "(call $proxy_grpc_cancel (i32.const 101))"),
        store(9, "(call $proxy_grpc_close (i32.const 4))"),
        "(i32.const 1)",
      ].join("\n"),
      proxy_on_grpc_receive: [
        `(i32.store (i32.const ${res(30)}) (local.get 1))`,
        `(i32.store (i32.const ${res(31)}) (local.get 2))`,
        store(32, `(call $proxy_get_buffer_bytes (i32.const 5) (i32.const 0) (i32.const 100) (i32.const ${res(33)}) (i32.const ${res(34)}))`),
      ].join("\n"),
      proxy_on_grpc_close: [
        `(i32.store (i32.const ${res(35)}) (local.get 1))`,
        `(i32.store (i32.const ${res(36)}) (local.get 2))`,
        store(37, `(call $proxy_get_status (i32.const ${res(38)}) (i32.const ${res(39)}) (i32.const ${res(40)}))`),
      ].join("\n"),
      proxy_on_grpc_receive_initial_metadata: [
        `(i32.store (i32.const ${res(41)}) (local.get 2))`,
        store(42, `(call $proxy_get_header_map_value (i32.const 4) $S(mk) (i32.const ${res(43)}) (i32.const ${res(44)}))`),
      ].join("\n"),
      proxy_on_grpc_receive_trailing_metadata: [
        `(i32.store (i32.const ${res(45)}) (local.get 2))`,
        store(46, `(call $proxy_get_header_map_pairs (i32.const 5) (i32.const ${res(47)}) (i32.const ${res(48)}))`),
      ].join("\n"),
    },
  };

  it("starts calls and streams with Envoy's validation and tokens", async () => {
    const { emu, plugin } = await loadProbe(probeOptions, { concurrency: 1 });
    const st = (i: number) => plugin.readU32(res(i));
    assert.equal(st(0), WasmResult.Ok);
    assert.equal(st(20), 5, "first gRPC call token");
    assert.equal(st(1), WasmResult.ParseFailure, "unknown plain cluster name");
    assert.equal(st(2), WasmResult.Ok, "serialized GrpcService");
    assert.equal(st(22), 9);
    assert.equal(st(3), WasmResult.Ok);
    assert.equal(st(23), 6, "first gRPC stream token");
    assert.equal(st(4), WasmResult.Ok);
    assert.equal(st(5), WasmResult.BadArgument, "send needs a stream token");
    assert.equal(st(6), WasmResult.NotFound, "unknown stream");
    assert.equal(st(7), WasmResult.Ok);
    assert.equal(st(8), WasmResult.NotFound);
    assert.equal(st(9), WasmResult.BadArgument, "an HTTP token is no gRPC token");
    // The worker's calls (the canary's were discarded with it).
    const calls = emu.grpcCalls.slice(-3);
    assert.deepEqual(calls.map((c) => [c.service, c.method, c.cluster]), [["pkg.Svc", "Check", "cluster_a"], ["pkg.Svc", "Check", "cluster_a"], ["pkg.Svc", "Check", "cluster_a"]]);
    assert.equal(calls[0]!.sent[0]!.toString(), "request-bytes");
    assert.equal(calls[0]!.initialMetadata.get("x-md"), "m");
    assert.equal(calls[1]!.cancelled, true);
    assert.deepEqual(calls[2]!.sent.map(String), ["more"]);

    // Unary success: only proxy_on_grpc_receive.
    calls[0]!.reply("response-bytes");
    assert.equal(st(30), 5);
    assert.equal(st(31), "response-bytes".length);
    assert.equal(readOut(plugin, res(33), res(34)).toString(), "response-bytes");
    assert.equal(st(35), 0, "no close callback after a unary success");

    // Stream: metadata, message, trailing metadata, close with status.
    const stream = calls[2]!;
    stream.sendInitialMetadata({ "x-init": "i" });
    assert.equal(st(41), 1);
    assert.equal(readOut(plugin, res(43), res(44)).toString(), "i");
    stream.sendMessage("m2");
    assert.equal(st(30), 6);
    stream.sendTrailingMetadata({ "grpc-status": "14" });
    assert.deepEqual(decodePairs(readOut(plugin, res(47), res(48))), [["grpc-status", "14"]]);
    stream.closeWith(14, "unavailable");
    assert.equal(st(35), 6);
    assert.equal(st(36), 14);
    assert.equal(plugin.readU32(res(38)), 14);
    assert.equal(readOut(plugin, res(39), res(40)).toString(), "unavailable");
  });

  it("delivers a unary failure as proxy_on_grpc_close, and nothing after a cancel", async () => {
    const { emu, plugin } = await loadProbe(probeOptions, { concurrency: 1 });
    const calls = emu.grpcCalls.slice(-3);
    calls[0]!.closeWith(16, "denied");
    assert.equal(plugin.readU32(res(35)), 5);
    assert.equal(plugin.readU32(res(36)), 16);
    calls[1]!.reply("late");
    assert.equal(plugin.readU32(res(30)), 0, "the cancelled call delivers nothing");
  });
});
