// Plugin-wide SDK features in the emulator (test/sdk/modules/sdk-state): configuration, shared data
// with CAS and the retrying update helper, shared queues, metrics, time, foreign functions,
// properties and attributes, and logging that asks the host's level at most once per callback
// and sends nothing below it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emulator } from "../../host/emulator/index.js";
import { moduleBytes } from "../support/modules.js";
import { loadModule, said } from "./emulated.js";

const config = { configuration: { greeting: "hi" }, vmConfiguration: "vm-config", name: "state", rootId: "state-root" };

function run(emulator: Emulator, scenario: string, extra: Record<string, string | string[]> = {}, options = {}): void {
  const s = emulator.newStream(options);
  s.sendRequestHeaders({ ":method": "GET", ":path": "/p?q=1", ":authority": "example.com", "x-scenario": scenario, ...extra }, { endStream: true });
  s.respond({ status: 200 });
  s.complete();
}

describe("SDK plugin-wide API (emulator)", () => {
  it("reads VM and plugin configuration, and rejects bad JSON with its position", async () => {
    const { emulator } = await loadModule("sdk-state", config);
    assert.ok(said(emulator, "vm").includes("configuration=vm-config size=9"));
    assert.ok(said(emulator, "config").includes("greeting=hi queue registered=yes"));
    const bad = await loadModule("sdk-state", { ...config, configuration: '{"greeting": "hi",}' }).catch((e: Error) => e);
    assert.ok(bad instanceof Error, "a configuration onConfigure refuses must fail the plugin");
  });

  it("gets and sets shared data with compare-and-swap", async () => {
    const { emulator } = await loadModule("sdk-state", config);
    run(emulator, "shared");
    assert.deepEqual(said(emulator, "shared"), [
      "absent=null NotFound",
      "set Ok",
      "value=v1 cas nonzero=yes",
      "set with stale cas CasMismatch",
      "set with cas Ok",
      "set with old cas CasMismatch",
      "now=v2",
    ]);
    assert.equal(emulator.sharedData("sdk-key")?.value.toString(), "v2");
  });

  it("retries updateSharedData when another worker wins the race, within the attempt limit", async () => {
    const { emulator } = await loadModule("sdk-state", config);
    emulator.setSharedData("sdk-counter", "10");
    emulator.injectCasContention("sdk-counter", "20", { times: 1 });
    run(emulator, "update");
    // First attempt read 10 and lost against the competing write of 20; the second wrote 25.
    assert.deepEqual(said(emulator, "update"), ["Ok attempts=2", "value=25"]);

    emulator.injectCasContention("sdk-counter", "30", { times: 5 });
    run(emulator, "update");
    assert.deepEqual(said(emulator, "update").slice(2), ["CasMismatch attempts=3", "value=30"]);

    emulator.setSharedData("sdk-counter", "99");
    run(emulator, "update");
    assert.deepEqual(said(emulator, "update").slice(4), ["Ok attempts=1", "value=99"], "declining leaves the value");
  });

  it("registers, resolves, enqueues and dequeues shared queues, notifying the root", async () => {
    const { emulator } = await loadModule("sdk-state", config);
    run(emulator, "queue");
    assert.deepEqual(said(emulator, "queue").slice(0, 5), [
      "resolved same token=yes",
      "enqueue Ok",
      "enqueue Ok",
      "unknown queue token=0 NotFound",
      "enqueue to bad token NotFound",
    ]);
    const got = said(emulator, "queue").slice(5);
    assert.deepEqual(got.filter((l) => l.startsWith("got ")), ["got job-1 on my queue: yes", "got job-2 on my queue: yes"]);
    assert.ok(got.includes("then Empty"), got.join("\n"));
    assert.deepEqual(emulator.queueItems("sdk-queue"), []);
  });

  it("defines metrics on first use, with Envoy's wasmcustom names and working get()", async () => {
    const { emulator } = await loadModule("sdk-state", config);
    run(emulator, "metrics");
    assert.deepEqual(said(emulator, "metrics"), [
      "counter=3 id nonzero=yes",
      "counter by 0 BadArgument",
      "gauge=7",
      "tagged name=reporter=.=destination;.;code=.=200;.;sdk_tagged_total",
    ]);
    assert.equal(emulator.counter("wasmcustom.sdk_requests"), 3n);
    assert.equal(emulator.gauge("sdk_in_flight"), 7n);
    assert.equal(emulator.histogram("sdk_sizes")?.count, 2);
    assert.equal(emulator.histogram("sdk_sizes")?.sum, 49);
    assert.equal(emulator.counter("reporter=.=destination;.;code=.=200;.;sdk_tagged_total"), 1n);
    run(emulator, "metrics");
    assert.equal(emulator.counter("sdk_requests"), 6n, "the cached id keeps counting the same stat");
  });

  it("reads wall-clock and monotonic time from the host", async () => {
    const { emulator } = await loadModule("sdk-state", config);
    run(emulator, "time");
    const [line] = said(emulator, "time");
    assert.equal(line, `wall=${emulator.clock.systemTimeNs()} mono=${emulator.clock.monotonicTimeNs()}`);
  });

  it("calls foreign functions and receives calls from the host", async () => {
    const emulator = new Emulator();
    emulator.registerForeignFunction("sdk_echo", (args) => Buffer.concat([Buffer.from("echo:"), args]));
    const plugin = await emulator.loadPlugin({ wasm: await moduleBytes("sdk-state"), ...config });
    run(emulator, "foreign");
    assert.deepEqual(said(emulator, "foreign"), ["echo=echo:ping", "unknown=null NotFound", "clear_route_cache Ok"]);
    plugin.callOnForeignFunction(7, Buffer.from("from host"));
    assert.ok(said(emulator, "foreign-in").includes("id=7 size=9 args=from host"), said(emulator, "foreign-in").join("\n"));
  });

  it("reads properties and well-known attributes, and writes filter state", async () => {
    const { emulator } = await loadModule("sdk-state", config, { node: { id: "node-1", metadata: { NAMESPACE: "ns" } } });
    const s = emulator.newStream({ streamInfo: { routeName: "route-a", listenerDirection: 1 }, connection: { source: { ip: "10.1.2.3", port: 4567 }, destination: { ip: "10.9.9.9", port: 8080 } } });
    s.sendRequestHeaders({ ":method": "POST", ":path": "/p?q=1", ":authority": "example.com", "x-scenario": "properties", "x-multi": ["a", "b"] }, { endStream: true });
    s.respond({ status: 200 });
    const state = s.filterState("wasm.sdk_note");
    assert.equal(Buffer.from(state!.bytes).toString(), "noted");
    assert.equal(state!.type, "bytes");
    s.complete();
    assert.deepEqual(said(emulator, "properties"), [
      "path=/p?q=1 method=POST",
      "source=10.1.2.3:4567 destination port=8080",
      "plugin=state root id=state-root",
      "connection id nonzero=yes",
      "mtls=false",
      "request.headers x-multi=a,b",
      `request.time ns=${emulator.clock.systemTimeNs()}`,
      `request.time or=${emulator.clock.systemTimeNs()} Ok`,
      "missing int or=-7 NotFound",
      "path as int or=9 SerializationFailure",
      "mtls or=false Ok",
      "traffic direction=1",
      "route bytes=route-a",
      'node id=node-1 metadata={"NAMESPACE":"ns"}',
      "route=route-a",
      "missing=null NotFound",
      "set Ok",
      "read back=noted",
      "greeting from root=hi",
    ]);
  });

  it("falls back to the legacy attribute names of Envoy < 1.33", async () => {
    const { emulator } = await loadModule("sdk-state", config, { legacyProperties: true, node: { id: "old-node" } });
    run(emulator, "properties", {}, { streamInfo: { routeName: "legacy-route", listenerDirection: 2 } });
    const seen = said(emulator, "properties");
    assert.ok(seen.includes("route=legacy-route"), seen.join("\n"));
    assert.ok(seen.includes("route bytes=legacy-route"), seen.join("\n"));
    assert.ok(seen.includes("traffic direction=2"), seen.join("\n"));
    assert.ok(seen.some((l) => l.startsWith("node id=old-node")), seen.join("\n"));
  });

  it("sends nothing below the host's log level and asks for the level at most once per callback", async () => {
    const { emulator } = await loadModule("sdk-state", config, { logLevel: "info" });
    // Count the host's proxy_get_log_level (a level lookup outside of logging) and proxy_log calls.
    let levelQueries = 0;
    let sent = 0;
    let logging = false;
    const level = emulator.log.level.bind(emulator.log);
    const log = emulator.log.log.bind(emulator.log);
    emulator.log.level = (component: string) => {
      if (component === "wasm" && !logging) levelQueries++;
      return level(component);
    };
    emulator.log.log = (component, lvl, message) => {
      if (component === "wasm") sent++;
      logging = true;
      try {
        log(component, lvl, message);
      } finally {
        logging = false;
      }
    };
    run(emulator, "log");
    // One callback logs four times: one level query; trace and debug never reach the host.
    assert.equal(levelQueries, 1);
    assert.equal(sent, 2);
    assert.deepEqual(said(emulator, "log"), ["info message"]);
    assert.deepEqual(said(emulator, "log", "warning"), ["debug enabled=no warn enabled=yes"]);

    emulator.log.setLevel("wasm", "trace");
    run(emulator, "log");
    assert.deepEqual(said(emulator, "log", "trace"), ["trace message"]);
    assert.deepEqual(said(emulator, "log", "debug"), ["debug message"]);
    assert.deepEqual(said(emulator, "log"), ["info message", "info message"]);
    assert.equal(levelQueries, 2);
  });
});
