// Foreign functions (proxy-wasm-abi.md §2.10, §7.4), capability restrictions (§2.1), the WASI
// subset (§2.12) and the other env helpers (§2.11).
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { deflateSync } from "node:zlib";
import { describe, it } from "node:test";
import { Emulator } from "../../host/emulator/index.js";
import { WasmResult } from "../../host/wasm/types.js";
import { ALLOC_COUNT, loadProbe, readOut, requestHeaders, res } from "./wat-kit.js";

const store = (i: number, call: string) => `(i32.store (i32.const ${res(i)}) ${call})`;
const ff = (name: string, args: string, out: number | "none") =>
  `(call $proxy_call_foreign_function $S(${name}) $S(${args}) ${out === "none" ? "(i32.const 0) (i32.const 0)" : `(i32.const ${res(out)}) (i32.const ${res(out + 1)})`})`;

describe("foreign functions", () => {
  it("runs Envoy's compress/uncompress, reports unknown names and failures", async () => {
    const text = "hello hello hello hello";
    const { emu, plugin } = await loadProbe({
      imports: ["proxy_call_foreign_function"],
      strings: { compress: "compress", uncompress: "uncompress", nope: "expr_create", text, garbage: "not zlib", noargs: "" },
      callbacks: {
        proxy_on_request_headers: [
          store(0, ff("compress", "text", 10)),
          store(1, ff("nope", "text", 12)),
          store(2, ff("uncompress", "garbage", 12)),
          store(3, `(i32.load (i32.const ${ALLOC_COUNT}))`),
          store(4, ff("compress", "text", "none")),
          store(5, `(i32.load (i32.const ${ALLOC_COUNT}))`),
          "(i32.const 0)",
        ].join("\n"),
      },
    });
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.deepEqual(readOut(plugin, res(10), res(11)), deflateSync(Buffer.from(text)), "zlib compress() output");
    assert.equal(plugin.readU32(res(1)), WasmResult.NotFound, "CEL functions are not built in");
    assert.equal(plugin.readU32(res(2)), WasmResult.SerializationFailure);
    assert.equal(plugin.readU32(res(4)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(5)), plugin.readU32(res(3)), "a zero result pointer allocates nothing");
  });

  it("round-trips uncompress, clears the route cache, and sets Envoy filter state through factories", async () => {
    const compressed = deflateSync(Buffer.from("original"));
    const setState = (path: string, value: string) => {
      const p = Buffer.from(path);
      const v = Buffer.from(value);
      return Buffer.concat([Buffer.from([0x0a, p.length]), p, Buffer.from([0x12, v.length]), v]);
    };
    const { emu, plugin } = await loadProbe({
      imports: ["proxy_call_foreign_function"],
      strings: {
        uncompress: "uncompress",
        crc: "clear_route_cache",
        sefs: "set_envoy_filter_state",
        data: compressed,
        none: "",
        known: setState("envoy.tcp_proxy.cluster", "backend"),
        unknown: setState("my.unregistered.key", "x"),
      },
      callbacks: {
        proxy_on_request_headers: [
          store(0, ff("uncompress", "data", 10)),
          store(1, ff("crc", "none", "none")),
          store(2, ff("sefs", "known", "none")),
          store(3, ff("sefs", "unknown", "none")),
          "(i32.const 0)",
        ].join("\n"),
      },
    });
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(readOut(plugin, res(10), res(11)).toString(), "original");
    assert.equal(plugin.readU32(res(1)), WasmResult.Ok);
    assert.equal(s.routeCacheClears, 1);
    assert.equal(plugin.readU32(res(2)), WasmResult.Ok);
    assert.equal(Buffer.from(s.filterState("envoy.tcp_proxy.cluster")!.bytes).toString(), "backend");
    assert.equal(plugin.readU32(res(3)), WasmResult.NotFound);
  });

  it("calls embedder-registered functions and delivers proxy_on_foreign_function with buffer 8", async () => {
    const emu = new Emulator();
    emu.registerForeignFunction("reverse", (args) => Buffer.from(args).reverse());
    const { plugin } = await loadProbe(
      {
        imports: ["proxy_call_foreign_function", "proxy_get_buffer_bytes"],
        strings: { reverse: "reverse", args: "abc" },
        callbacks: {
          proxy_on_configure: `${store(0, ff("reverse", "args", 10))} (i32.const 1)`,
          proxy_on_foreign_function: [
            `(i32.store (i32.const ${res(1)}) (local.get 1))`,
            `(i32.store (i32.const ${res(2)}) (local.get 2))`,
            store(3, `(call $proxy_get_buffer_bytes (i32.const 8) (i32.const 0) (i32.const 100) (i32.const ${res(12)}) (i32.const ${res(13)}))`),
          ].join("\n"),
        },
      },
      { concurrency: 1 },
      emu,
    );
    assert.equal(readOut(plugin, res(10), res(11)).toString(), "cba");
    plugin.callOnForeignFunction(7, Buffer.from("payload"));
    assert.equal(plugin.readU32(res(1)), 7);
    assert.equal(plugin.readU32(res(2)), 7);
    assert.equal(readOut(plugin, res(12), res(13)).toString(), "payload");
  });

  it("ABI 0.1.0: proxy_clear_route_cache and proxy_continue_response", async () => {
    const { emu } = await loadProbe({
      abi: "0.1.0",
      imports: ["proxy_clear_route_cache", "proxy_continue_response", "proxy_set_effective_context", "proxy_set_tick_period_milliseconds"],
      callbacks: {
        proxy_on_configure: "(drop (call $proxy_set_tick_period_milliseconds (i32.const 5))) (i32.const 1)",
        proxy_on_context_create: `(if (local.get 1) (then (i32.store (i32.const ${res(50)}) (local.get 0))))`,
        proxy_on_request_headers: "(drop (call $proxy_clear_route_cache)) (i32.const 0)",
        proxy_on_response_headers: "(i32.const 1)",
        proxy_on_tick: `(drop (call $proxy_set_effective_context (i32.load (i32.const ${res(50)})))) (drop (call $proxy_continue_response))`,
      },
    }, { concurrency: 1 });
    const s = emu.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(s.routeCacheClears, 1);
    s.respond({ status: 200 });
    assert.equal(s.downstream.headers === null, true);
    emu.advance(5);
    assert.equal(s.downstream.headers?.get(":status"), "200");
  });
});

describe("capability restrictions (§2.1)", () => {
  it("replaces disallowed host functions with Envoy's stubs", async () => {
    const { emu, plugin } = await loadProbe(
      {
        imports: ["proxy_log", "proxy_get_property"],
        wasi: ["fd_write"],
        strings: { p: "plugin_name", m: "allowed" },
        callbacks: {
          proxy_on_configure: [
            store(0, "(call $proxy_log (i32.const 2) $S(m))"),
            store(1, `(call $proxy_get_property $S(p) (i32.const ${res(10)}) (i32.const ${res(11)}))`),
            store(2, `(call $fd_write (i32.const 1) (i32.const 0) (i32.const 0) (i32.const ${res(12)}))`),
            "(i32.const 1)",
          ].join("\n"),
        },
      },
      { allowedCapabilities: ["proxy_log", "proxy_on_configure"], concurrency: 1 },
    );
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(1)), WasmResult.InternalFailure);
    assert.equal(plugin.readU32(res(2)), 76, "WASI stubs answer ENOTCAPABLE");
    assert.ok(emu.logs("error").includes("Attempted call to restricted proxy-wasm capability: proxy_get_property"));
    assert.ok(emu.logs("error").includes("Attempted call to restricted WASI capability: fd_write"));
    // Callbacks outside the allowed capabilities are not looked up either.
    const { emu: emu2, plugin: p2 } = await loadProbe(
      { callbacks: { proxy_on_request_headers: `(i32.store (i32.const ${res(0)}) (i32.const 1)) (i32.const 1)` } },
      { allowedCapabilities: ["proxy_log"], concurrency: 1 },
    );
    const s = emu2.newStream();
    s.sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(p2.readU32(res(0)), 0);
    assert.ok(s.upstream.headers, "the filter continued without calling the module");
  });
});

describe("WASI subset (§2.12) and env helpers (§2.11)", () => {
  // iovec at 3000: two buffers "line one" and "\n".
  const iov = `(i32.store (i32.const 3000) (i32.const 64)) (i32.store (i32.const 3004) (i32.const 8))
    (i32.store (i32.const 3008) (i32.const 80)) (i32.store (i32.const 3012) (i32.const 1))`;
  const wasi = ["fd_write", "fd_read", "fd_seek", "fd_close", "fd_fdstat_get", "fd_prestat_get", "environ_sizes_get", "environ_get", "args_sizes_get", "clock_time_get", "clock_res_get", "random_get", "proc_exit", "sched_yield", "poll_oneoff", "path_open"];

  it("implements the host's WASI functions", async () => {
    const emu = new Emulator({ logLevel: "trace" });
    const { plugin } = await loadProbe(
      {
        imports: ["pthread_equal", "emscripten_notify_memory_growth"],
        wasi,
        strings: { text: "line one", nl: "\n", path: "file" },
        callbacks: {
          proxy_on_request_headers: [
            iov,
            store(0, `(call $fd_write (i32.const 1) (i32.const 3000) (i32.const 2) (i32.const ${res(20)}))`),
            store(1, `(call $fd_write (i32.const 2) (i32.const 3000) (i32.const 1) (i32.const ${res(21)}))`),
            store(2, `(call $fd_write (i32.const 3) (i32.const 3000) (i32.const 1) (i32.const ${res(21)}))`),
            store(3, `(call $fd_write (i32.const 1) (i32.const 0x7ffffff0) (i32.const 1) (i32.const ${res(21)}))`),
            store(4, `(call $fd_read (i32.const 0) (i32.const 3000) (i32.const 1) (i32.const ${res(21)}))`),
            store(5, `(call $fd_seek (i32.const 1) (i64.const 0) (i32.const 0) (i32.const ${res(21)}))`),
            store(6, "(call $fd_close (i32.const 1))"),
            store(7, "(call $fd_fdstat_get (i32.const 1) (i32.const 3100))"),
            store(8, "(call $fd_fdstat_get (i32.const 5) (i32.const 3100))"),
            store(9, "(call $fd_prestat_get (i32.const 3) (i32.const 3200))"),
            store(10, `(call $environ_sizes_get (i32.const ${res(22)}) (i32.const ${res(23)}))`),
            store(11, "(call $environ_get (i32.const 3300) (i32.const 3400))"),
            store(12, `(call $args_sizes_get (i32.const ${res(24)}) (i32.const ${res(25)}))`),
            store(13, "(call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 3500))"),
            store(14, "(call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 3508))"),
            store(15, "(call $clock_time_get (i32.const 2) (i64.const 1) (i32.const 3516))"),
            store(16, "(call $clock_res_get (i32.const 1) (i32.const 3524))"),
            store(17, "(call $random_get (i32.const 3600) (i32.const 32))"),
            store(18, "(call $random_get (i32.const 3600) (i32.const 65537))"),
            "(call $proc_exit (i32.const 3))",
            store(19, "(i32.const 1234)"),
            store(26, "(call $sched_yield)"),
            store(27, `(call $poll_oneoff (i32.const 0) (i32.const 0) (i32.const 1) (i32.const ${res(28)}))`),
            store(29, `(call $path_open (i32.const 3) (i32.const 0) $S(path) (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const ${res(30)}))`),
            store(31, "(call $pthread_equal (i32.const 4) (i32.const 4))"),
            store(32, "(call $pthread_equal (i32.const 4) (i32.const 5))"),
            "(call $emscripten_notify_memory_growth (i32.const 0))",
            "(i32.const 0)",
          ].join("\n"),
        },
      },
      { environment: { A: "1", LONGER: "value" }, concurrency: 1, name: "w" },
      emu,
    );
    emu.advance(42);
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    const st = (i: number) => plugin.readU32(res(i));
    assert.equal(st(0), 0);
    assert.equal(st(20), 9, "bytes written, newline included");
    assert.ok(emu.logs("info").includes("wasm log w probe_root probe_vm: line one"), "stdout → info, one trailing newline stripped");
    assert.equal(st(1), 0);
    assert.ok(emu.logs("error").includes("wasm log w probe_root probe_vm: line one"), "stderr → error");
    assert.equal(st(2), 8, "EBADF");
    assert.equal(st(3), 21, "EFAULT");
    assert.equal(st(4), 52, "ENOSYS");
    assert.equal(st(5), 0);
    assert.equal(st(6), 0);
    assert.ok(emu.logs("trace").includes("wasi_unstable fd_seek"));
    assert.equal(st(7), 0);
    assert.equal(plugin.readMemory(3108, 8).readBigUInt64LE(), 64n, "fs_rights_base = FD_WRITE");
    assert.equal(st(8), 8);
    assert.equal(st(9), 8, "no preopens");
    assert.equal(st(10), 0);
    assert.deepEqual([plugin.readU32(res(22)), plugin.readU32(res(23))], [2, "A=1\0LONGER=value\0".length]);
    assert.equal(st(11), 0);
    assert.equal(plugin.readMemory(plugin.readU32(3300), 4).toString(), "A=1\0");
    assert.equal(plugin.readMemory(plugin.readU32(3304), 13).toString(), "LONGER=value\0");
    assert.equal(st(12), 0);
    assert.deepEqual([plugin.readU32(res(24)), plugin.readU32(res(25))], [0, 0]);
    assert.equal(st(13), 0);
    assert.equal(plugin.readMemory(3500, 8).readBigUInt64LE(), emu.clock.systemTimeNs());
    assert.equal(st(14), 0);
    assert.equal(plugin.readMemory(3508, 8).readBigUInt64LE(), emu.clock.monotonicTimeNs());
    assert.equal(st(15), 58, "ENOTSUP for other clocks");
    assert.equal(plugin.readMemory(3524, 8).readBigUInt64LE(), 1n);
    assert.equal(st(17), 0);
    assert.notDeepEqual(plugin.readMemory(3600, 32), Buffer.alloc(32));
    assert.equal(st(18), 28, "EINVAL above 64 KiB");
    assert.equal(st(19), 1234, "proc_exit only logs: execution continues");
    assert.ok(emu.logs("trace").includes("wasi_unstable proc_exit"));
    assert.equal(st(26), 0);
    assert.equal(st(27), 0);
    assert.equal(plugin.readU32(res(28)), 0, "no events");
    assert.equal(st(29), 44, "ENOENT");
    assert.deepEqual([st(31), st(32)], [1, 0]);
  });

  it("resolves names with envoy_resolve_dns and calls envoy_on_resolve_dns with Envoy's buffer", async () => {
    const { plugin } = await loadProbe(
      {
        imports: ["envoy_resolve_dns", "proxy_get_buffer_bytes"],
        strings: { host: "localhost" },
        callbacks: {
          proxy_on_configure: `${store(0, `(call $envoy_resolve_dns $S(host) (i32.const ${res(1)}))`)} (i32.const 1)`,
          envoy_on_resolve_dns: [
            `(i32.store (i32.const ${res(2)}) (local.get 1))`,
            `(i32.store (i32.const ${res(3)}) (local.get 2))`,
            store(4, `(call $proxy_get_buffer_bytes (i32.const 8) (i32.const 0) (i32.const 1000) (i32.const ${res(5)}) (i32.const ${res(6)}))`),
          ].join("\n"),
        },
      },
      { concurrency: 1 },
    );
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(plugin.readU32(res(1)), 1);
    for (let i = 0; i < 200 && plugin.readU32(res(3)) === 0; i++) await sleep(5);
    assert.equal(plugin.readU32(res(2)), 1);
    const data = readOut(plugin, res(5), res(6));
    const n = data.readUInt32LE(0);
    assert.ok(n >= 1);
    const addresses = data.subarray(4 + 4 * n).toString("latin1").split("\0").filter(Boolean);
    assert.equal(addresses.length, n);
    assert.ok(addresses.some((a) => a === "127.0.0.1" || a === "::1"), addresses.join());
  });
});
