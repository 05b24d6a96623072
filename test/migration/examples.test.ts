// The four proxy-runtime-style examples (filters/examples/proxy-runtime-*) in the emulator: each
// behaves like the @solo-io/proxy-runtime example it is modelled on, under Envoy's semantics
// (header pauses become watermarks, local replies go through the encoder filters, callouts are
// answered on a later dispatcher turn).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emulator, FilterHeadersStatus, WasmLoadError } from "../../host/emulator/index.js";
import { moduleBytes } from "../support/modules.js";
import { loadModule, request, said } from "./support.js";

describe("proxy-runtime-add-header", () => {
  it("adds hello: world! to every response when there is no configuration", async () => {
    const { emulator } = await loadModule("proxy-runtime-add-header", { name: "add_header", rootId: "add_header" });
    const s = emulator.newStream();
    assert.equal(s.sendRequestHeaders(request(), { endStream: true }), FilterHeadersStatus.Continue);
    assert.equal(s.upstream.headers?.has("hello"), false, "the request is not touched");
    s.respond({ status: 200, headers: { hello: "upstream" }, body: "ok" });
    // add appends, as proxy-runtime's did: the upstream's value stays first.
    assert.deepEqual(s.downstream.headers?.getAll("hello"), ["upstream", "world!"]);
    assert.equal(s.downstream.body.toString(), "ok");
    s.complete();
  });

  it("adds the configured value instead", async () => {
    const { emulator } = await loadModule("proxy-runtime-add-header", {
      name: "add_header", rootId: "add_header", configuration: "from-config",
    });
    for (const worker of [0, 1]) {
      const s = emulator.newStream({ worker });
      s.sendRequestHeaders(request(), { endStream: true });
      s.respond({ status: 204 });
      assert.equal(s.downstream.headers?.get("hello"), "from-config", `worker ${worker}`);
      s.complete();
    }
  });

  it("refuses a plugin whose root_id has no registered root context, naming both", async () => {
    const emulator = new Emulator();
    await assert.rejects(
      emulator.loadPlugin({ wasm: await moduleBytes("proxy-runtime-add-header"), name: "typo", rootId: "add_headers" }),
      WasmLoadError,
    );
    const critical = emulator.logs("critical").join("\n");
    assert.match(critical, /no root context registered for root_id "add_headers" \(registerRootContext names: add_header\)/);
  });
});

describe("proxy-runtime-auth", () => {
  const load = () =>
    loadModule("proxy-runtime-auth", { name: "auth", rootId: "auth", configuration: "auth_service" }, {
      clusters: ["auth_service"], logLevel: "debug",
    });

  it("holds the request, asks the auth cluster with its headers, and lets it through on 200", async () => {
    const { emulator } = await load();
    const s = emulator.newStream();
    const status = s.sendRequestHeaders(request("/orders", { "x-user": "alice" }), { endStream: false });
    assert.equal(status, FilterHeadersStatus.StopAllIterationAndWatermark, "StopIteration on headers becomes a watermark pause");
    const [call] = emulator.pendingHttpCalls();
    assert.ok(call, "one callout");
    assert.equal(call.cluster, "auth_service");
    assert.equal(call.timeoutMs, 1000);
    assert.equal(call.headers.get(":path"), "/orders");
    assert.equal(call.headers.get("x-user"), "alice");
    assert.equal(call.body.length, 0);
    // Paused in headers: the body is held back and the filter's body callback is not called.
    assert.equal(s.sendRequestBody("payload", { endStream: true }), undefined);
    assert.equal(s.upstream.headers === null, true, "nothing reached the upstream yet");

    emulator.respondHttpCall(call, { status: 200, body: "welcome" });
    assert.equal(s.upstream.headers?.get("added-header"), "authorized");
    assert.equal(s.upstream.headers?.get("x-user"), "alice");
    assert.equal(s.upstream.body.toString(), "payload");
    assert.equal(s.upstream.complete, true);
    assert.deepEqual(said(emulator, "auth", "debug"), ["status 200, body welcome"]);

    s.respond({ status: 200, body: "orders" });
    assert.equal(s.downstream.headers?.get(":status"), "200");
    assert.equal(s.downstream.headers?.get("hello"), "wasm!");
    s.complete();
  });

  it("answers 401 when the auth service says anything but 200", async () => {
    const { emulator } = await load();
    const s = emulator.newStream();
    s.sendRequestHeaders(request("/admin"), { endStream: true });
    emulator.respondHttpCall(emulator.pendingHttpCalls()[0]!, { status: 403, body: "no" });
    assert.equal(s.upstream.headers, null, "never reaches the upstream");
    assert.equal(s.localReply?.status, 401);
    assert.equal(s.localReply?.details, "not_authorized", "Envoy replaces whitespace in details with _");
    assert.equal(s.downstream.headers?.get(":status"), "401");
    // The local reply passes through the filter's own encoder path.
    assert.equal(s.downstream.headers?.get("hello"), "wasm!");
    s.complete();
  });

  it("answers 401 when the callout fails (reset: zero headers)", async () => {
    const { emulator } = await load();
    const s = emulator.newStream();
    s.sendRequestHeaders(request(), { endStream: true });
    emulator.failHttpCall(emulator.pendingHttpCalls()[0]!);
    assert.equal(s.localReply?.status, 401);
    assert.deepEqual(said(emulator, "auth", "debug"), ["status , body "]);
    s.complete();
  });

  it("answers 401 when the auth service does not answer within the 1 s timeout (Envoy's 504)", async () => {
    const { emulator } = await load();
    const s = emulator.newStream();
    s.sendRequestHeaders(request(), { endStream: true });
    emulator.advance(999);
    assert.equal(s.localReply === null, true, "still waiting at 999 ms");
    emulator.advance(1);
    assert.deepEqual(said(emulator, "auth", "debug"), ["status 504, body upstream request timeout"]);
    assert.equal(s.localReply?.status, 401);
    s.complete();
  });

  it("answers 500 when the callout cannot be made (unknown cluster)", async () => {
    const { emulator } = await loadModule("proxy-runtime-auth", { name: "auth", rootId: "auth", configuration: "nowhere" });
    const s = emulator.newStream();
    s.sendRequestHeaders(request(), { endStream: true });
    assert.equal(emulator.pendingHttpCalls().length, 0);
    assert.equal(s.localReply?.status, 500);
    assert.equal(s.localReply?.details, "internal_server_error");
    assert.deepEqual(said(emulator, "auth", "warning"), ["callout to nowhere failed: 2"], "BadArgument, returned not thrown");
    s.complete();
  });

  it("forwards request header bytes to the auth service exactly (no UTF-8 round trip)", async () => {
    const { emulator } = await load();
    const s = emulator.newStream();
    s.sendRequestHeaders(request("/", { "x-latin": "caf\xe9" }), { endStream: true });
    assert.equal(emulator.pendingHttpCalls()[0]!.headers.get("x-latin"), "caf\xe9");
    s.complete();
  });

  it("does not call back a stream that ended before the auth service answered", async () => {
    const { emulator, plugin } = await load();
    const s = emulator.newStream();
    s.sendRequestHeaders(request(), { endStream: true });
    s.complete();
    emulator.respondHttpCall(emulator.pendingHttpCalls()[0]!, { status: 200 });
    assert.deepEqual(said(emulator, "auth", "debug"), []);
    assert.equal(plugin.failed(0), false);
    // The worker still serves new streams.
    const next = emulator.newStream();
    next.sendRequestHeaders(request(), { endStream: true });
    emulator.respondHttpCall(emulator.pendingHttpCalls()[0]!, { status: 200 });
    assert.equal(next.upstream.headers?.get("added-header"), "authorized");
    next.complete();
  });
});

describe("proxy-runtime-remove-headers", () => {
  it("removes every response header starting with a configured prefix, all values of it", async () => {
    const { emulator } = await loadModule("proxy-runtime-remove-headers", {
      name: "remove_headers", rootId: "remove_headers", configuration: "x-envoy-,server",
    });
    const s = emulator.newStream();
    s.sendRequestHeaders(request("/", { "x-envoy-original-path": "/kept-on-the-request" }), { endStream: true });
    assert.equal(s.upstream.headers?.get("x-envoy-original-path"), "/kept-on-the-request");
    s.respond({
      status: 200,
      headers: [
        ["server", "envoy"], ["x-envoy-upstream-service-time", "3"], ["x-envoy-decorator", "a"],
        ["x-envoy-decorator", "b"], ["x-keep", "1"], ["content-type", "text/plain"],
      ],
      body: "ok",
    });
    const names = s.downstream.headers!.entries().map(([k]) => k);
    assert.deepEqual(names.sort(), [":status", "content-type", "x-keep"]);
    s.complete();
  });

  it("leaves responses alone without a configuration", async () => {
    const { emulator } = await loadModule("proxy-runtime-remove-headers", { name: "remove_headers", rootId: "remove_headers" });
    const s = emulator.newStream();
    s.sendRequestHeaders(request(), { endStream: true });
    s.respond({ status: 200, headers: { server: "envoy", "x-envoy-upstream-service-time": "1" } });
    assert.equal(s.downstream.headers?.get("server"), "envoy");
    assert.equal(s.downstream.headers?.get("x-envoy-upstream-service-time"), "1");
    s.complete();
  });
});

describe("proxy-runtime-singleton", () => {
  // Envoy runs the singleton as a bootstrap WasmService (singleton: true) in one VM on the main
  // thread, and the HTTP filter in one VM per worker, all with vm_id "my_vm_id": shared data and
  // queues are scoped by vm_id. The emulator has no main thread: the singleton is loaded as its own
  // one-VM plugin (a different vm_configuration gives it its own VM, as the main thread's is its
  // own), and streams only run through the HTTP filter.
  async function setup() {
    const emulator = new Emulator({ clusters: [], logLevel: "info" });
    let fetches = 0;
    emulator.addCluster("auth_service", (call) => {
      if (call.headers.get(":path") !== "/fetch") return { status: 404 };
      fetches++;
      return { status: 200, body: "foo" };
    });
    const wasm = await moduleBytes("proxy-runtime-singleton");
    const singleton = await emulator.loadPlugin({
      wasm, name: "auth_singleton", rootId: "auth_singleton", vmId: "my_vm_id", vmConfiguration: "main thread",
      configuration: "auth_service", concurrency: 1,
    });
    const auth = await emulator.loadPlugin({ wasm, name: "auth", rootId: "auth", vmId: "my_vm_id", concurrency: 2 });
    return { emulator, singleton, auth, fetches: () => fetches };
  }

  it("keeps the token fetched by the singleton and checks x-auth against it on every worker", async () => {
    const { emulator, auth, fetches } = await setup();
    // Before the first fetch nobody gets in, not even a request without x-auth.
    const early = emulator.newStream({ plugins: [auth] });
    early.sendRequestHeaders(request("/early"), { endStream: true });
    assert.equal(early.localReply?.status, 401);
    early.complete();

    // t=1s: the singleton fetches (answered on the next turn), the workers find nothing yet;
    // t=2s: the workers pick the token up from shared data.
    emulator.advance(1000);
    assert.equal(fetches(), 1);
    assert.equal(emulator.sharedData("auth_token", "my_vm_id")?.value.toString(), "foo");
    emulator.advance(1000);

    for (const worker of [0, 1]) {
      const ok = emulator.newStream({ plugins: [auth], worker });
      assert.equal(ok.sendRequestHeaders(request(`/ok${worker}`, { "x-auth": "foo" }), { endStream: true }), FilterHeadersStatus.Continue);
      assert.equal(ok.upstream.headers?.get("x-auth"), "foo");
      ok.respond({ status: 200 });
      ok.complete();

      const bad = emulator.newStream({ plugins: [auth], worker });
      bad.sendRequestHeaders(request(`/bad${worker}`, { "x-auth": "bar" }), { endStream: true });
      assert.equal(bad.localReply?.status, 401);
      assert.equal(bad.localReply?.details, "not_authorized");
      bad.complete();
    }
  });

  it("drains what the workers enqueue in the singleton's onQueueReady, counting and logging it", async () => {
    const { emulator, singleton, auth } = await setup();
    emulator.advance(2000);
    const sent = [
      { worker: 0, path: "/a", token: "foo" },
      { worker: 1, path: "/b", token: "foo" },
      { worker: 1, path: "/c", token: "nope" },
      { worker: 0, path: "/d", token: "" },
    ];
    for (const r of sent) {
      const s = emulator.newStream({ plugins: [auth], worker: r.worker });
      s.sendRequestHeaders(request(r.path, r.token ? { "x-auth": r.token } : {}), { endStream: true });
      if (!s.localReply) s.respond({ status: 200 });
      s.complete();
    }
    emulator.drain();
    // The early request of the previous test is not here: each setup is a fresh process.
    assert.deepEqual(said(emulator, "auth_singleton"), ["allowed /a", "allowed /b", "denied /c", "denied /d"]);
    assert.equal(emulator.counter("auth_singleton_requests_total"), 4n);
    assert.equal(emulator.counter("auth_singleton_denied_total"), 2n);
    assert.deepEqual(emulator.queueItems("auth_requests", "my_vm_id"), [], "the singleton emptied the queue");
    assert.equal(singleton.failed(0), false);
  });

  it("drops reports while no singleton has registered the queue, and never fails", async () => {
    const emulator = new Emulator();
    const auth = await emulator.loadPlugin({
      wasm: await moduleBytes("proxy-runtime-singleton"), name: "auth", rootId: "auth", vmId: "my_vm_id",
    });
    const s = emulator.newStream();
    s.sendRequestHeaders(request("/lonely"), { endStream: true });
    assert.equal(s.localReply?.status, 401);
    s.complete();
    assert.equal(auth.failed(0), false);
    assert.equal(emulator.counter("auth_singleton_requests_total"), undefined);
  });
});
