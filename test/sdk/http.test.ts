// The SDK's HTTP stream API run in the emulator (test/sdk/modules/sdk-http): headers, trailers,
// bodies, local replies, Action translation, pausing and resuming from the root context, and the
// on_log → on_done → on_delete order.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FilterDataStatus, FilterHeadersStatus } from "../../host/emulator/index.js";
import { latin1, loadModule, said } from "./emulated.js";

const get = (path: string, scenario: string, extra: Record<string, string | string[]> = {}) => ({
  ":method": "GET",
  ":path": path,
  ":authority": "example.com",
  ":scheme": "http",
  "x-scenario": scenario,
  ...extra,
});

describe("SDK HTTP API (emulator)", () => {
  it("reads headers: null when absent, \"\" when empty, first of repeated, bytes, all, byte size", async () => {
    const { emulator } = await loadModule("sdk-http");
    const s = emulator.newStream();
    const request = get("/h", "headers", {
      "x-present": "yes",
      "x-empty": "",
      "x-multi": ["a", "b"],
      "x-bin": latin1("é"),
      "x-replaced": "old",
      "x-removed": "gone",
    });
    assert.equal(s.sendRequestHeaders(request, { endStream: true }), FilterHeadersStatus.Continue);
    const seen = said(emulator, "headers");
    assert.ok(seen.includes("count=12 eos=true"), seen.join("\n"));
    assert.ok(seen.includes('present="yes"'));
    assert.ok(seen.includes('empty=""'));
    assert.ok(seen.includes("absent=null status=NotFound"));
    assert.ok(seen.includes('multi first="a"'));
    assert.ok(seen.includes("bytes=c3a9"));
    assert.ok(seen.includes(`all=:method=GET,:path=/h,:authority=example.com,:scheme=http,x-scenario=headers,x-present=yes,x-empty=,x-multi=a,x-multi=b,x-bin=é,x-replaced=old,x-removed=gone`), seen.join("\n"));
    assert.ok(seen.includes("all-bytes=12"));
    // Envoy's HeaderMap::byteSize(): sum of key and value lengths, not the entry count.
    const expectedByteSize = Object.entries(request)
      .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => k.length + x.length))
      .reduce((a, b) => a + b, 0);
    assert.ok(seen.includes(`byte-size=${expectedByteSize}`), `${seen.join("\n")}\nwant byte-size=${expectedByteSize}`);
    assert.ok(seen.includes('unicode="é"'));

    const up = s.upstream.headers!;
    assert.equal(up.get("x-added"), "1");
    assert.deepEqual(up.getAll("x-multi"), ["a", "b", "c"]);
    assert.equal(up.get("x-replaced"), "new");
    assert.equal(up.has("x-removed"), false);
    assert.equal(up.get("x-bytes"), latin1("é"));
    assert.equal(up.get("x-present"), "changed");

    s.respond({ status: 200, headers: { "x-resp-replaced": "old", "x-resp-removed": "x" } });
    const down = s.downstream.headers!;
    assert.equal(down.get("x-resp-added"), "a");
    assert.equal(down.get("x-resp-replaced"), "r");
    assert.equal(down.has("x-resp-removed"), false);
    assert.ok(said(emulator, "headers").includes('response status="200"'));
    s.complete();
  });

  it("replaces all headers, lower-casing names as Envoy does", async () => {
    const { emulator } = await loadModule("sdk-http");
    const s = emulator.newStream();
    s.sendRequestHeaders(get("/", "set-all", { "x-drop": "1" }), { endStream: true });
    assert.deepEqual(said(emulator, "set-all"), ["Ok"]);
    const up = s.upstream.headers!;
    assert.equal(up.has("x-drop"), false);
    assert.equal(up.has("x-scenario"), false);
    assert.equal(up.get("x-only"), "1");
    assert.equal(up.get("x-upper"), "v");
    assert.equal(up.get(":path"), "/");
    s.respond({ status: 200, headers: { "x-old": "1" } });
    assert.equal(s.downstream.headers!.get(":status"), "201");
    assert.equal(s.downstream.headers!.has("x-old"), false);
    assert.equal(s.downstream.headers!.get("x-set"), "1");
  });

  it("replaces all headers from bytes", async () => {
    const { emulator } = await loadModule("sdk-http");
    const s = emulator.newStream();
    s.sendRequestHeaders(get("/", "set-all-bytes", { "x-keep": latin1("ü") }), { endStream: true });
    assert.deepEqual(said(emulator, "set-all-bytes"), ["Ok"]);
    assert.equal(s.upstream.headers!.get("x-keep"), latin1("ü"));
    assert.equal(s.upstream.headers!.get("x-bytes-only"), "1");
  });

  it("refuses a header list the host would read as empty, leaving the headers intact", async () => {
    const { emulator } = await loadModule("sdk-http");
    const s = emulator.newStream();
    s.sendRequestHeaders(get("/", "set-too-many"), { endStream: true });
    assert.deepEqual(said(emulator, "set-too-many"), ["BadArgument"]);
    assert.equal(s.upstream.headers!.get(":path"), "/");
    assert.equal(s.upstream.headers!.get("x-scenario"), "set-too-many");
  });

  it("sends local replies (with details, headers, gRPC status) that Envoy turns into a stop", async () => {
    const { emulator } = await loadModule("sdk-http");
    const s = emulator.newStream();
    // The module returned Continue; the host forces StopAllIterationAndWatermark (§3.6).
    assert.equal(s.sendRequestHeaders(get("/", "local-reply"), { endStream: true }), FilterHeadersStatus.StopAllIterationAndWatermark);
    assert.deepEqual(said(emulator, "local-reply"), ["Ok", 'response headers status="418"']);
    assert.equal(s.localReply?.status, 418);
    assert.equal(s.localReply?.details, "short_and_stout");
    assert.equal(s.downstream.headers!.get("x-lr"), "1");
    assert.equal(s.downstream.body.toString(), "I'm a teapot");
    assert.equal(s.upstream.headers, null);

    const g = emulator.newStream();
    g.sendRequestHeaders(get("/", "local-reply-grpc", { "content-type": "application/grpc" }), { endStream: true });
    assert.equal(g.localReply?.grpcStatus, 7);
    assert.equal(g.localReply?.details, "grpc_denied");
  });

  it("buffers a body while paused and rewrites it at end of stream", async () => {
    const { emulator } = await loadModule("sdk-http");
    const s = emulator.newStream();
    assert.equal(s.sendRequestHeaders({ ...get("/", "body-replace"), ":method": "POST", "content-length": "11" }), FilterHeadersStatus.Continue);
    assert.equal(s.sendRequestBody("hello ", { endStream: false }), FilterDataStatus.StopIterationAndBuffer);
    assert.equal(s.sendRequestBody("world", { endStream: true }), FilterDataStatus.Continue);
    assert.deepEqual(said(emulator, "body-replace"), [
      "content-length=11",
      "body size=6 eos=false",
      "body size=11 eos=true",
      'body="hello world" part="ell"',
      "replace Ok",
    ]);
    assert.equal(s.upstream.headers!.has("content-length"), false);
    assert.equal(s.upstream.body.toString(), "HELLO WORLD");

    s.sendResponseHeaders({ ":status": "200", "content-length": "2" });
    s.sendResponseBody("o", { endStream: false });
    s.sendResponseBody("k", { endStream: true });
    assert.equal(s.downstream.headers!.has("content-length"), false);
    assert.equal(s.downstream.body.toString(), "[ok]");
    assert.ok(said(emulator, "body-replace").includes("response body=6f6b"));
  });

  it("prepends and appends, and gets BadArgument for edits Envoy does not support", async () => {
    const { emulator } = await loadModule("sdk-http");
    const s = emulator.newStream();
    s.sendRequestHeaders({ ...get("/", "body-edit"), ":method": "POST" });
    s.sendRequestBody("abc", { endStream: true });
    assert.deepEqual(said(emulator, "body-edit"), ["content-length=-1", "body size=3 eos=true", 'body="abc" part="bc"', "prepend Ok", "append Ok", "middle Ok"]);
    // replace with "" then prepend "" leaves an empty body
    assert.equal(s.upstream.body.toString(), "");
  });

  it("reads, adds and edits trailers, and adds request trailers from the last body chunk", async () => {
    const { emulator } = await loadModule("sdk-http");
    const s = emulator.newStream();
    s.sendRequestHeaders({ ...get("/", "trailers"), ":method": "POST" });
    s.sendRequestBody("x", { endStream: true });
    assert.deepEqual(said(emulator, "trailers"), ["in headers phase=null status=BadArgument", "add from body Ok"]);
    assert.equal(s.upstream.trailers?.get("x-added-trailer"), "t");

    const t = emulator.newStream();
    t.sendRequestHeaders({ ...get("/", "trailers"), ":method": "POST" });
    t.sendRequestBody("x", { endStream: false });
    t.sendRequestTrailers({ "x-t": "1", "x-gone": "g" });
    assert.ok(said(emulator, "trailers").includes('request count=2 x-t="1"'));
    const up = t.upstream.trailers!;
    assert.equal(up.get("x-t"), "replaced");
    assert.equal(up.get("x-extra"), "e");
    assert.equal(up.has("x-gone"), false);

    t.sendResponseHeaders({ ":status": "200", "content-type": "application/grpc" });
    t.sendResponseBody("r", { endStream: false });
    t.sendResponseTrailers({ "grpc-status": "0", "x-resp-gone": "1" });
    assert.ok(said(emulator, "trailers").includes("response count=2 first=grpc-status=0"));
    const down = t.downstream.trailers!;
    assert.equal(down.get("grpc-status"), "7");
    assert.equal(down.get("x-resp-trailer"), "y");
    assert.equal(down.has("x-resp-gone"), false);
  });

  it("pauses request headers (Envoy: StopAllIterationAndWatermark) and resumes from the root's tick", async () => {
    const { emulator } = await loadModule("sdk-http");
    const s = emulator.newStream();
    assert.equal(s.sendRequestHeaders({ ...get("/", "pause"), ":method": "POST" }, { endStream: false }), FilterHeadersStatus.StopAllIterationAndWatermark);
    s.sendRequestBody("data", { endStream: true });
    const before = s.upstream.headers;
    assert.equal(before, null, "paused: nothing reaches the upstream");
    emulator.advance(100);
    assert.ok(said(emulator, "tick").includes("continue Ok"), said(emulator, "tick").join("\n"));
    assert.equal(s.upstream.headers?.get("x-resumed-by"), "tick");
    assert.equal(s.upstream.body.toString(), "data");
  });

  it("closes the stream", async () => {
    const { emulator } = await loadModule("sdk-http");
    const s = emulator.newStream();
    s.sendRequestHeaders(get("/", "close"), { endStream: true });
    assert.deepEqual(said(emulator, "close"), ["Ok"]);
    assert.equal(s.resetReason, "wasm_close_stream");
  });

  it("runs on_log, on_done, on_delete in Envoy's order and frees the stream context", async () => {
    const { emulator } = await loadModule("sdk-http");
    for (let i = 0; i < 3; i++) {
      const s = emulator.newStream();
      s.sendRequestHeaders(get("/", "lifecycle"), { endStream: true });
      s.respond({ status: 204 });
      s.complete();
    }
    assert.deepEqual(said(emulator, "lifecycle"), ["log", "done", "delete", "log", "done", "delete", "log", "done", "delete"]);
    // Every VM of the plugin ticks (Envoy runs a root context on the main thread and on each worker).
    emulator.advance(100);
    const ticks = said(emulator, "tick");
    assert.ok(ticks.length > 0 && ticks.every((t) => t === "live roots=1 http=0"), ticks.join("\n"));
  });

  it("keeps linear memory bounded over many streams", async () => {
    const { emulator, plugin } = await loadModule("sdk-http");
    const run = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const s = emulator.newStream();
        s.sendRequestHeaders(get("/", "headers", { "x-present": "p", "x-bin": "b" }), { endStream: true });
        s.respond({ status: 200 });
        s.complete();
      }
    };
    // Each stream reads headers into host-allocated blocks: a block not freed would leak hundreds of
    // bytes per stream, pages over 2000 streams.
    run(200);
    const warm = plugin.memoryBytes();
    run(2000);
    assert.equal(plugin.memoryBytes(), warm, "memory grew between 200 and 2200 streams");
    emulator.advance(100);
    assert.ok(said(emulator, "tick").every((t) => t === "live roots=1 http=0"));
  });
});
