// Metrics (proxy-wasm-abi.md §2.9) and logging/time/ticks (§2.2): Envoy's metric ids and
// `wasmcustom.` names, counter/gauge/histogram rules, log levels and prefixes, the virtual clock
// behind proxy_get_current_time_nanoseconds, and tick timers per root context.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emulator } from "../../host/emulator/index.js";
import { defaultHistogramBuckets } from "../../host/stats/store.js";
import { WasmResult } from "../../host/wasm/types.js";
import { loadProbe, probe, requestHeaders, res } from "./wat-kit.js";

const store = (i: number, call: string) => `(i32.store (i32.const ${res(i)}) ${call})`;
const id = (slot: number) => `(i32.load (i32.const ${res(slot)}))`;
const metricImports = ["proxy_define_metric", "proxy_increment_metric", "proxy_record_metric", "proxy_get_metric"];

describe("metrics", () => {
  it("defines metrics with Envoy's ids and names, and applies each operation's rules", async () => {
    const { emu, plugin } = await loadProbe({
      imports: metricImports,
      strings: { c: "requests_total", c2: "other_total", g: "in_flight", h: "latency_ms" },
      callbacks: {
        proxy_on_configure: [
          store(0, `(call $proxy_define_metric (i32.const 0) $S(c) (i32.const ${res(20)}))`),
          store(1, `(call $proxy_define_metric (i32.const 0) $S(c2) (i32.const ${res(21)}))`),
          store(2, `(call $proxy_define_metric (i32.const 1) $S(g) (i32.const ${res(22)}))`),
          store(3, `(call $proxy_define_metric (i32.const 2) $S(h) (i32.const ${res(23)}))`),
          store(4, `(call $proxy_define_metric (i32.const 3) $S(c) (i32.const ${res(24)}))`),
          store(5, `(call $proxy_define_metric (i32.const 0) $S(c) (i32.const ${res(25)}))`),
          "(i32.const 1)",
        ].join("\n"),
        proxy_on_request_headers: [
          store(6, `(call $proxy_increment_metric ${id(20)} (i64.const 1))`),
          store(7, `(call $proxy_increment_metric ${id(20)} (i64.const 0))`),
          store(8, `(call $proxy_increment_metric ${id(20)} (i64.const -1))`),
          store(9, `(call $proxy_increment_metric ${id(22)} (i64.const 5))`),
          store(10, `(call $proxy_increment_metric ${id(22)} (i64.const -2))`),
          store(11, `(call $proxy_increment_metric ${id(23)} (i64.const 1))`),
          store(12, "(call $proxy_increment_metric (i32.const 100) (i64.const 1))"),
          store(13, `(call $proxy_record_metric ${id(25)} (i64.const 10))`),
          store(14, `(call $proxy_record_metric ${id(23)} (i64.const 42))`),
          store(15, "(call $proxy_record_metric (i32.const 101) (i64.const 1))"),
          store(16, `(call $proxy_get_metric ${id(20)} (i32.const ${res(40)}))`),
          store(17, `(call $proxy_get_metric ${id(22)} (i32.const ${res(42)}))`),
          store(18, `(call $proxy_get_metric ${id(23)} (i32.const ${res(44)}))`),
          store(19, `(call $proxy_get_metric (i32.const 104) (i32.const ${res(44)}))`),
          store(26, `(call $proxy_record_metric ${id(21)} (i64.const 0x100000000))`),
          store(27, `(call $proxy_record_metric ${id(22)} (i64.const 7))`),
          "(i32.const 0)",
        ].join("\n"),
      },
    });
    const st = (i: number) => plugin.readU32(res(i));
    assert.deepEqual([st(20), st(21), st(22), st(23)], [4, 8, 5, 6], "type in the low 2 bits, step 4");
    assert.equal(st(4), WasmResult.BadArgument);
    assert.equal(st(25), 12, "defining a name again gives a new id for the same stat");
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(st(6), WasmResult.Ok);
    assert.equal(st(7), WasmResult.BadArgument, "counters need offset > 0");
    assert.equal(st(8), WasmResult.BadArgument);
    assert.equal(st(9), WasmResult.Ok);
    assert.equal(st(10), WasmResult.Ok, "gauges subtract negative offsets");
    assert.equal(st(11), WasmResult.BadArgument, "histograms cannot be incremented");
    assert.equal(st(12), WasmResult.NotFound);
    assert.equal(st(13), WasmResult.Ok);
    assert.equal(st(14), WasmResult.Ok);
    assert.equal(st(15), WasmResult.NotFound);
    assert.equal(st(16), WasmResult.Ok);
    assert.equal(plugin.readMemory(res(40), 8).readBigUInt64LE(), 11n, "1 + recorded 10 through the second id");
    assert.equal(st(17), WasmResult.Ok);
    assert.equal(plugin.readMemory(res(42), 8).readBigUInt64LE(), 3n);
    assert.equal(st(18), WasmResult.BadArgument);
    assert.equal(st(19), WasmResult.NotFound);
    assert.equal(emu.stats.findCounter("wasmcustom.requests_total")?.value, 11n);
    assert.equal(emu.counter("other_total"), 0x100000000n, "64-bit values pass through");
    assert.equal(emu.gauge("in_flight"), 7n, "record sets a gauge");
    const h = emu.histogram("latency_ms")!;
    assert.equal(h.count, 1);
    assert.equal(h.sum, 42);
    assert.deepEqual(h.bounds, defaultHistogramBuckets);
    assert.equal(h.cumulativeBuckets().find((b) => b.upperBound === 50)?.count, 1);
    assert.equal(h.cumulativeBuckets().find((b) => b.upperBound === 25)?.count, 0);
  });

  it("counts VMs in wasm.envoy.wasm.runtime.v8.created/active", async () => {
    const emu = new Emulator();
    const p = await emu.loadPlugin({ wasm: await probe({}), concurrency: 2 });
    // base + canary + 2 workers created; the canary is gone.
    assert.equal(emu.counter("wasm.envoy.wasm.runtime.v8.created"), 4n);
    assert.equal(emu.gauge("wasm.envoy.wasm.runtime.v8.active"), 3n);
    await p.shutdown();
    assert.equal(emu.gauge("wasm.envoy.wasm.runtime.v8.active"), 0n);
  });
});

describe("logging", () => {
  const logProbe = {
    imports: ["proxy_log", "proxy_get_log_level"],
    strings: { msg: "héllo" },
    callbacks: {
      proxy_on_request_headers: [
        ...[0, 1, 2, 3, 4, 5].map((l) => `(drop (call $proxy_log (i32.const ${l}) $S(msg)))`),
        store(0, "(call $proxy_log (i32.const 6) $S(msg))"),
        store(1, "(call $proxy_log (i32.const 2) (i32.const 0x7ffffff0) (i32.const 10))"),
        store(2, `(call $proxy_get_log_level (i32.const ${res(3)}))`),
        "(i32.const 0)",
      ].join("\n"),
    },
    // Envoy logs the bytes as they are; the probe's string is latin1 here, so compare bytes.
  };

  it("logs at Envoy's levels with the plugin prefix, filtered by the wasm logger level", async () => {
    const emu = new Emulator({ logLevel: "warning" });
    const { plugin } = await loadProbe(logProbe, { name: "pl", rootId: "root", vmId: "vm" }, emu);
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    const text = Buffer.from("héllo", "latin1").toString("utf8");
    assert.deepEqual(
      emu.log.entries.filter((e) => e.component === "wasm").map((e) => [e.level, e.message]),
      [
        ["warning", `wasm log pl root vm: ${text}`],
        ["error", `wasm log pl root vm: ${text}`],
        ["critical", `wasm log pl root vm: ${text}`],
      ],
    );
    assert.equal(plugin.readU32(res(0)), WasmResult.BadArgument, "level > 5");
    assert.equal(plugin.readU32(res(1)), WasmResult.InvalidMemoryAccess);
    assert.equal(plugin.readU32(res(2)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(3)), 3, "spdlog warn = 3");
  });

  it("prefixes root-context logs with root_id and vm_id only (cpp-host makeRootLogPrefix)", async () => {
    const emu = new Emulator();
    await loadProbe(
      { imports: ["proxy_log"], strings: { m: "configured" }, callbacks: { proxy_on_configure: "(drop (call $proxy_log (i32.const 2) $S(m))) (i32.const 1)" } },
      { name: "pl", rootId: "root", vmId: "vm", concurrency: 1 },
      emu,
    );
    assert.deepEqual(emu.logs("info"), ["wasm log root vm: configured", "wasm log root vm: configured"], "canary and worker");
  });

  it("reports 6 when the wasm logger is off, and leaves out empty prefix parts", async () => {
    const emu = new Emulator({ logLevel: "off" });
    const { plugin } = await loadProbe(logProbe, { name: "", rootId: "", vmId: "" }, emu);
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(plugin.readU32(res(3)), 6);
    assert.deepEqual(emu.logs(), []);
    emu.log.setLevel("wasm", "trace");
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    assert.ok(emu.logs("trace")[0]!.startsWith("wasm log: "));
  });
});

describe("time and ticks", () => {
  it("reads the virtual wall clock in ns", async () => {
    const { emu, plugin } = await loadProbe({
      imports: ["proxy_get_current_time_nanoseconds"],
      callbacks: { proxy_on_request_headers: `${store(0, `(call $proxy_get_current_time_nanoseconds (i32.const ${res(2)}))`)} (i32.const 0)` },
    });
    emu.advance(1500);
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(plugin.readMemory(res(2), 8).readBigUInt64LE(), emu.clock.systemTimeNs());
    assert.equal(emu.clock.systemTimeNs(), 1_704_067_200_000_000_000n + 1_500_000_000n);
  });

  it("ticks each root context on its own period, re-armed after each tick, 0 disables", async () => {
    const tickProbe = await probe({
      imports: ["proxy_set_tick_period_milliseconds", "proxy_get_current_time_nanoseconds"],
      callbacks: {
        proxy_on_configure: "(drop (call $proxy_set_tick_period_milliseconds (i32.const 100))) (i32.const 1)",
        proxy_on_tick: [
          `(i32.store (i32.const ${res(0)}) (i32.add (i32.load (i32.const ${res(0)})) (i32.const 1)))`,
          `(i32.store (i32.const ${res(1)}) (local.get 0))`,
          `(if (i32.eq (i32.load (i32.const ${res(0)})) (i32.const 3)) (then (drop (call $proxy_set_tick_period_milliseconds (i32.const 0)))))`,
        ].join("\n"),
      },
    });
    const emu = new Emulator();
    const a = await emu.loadPlugin({ wasm: tickProbe, name: "a", concurrency: 2 });
    emu.advance(99);
    assert.equal(a.readU32(res(0)), 0, "first tick after one period");
    emu.advance(1);
    assert.equal(a.readU32(res(0), 0), 1);
    assert.equal(a.readU32(res(0), 1), 1, "every worker's root context ticks");
    assert.equal(a.readU32(res(1)), a.rootContextId());
    assert.equal(a.tickPeriodMs(), 100);
    emu.advance(1000);
    assert.equal(a.readU32(res(0)), 3, "stopped after setting the period to 0");
    assert.equal(a.tickPeriodMs(), 0);
  });
});
