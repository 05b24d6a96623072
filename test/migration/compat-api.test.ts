// The proxy-runtime compatibility layer's own behaviour, through a test module
// (test/migration/modules/proxy-runtime-probe) in the emulator: proxy-runtime's known bugs are
// fixed (absent vs empty headers, get_metric, aborting on a host status), statuses reach Envoy
// unchanged, and the callout bookkeeping neither calls back dead streams nor leaks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FilterDataStatus, WasmLoadError, type Emulator, type EmulatedPlugin } from "../../host/emulator/index.js";
import { loadModule, request, said } from "./support.js";

const load = (configuration = "cfg"): Promise<{ emulator: Emulator; plugin: EmulatedPlugin }> =>
  loadModule("proxy-runtime-probe", { name: "probe", rootId: "probe", configuration }, {
    clusters: ["backend"], logLevel: "debug",
  });

/** Runs one scenario to completion; returns what the probe said about it. */
function run(emulator: Emulator, scenario: string, extra: Record<string, string> = {}): string[] {
  const before = said(emulator, "probe").length;
  const s = emulator.newStream();
  s.sendRequestHeaders(request("/p?q=1", { "x-probe": scenario, ...extra }), { endStream: true });
  if (!s.localReply) s.respond({ status: 200 });
  s.complete();
  return said(emulator, "probe").slice(before);
}

describe("proxy-runtime compatibility layer", () => {
  it("reads the configuration in onConfigure (canary and each worker) and reports the log level", async () => {
    const { emulator } = await load();
    assert.deepEqual(said(emulator, "probe"), Array(3).fill('configured "cfg" level 1'));
  });

  it("serves a root_id without a registration of its own with the one registered under \"\"", async () => {
    const { emulator } = await loadModule("proxy-runtime-probe", { name: "other", rootId: "other" });
    assert.deepEqual(said(emulator, "probe"), Array(3).fill("fallback root for other"));
  });

  it("rejects the configuration when onConfigure returns false", async () => {
    await assert.rejects(load("reject"), WasmLoadError);
  });

  it("tells an absent header from an empty one, while get keeps returning \"\" for both", async () => {
    const { emulator } = await load();
    const s = emulator.newStream();
    const headers = request("/p?q=1", { "x-probe": "headers", "x-empty": "", "x-removed": "r", "x-replaced": "old" });
    const byteSize = Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
    s.sendRequestHeaders(headers, { endStream: true });
    assert.deepEqual(said(emulator, "probe").slice(3), [
      'absent get="" or_null=null has=false',
      'empty get="" or_null="" has=true',
      "raw absent null legacy length 0",
      `byte size ${byteSize}`,
    ]);
    const up = s.upstream.headers!;
    assert.equal(up.get("x-replaced"), "yes");
    assert.equal(up.has("x-removed"), false);
    assert.equal(up.get("x-added"), "1");
    s.respond({ status: 200 });
    s.complete();
  });

  it("returns (and logs) a host status where proxy-runtime aborted the VM", async () => {
    const { emulator, plugin } = await load();
    assert.deepEqual(run(emulator, "host-status"), [
      "replace response header in request phase: 2",
      "remove response header bytes in request phase: 2",
      "foreign function result length 0",
      "property absent length 0 or_null null",
      "property path /p?q=1",
      "set_property 0",
    ]);
    assert.deepEqual(said(emulator, "proxy-runtime", "warning"), [
      'replace "x-too-early" in response headers failed: BadArgument',
      'remove "x-bytes" in response headers failed: BadArgument',
      "call_foreign_function no_such_function failed: NotFound",
    ]);
    assert.equal(plugin.failed(0), false);
  });

  it("writes filter state with set_property", async () => {
    const { emulator } = await load();
    const s = emulator.newStream();
    s.sendRequestHeaders(request("/", { "x-probe": "host-status" }), { endStream: true });
    assert.equal(Buffer.from(s.filterState("wasm.probe_state")!.bytes).toString(), "v1");
    s.respond({ status: 200 });
    s.complete();
  });

  it("reads metrics with proxy_get_metric (proxy-runtime's get_metric set the gauge instead)", async () => {
    const { emulator } = await load();
    assert.deepEqual(run(emulator, "metrics"), [
      "counter 0 3 get 3",
      "gauge 0 5 get 5",
      "histogram get_metric 2",
      "define_metric 0 id set",
    ]);
    // Defined in top-level code: the definition waited for the first use (a host call during
    // _initialize traps in Envoy), and reading did not change anything.
    assert.equal(emulator.counter("probe_requests_total"), 3n);
    assert.equal(emulator.gauge("probe_inflight"), 5n);
    assert.equal(emulator.histogram("probe_sizes")?.count, 1);
    assert.equal(emulator.histogram("probe_sizes")?.sum, 42);
  });

  it("gives shared data and queue results as proxy-runtime's result objects, CAS included", async () => {
    const { emulator } = await load();
    assert.deepEqual(run(emulator, "shared"), [
      "missing 1 null",
      "set 0",
      "stale cas 8",
      "fresh cas 0",
      "now two",
      "resolve missing queue 1 token 0",
    ]);
    assert.equal(emulator.sharedData("probe_key")?.value.toString(), "two");
  });

  it("sends a local reply with header bytes exactly as given", async () => {
    const { emulator } = await load();
    const s = emulator.newStream();
    s.sendRequestHeaders(request("/", { "x-probe": "local-reply" }), { endStream: true });
    assert.deepEqual(s.localReply, {
      status: 418, body: "teapot\n", headers: [["x-reason", "probe"], ["x-latin", "caf\xe9"]], grpcStatus: null,
      details: "probe_says_no",
    });
    assert.equal(s.downstream.headers?.get(":status"), "418");
    s.complete();
  });

  it("passes statuses to Envoy unchanged: ContinueAndEndStream continues, StopIterationNoBuffer does not buffer", async () => {
    const { emulator } = await load();
    const cont = emulator.newStream();
    cont.sendRequestHeaders(request("/", { "x-probe": "continue-and-end-stream" }), { endStream: true });
    assert.equal(cont.upstream.headers?.get("x-probe"), "continue-and-end-stream");
    cont.respond({ status: 200 });
    cont.complete();

    const s = emulator.newStream();
    s.sendRequestHeaders(request("/", { "x-probe": "no-buffer" }), { endStream: false });
    assert.equal(s.sendRequestBody("abc", { endStream: false }), FilterDataStatus.StopIterationNoBuffer);
    assert.deepEqual(said(emulator, "probe").slice(-1), ["body status 0 length 3 flags 0"]);
    assert.equal(s.sendRequestBody("def", { endStream: true }), FilterDataStatus.Continue);
    // Envoy did not keep the first chunk (the filter said it would): only the last one went on.
    // Folded into the SDK's Pause (StopIterationAndBuffer), all of it would have arrived.
    assert.equal(s.upstream.body.toString(), "def");
    s.respond({ status: 200 });
    s.complete();
  });

  it("calls back the stream that made a callout, which reads get_status and resumes itself", async () => {
    const { emulator } = await load();
    const s = emulator.newStream();
    s.sendRequestHeaders(request("/", { "x-probe": "callout-status" }), { endStream: true });
    assert.equal(s.upstream.headers === null, true);
    emulator.failHttpCall(emulator.pendingHttpCalls()[0]!);
    assert.deepEqual(said(emulator, "probe").slice(3), ["pending 1", "callout headers=0 status 0 11 reset pending 0"]);
    assert.equal(s.upstream.headers?.get("x-probe"), "callout-status", "continueRequest resumed this stream");
    s.respond({ status: 200 });
    s.complete();
  });

  it("forgets the callouts of a stream that ended first and never calls them back", async () => {
    const { emulator, plugin } = await load();
    assert.deepEqual(run(emulator, "stream-gone"), ["pending 1", "deleted, pending 1"]);
    emulator.respondHttpCall(emulator.pendingHttpCalls()[0]!, { status: 200 });
    // The next callout is the only one pending: the dead stream's entry was dropped with it.
    assert.deepEqual(run(emulator, "root-callout"), ["root callout 0 pending 1"]);
    assert.equal(said(emulator, "probe").includes("stream-gone callback ran"), false);
    assert.equal(plugin.failed(0), false);
  });

  it("calls a root's pending callbacks with no response when the plugin shuts down, as proxy-runtime did", async () => {
    const { emulator } = await load();
    run(emulator, "root-callout");
    assert.equal(said(emulator, "probe").some((m) => m.startsWith("root callback")), false);
    await emulator.shutdown();
    assert.deepEqual(said(emulator, "probe").filter((m) => m.startsWith("root callback")), ["root callback headers=0 origin=root"]);
  });
});
