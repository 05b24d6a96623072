// HTTP and gRPC callouts through the SDK in the emulator (test/sdk/modules/sdk-callouts): results
// reach the context that made the call, whether a stream or the root; results for a deleted
// stream are dropped (and a still-open gRPC stream is cancelled); failures come back as values.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FilterHeadersStatus } from "../../host/emulator/index.js";
import { loadModule, said } from "./emulated.js";

const clusters = { clusters: ["backend", "grpc-backend"] };

const req = (scenario: string) => ({
  ":method": "GET",
  ":path": "/",
  ":authority": "example.com",
  "x-scenario": scenario,
  "x-user": "alice",
});

describe("SDK callouts (emulator)", () => {
  it("routes an HTTP callout response to the stream that made it, which then resumes", async () => {
    const { emulator } = await loadModule("sdk-callouts", {}, clusters);
    const s = emulator.newStream();
    assert.equal(s.sendRequestHeaders(req("http"), { endStream: true }), FilterHeadersStatus.StopAllIterationAndWatermark);
    const [call] = emulator.pendingHttpCalls();
    assert.ok(call);
    assert.equal(call.cluster, "backend");
    assert.equal(call.headers.get(":path"), "/check");
    assert.equal(call.headers.get("x-user"), "alice");
    assert.equal(call.body.toString(), "ping");
    assert.equal(call.trailers?.get("x-trailer"), "t");
    assert.equal(call.timeoutMs, 0);
    assert.equal(s.upstream.headers, null);

    emulator.respondHttpCall(call, { status: 200, headers: { "x-backend": "b1" }, body: "pong", trailers: { "x-t": "1" } });
    assert.deepEqual(said(emulator, "http"), [
      "token is 4n: yes pending=1",
      "response for my token: yes headers=2",
      "body size=4",
      "status=200 x-backend=b1",
      "header count=2",
      "body=pong part=on",
      "trailers=1 first=x-t=1",
      "continue Ok pending=0",
    ]);
    const up = s.upstream.headers as { get(k: string): string | undefined } | null;
    assert.equal(up?.get("x-auth"), "200");
  });

  it("reports a failed callout as zero headers with status 11 \"reset\"", async () => {
    const { emulator } = await loadModule("sdk-callouts", {}, clusters);
    const s = emulator.newStream();
    s.sendRequestHeaders(req("http-fail"), { endStream: true });
    emulator.failHttpCall(emulator.pendingHttpCalls()[0]!);
    const seen = said(emulator, "http-fail");
    assert.ok(seen.includes("response for my token: yes headers=0"), seen.join("\n"));
    assert.ok(seen.includes("failed code=11 message=reset"), seen.join("\n"));
    assert.equal(s.localReply?.status, 503);
    assert.equal(s.localReply?.details, "callout_failed");
  });

  it("delivers Envoy's synthetic 504 when the callout times out", async () => {
    const { emulator } = await loadModule("sdk-callouts", {}, clusters);
    const s = emulator.newStream();
    s.sendRequestHeaders(req("http-timeout"), { endStream: true });
    assert.equal(emulator.pendingHttpCalls()[0]!.timeoutMs, 200);
    emulator.advance(200);
    assert.ok(said(emulator, "http-timeout").includes("status=504 x-backend=null"), said(emulator, "http-timeout").join("\n"));
    assert.equal(s.upstream.headers?.get("x-auth"), "504");
  });

  it("drops the response of a stream deleted meanwhile and forgets its token", async () => {
    const { emulator } = await loadModule("sdk-callouts", {}, clusters);
    const s = emulator.newStream();
    s.sendRequestHeaders(req("http-deleted"), { endStream: true });
    s.respond({ status: 200 });
    s.complete();
    const call = emulator.pendingHttpCalls()[0]!;
    emulator.respondHttpCall(call, { status: 200, body: "late" });
    assert.deepEqual(said(emulator, "http-deleted"), ["token is 4n: yes pending=1"], "the deleted stream must not be called back");
    // The VM is fine and the SDK no longer tracks the token.
    const next = emulator.newStream();
    next.sendRequestHeaders(req("nothing"), { endStream: true });
    next.respond({ status: 200 });
    next.complete();
    assert.deepEqual(said(emulator, "log"), ["http-deleted pending=1", "nothing pending=0"]);
  });

  it("returns token 0 and the reason for calls Envoy refuses", async () => {
    const { emulator } = await loadModule("sdk-callouts", {}, clusters);
    const s = emulator.newStream();
    s.sendRequestHeaders(req("http-bad"), { endStream: true });
    assert.deepEqual(said(emulator, "http-bad"), [
      "missing :path token=0 BadArgument",
      "unknown cluster token=0 BadArgument",
      "too many headers token=0 BadArgument",
    ]);
    assert.equal(emulator.httpCalls.length, 0);
  });

  it("routes a callout made by the root context back to the root", async () => {
    const { emulator } = await loadModule("sdk-callouts", {}, clusters);
    emulator.advance(1000);
    const calls = emulator.pendingHttpCalls();
    assert.ok(calls.length >= 1);
    for (const call of calls) {
      assert.equal(call.headers.get(":path"), "/from-root");
      emulator.respondHttpCall(call, { status: 202, body: "root-body" });
    }
    const root = said(emulator, "root");
    assert.equal(root.filter((l) => l === "call ok pending=1").length, calls.length, root.join("\n"));
    assert.equal(root.filter((l) => l === "response status=202 body=root-body").length, calls.length, root.join("\n"));
  });

  it("makes a unary gRPC call and routes message and close to the stream", async () => {
    const { emulator } = await loadModule("sdk-callouts", {}, clusters);
    const s = emulator.newStream();
    s.sendRequestHeaders(req("grpc-unary"), { endStream: true });
    const call = emulator.grpcCalls[0]!;
    assert.equal(call.cluster, "grpc-backend");
    assert.equal(call.service, "test.Echo");
    assert.equal(call.method, "Say");
    assert.equal(call.initialMetadata.get("x-md"), "m");
    assert.equal(call.timeoutMs, 1000);
    assert.deepEqual(call.sent.map((m) => m.toString("hex")), ["0a0178"]);
    call.reply("pong");
    emulator.drain();
    // Envoy ends a successful unary call with the message alone (no on_grpc_close).
    assert.deepEqual(said(emulator, "grpc-unary"), ["token is 4n+1: yes", "message size=4 text=pong", "continue Ok pending=0"]);
    assert.ok(s.upstream.headers, "the request resumed");
  });

  it("ends a failed unary gRPC call with onGrpcClose and the status message", async () => {
    const { emulator } = await loadModule("sdk-callouts", {}, clusters);
    const s = emulator.newStream();
    s.sendRequestHeaders(req("grpc-unary"), { endStream: true });
    emulator.grpcCalls[0]!.closeWith(14, "upstream connect error");
    emulator.drain();
    assert.deepEqual(said(emulator, "grpc-unary"), ["token is 4n+1: yes", "close status=14 message=upstream connect error", "continue Ok pending=0"]);
  });

  it("streams gRPC messages both ways", async () => {
    const { emulator } = await loadModule("sdk-callouts", {}, clusters);
    const s = emulator.newStream();
    s.sendRequestHeaders(req("grpc-stream"), { endStream: true });
    const call = emulator.grpcCalls[0]!;
    assert.equal(call.method, "Chat");
    call.sendInitialMetadata({ "x-server": "s1" });
    call.sendMessage("hi");
    call.sendTrailingMetadata({ "grpc-status": "0" });
    call.closeWith(0);
    emulator.drain();
    assert.deepEqual(call.sent.map((m) => m.toString()), ["hello", "again"]);
    assert.equal(call.localClosed, true);
    const seen = said(emulator, "grpc-stream");
    assert.deepEqual(seen.slice(0, 5), [
      "token is 4n+2: yes",
      "send Ok",
      "initial metadata n=1 first=x-server=s1",
      "message size=2 text=hi",
      "reply Ok",
    ]);
    assert.ok(seen.includes("trailing metadata n=1 first=grpc-status=0"), seen.join("\n"));
    assert.ok(seen.includes("close status=0 message="), seen.join("\n"));
    assert.equal(seen.at(-1), "continue Ok pending=0");
  });

  it("cancels a gRPC stream whose stream context is gone, and drops unary results for it", async () => {
    const { emulator } = await loadModule("sdk-callouts", {}, clusters);
    const s = emulator.newStream();
    s.sendRequestHeaders(req("grpc-stream-deleted"), { endStream: true });
    s.respond({ status: 200 });
    s.complete();
    const stream = emulator.grpcCalls[0]!;
    stream.sendMessage("late");
    emulator.drain();
    assert.equal(stream.cancelled, true, "the SDK cancels a stream nobody receives");
    assert.deepEqual(said(emulator, "grpc-stream-deleted"), ["token is 4n+2: yes", "send Ok"]);

    const u = emulator.newStream();
    u.sendRequestHeaders(req("grpc-unary-deleted"), { endStream: true });
    u.respond({ status: 200 });
    u.complete();
    emulator.grpcCalls[1]!.reply("late");
    emulator.drain();
    assert.deepEqual(said(emulator, "grpc-unary-deleted"), ["token is 4n+1: yes"]);
    const next = emulator.newStream();
    next.sendRequestHeaders(req("after"), { endStream: true });
    next.respond({ status: 200 });
    next.complete();
    assert.equal(said(emulator, "log").at(-1), "after pending=0");
  });

  it("cancels a gRPC stream on request", async () => {
    const { emulator } = await loadModule("sdk-callouts", {}, clusters);
    const s = emulator.newStream();
    s.sendRequestHeaders(req("grpc-cancel"), { endStream: true });
    assert.deepEqual(said(emulator, "grpc-cancel"), ["token is 4n+2: yes", "send Ok", "cancel Ok pending=0"]);
    assert.equal(emulator.grpcCalls[0]!.cancelled, true);
  });
});
