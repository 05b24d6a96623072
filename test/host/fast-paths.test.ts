// The host's per-request fast paths give the same answers as the straightforward code they
// replace: names read from VM memory through the intern table, property paths parsed once, cached
// metadata values, shared data rewritten in place, header keys lower-cased only when needed, and
// memory views refreshed after memory.grow.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emulator, type EmulatedPlugin } from "../../host/emulator/index.js";
import { encodeJson } from "../../host/envoy/protos.js";
import { HeaderMap } from "../../host/http/header-map.js";
import type { PluginRuntime } from "../../host/wasm/lifecycle.js";
import { sharedStateOf } from "../../host/wasm/shared-state.js";
import { WasmResult } from "../../host/wasm/types.js";
import type { WasmVm } from "../../host/wasm/vm.js";
import { loadProbe, readOut, requestHeaders, res } from "./wat-kit.js";

/** The worker VM of a loaded probe (internal API, to drive memory reads directly). */
const vmOf = (plugin: EmulatedPlugin): WasmVm => (plugin.plugin as PluginRuntime).workerState(0).vm;

/** A probe with a 64 KiB scratch area at `scratch` for the test to write names into. */
async function scratchVm(): Promise<{ vm: WasmVm; scratch: number }> {
  const { plugin } = await loadProbe({ memoryPages: 4 });
  return { vm: vmOf(plugin), scratch: 65536 };
}

describe("names read from VM memory (intern table)", () => {
  it("returns the bytes currently in memory when the same address is reused with other names", async () => {
    const { vm, scratch } = await scratchVm();
    const names = ["x-envoy-retry-on", "x-envoy-retry-no", "content-type", ":authority", "x-envoy-retry-on"];
    for (const name of names) {
      vm.setMemory(scratch, Buffer.from(name, "latin1"));
      assert.equal(vm.getLatin1(scratch, name.length), name);
    }
  });

  it("keeps thousands of distinct names apart (slot collisions), including Latin-1 bytes and long names", async () => {
    const { vm, scratch } = await scratchVm();
    const names: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const base = i % 7 === 0 ? `x-\u00e9t\u00e9-${i}-\u00ff` : `header-${(i * 2654435761) >>> 0}`;
      names.push(i % 11 === 0 ? base.padEnd(90, "z") : base);
    }
    for (let round = 0; round < 2; round++) {
      for (const name of names) {
        vm.setMemory(scratch, Buffer.from(name, "latin1"));
        assert.equal(vm.getLatin1(scratch, name.length), name);
      }
    }
  });

  it("answers null out of bounds and the empty string for size 0", async () => {
    const { vm } = await scratchVm();
    assert.equal(vm.getLatin1(vm.memoryBytes - 2, 4), null);
    assert.equal(vm.getLatin1(0, 0), "");
    assert.equal(vm.getUtf8(vm.memoryBytes, 1), null);
  });

  it("sees memory added by memory.grow and writes through refreshed views", async () => {
    const { vm } = await scratchVm();
    const before = vm.memoryBytes;
    vm.getLatin1(0, 4); // views over the current buffer
    vm.memory.grow(2);
    assert.equal(vm.memoryBytes, before + 2 * 65536);
    const at = before + 100;
    assert.ok(vm.setMemory(at, Buffer.from("grown-name", "latin1")));
    assert.equal(vm.getLatin1(at, 10), "grown-name");
    assert.ok(vm.setWord(at + 16, 0xdeadbeef));
    assert.equal(vm.getWord(at + 16), 0xdeadbeef);
  });
});

describe("host calls on the fast paths", () => {
  it("header lookups with the same key address return each stream's own values, any key case", async () => {
    const { emu, plugin } = await loadProbe({
      imports: ["proxy_get_header_map_value"],
      strings: { key: "X-Tenant", missing: "x-absent" },
      callbacks: {
        proxy_on_request_headers: `(i32.store (i32.const ${res(0)}) (call $proxy_get_header_map_value (i32.const 0) $S(key) (i32.const ${res(1)}) (i32.const ${res(2)})))
          (i32.store (i32.const ${res(3)}) (call $proxy_get_header_map_value (i32.const 0) $S(missing) (i32.const ${res(4)}) (i32.const ${res(5)})))
          (i32.const 0)`,
      },
    });
    for (const tenant of ["alpha", "b\u00e9ta", ""]) {
      emu.newStream().sendRequestHeaders({ ...requestHeaders, "x-tenant": tenant }, { endStream: true });
      assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
      assert.equal(readOut(plugin, res(1), res(2)).toString("latin1"), tenant);
      assert.equal(plugin.readU32(res(3)), WasmResult.NotFound);
    }
  });

  it("property paths parsed once still read each stream's values; unknown fields and groups outside a stream are NotFound", async () => {
    const paths = { path: "request\0path", code: "response\0code", nope: "request\0nope", cluster: "xds\0cluster_metadata", trailing: "request\0method\0" };
    const call = (name: string, slot: number) =>
      `(i32.store (i32.const ${res(slot)}) (call $proxy_get_property $S(${name}) (i32.const ${res(slot + 1)}) (i32.const ${res(slot + 2)})))`;
    const { emu, plugin } = await loadProbe({
      imports: ["proxy_get_property"],
      strings: paths,
      callbacks: {
        proxy_on_configure: `${call("path", 30)} (i32.const 1)`,
        proxy_on_request_headers: `${call("path", 0)} ${call("nope", 3)} ${call("trailing", 12)} (i32.const 0)`,
        proxy_on_log: `${call("code", 6)} ${call("cluster", 9)}`,
      },
    });
    // Outside any stream (on_configure) the request group does not exist.
    assert.equal(plugin.readU32(res(30)), WasmResult.NotFound);
    const metadata = { filter_metadata: { istio: { version: "v1" } } };
    for (const [path, status] of [["/first", 200], ["/second?x=1", 503]] as const) {
      const s = emu.newStream({ streamInfo: { clusterName: "c", clusterMetadata: metadata } });
      s.sendRequestHeaders({ ...requestHeaders, ":path": path }, { endStream: true });
      s.respond({ status });
      s.complete();
      assert.equal(readOut(plugin, res(1), res(2)).toString(), path);
      assert.equal(plugin.readU32(res(3)), WasmResult.NotFound);
      assert.equal(readOut(plugin, res(13), res(14)).toString(), "GET");
      assert.equal(readOut(plugin, res(7), res(8)).readBigInt64LE(), BigInt(status));
      assert.deepEqual(readOut(plugin, res(10), res(11)), Buffer.from(encodeJson("envoy.config.core.v3.Metadata", metadata)));
      // The metadata object changes between streams: the next read must see the change.
      metadata.filter_metadata.istio.version = "v2";
    }
  });
});

describe("shared data rewritten in place", () => {
  it("a same-size write replaces the value, moves the CAS on, and leaves earlier copies alone", async () => {
    const emu = new Emulator();
    const shared = sharedStateOf(emu.server);
    assert.equal(shared.set("vm", "k", Buffer.from("aaaa"), 0), WasmResult.Ok);
    const first = shared.get("vm", "k")!;
    const firstCopy = Buffer.from(first.value);
    const earlier = emu.sharedData("k", "vm")!;
    assert.equal(shared.set("vm", "k", Buffer.from("bbbb"), first.cas), WasmResult.Ok);
    const second = shared.get("vm", "k")!;
    assert.equal(Buffer.from(second.value).toString(), "bbbb");
    assert.notEqual(second.cas, first.cas);
    assert.equal(earlier.value.toString(), "aaaa");
    assert.equal(firstCopy.toString(), "aaaa");
    // The old CAS no longer matches; a different size still replaces the value.
    assert.equal(shared.set("vm", "k", Buffer.from("cccc"), first.cas), WasmResult.CasMismatch);
    assert.equal(shared.set("vm", "k", Buffer.from("dd"), second.cas), WasmResult.Ok);
    assert.equal(Buffer.from(shared.get("vm", "k")!.value).toString(), "dd");
  });
});

describe("HeaderMap key lower-casing", () => {
  it("finds keys whatever their case, and lower-cases Latin-1 capitals as toLowerCase does", () => {
    const m = new HeaderMap([
      ["Content-Type", "text/plain"],
      ["x-lower", "1"],
      ["X-\u00c9T\u00c9", "latin1"],
    ]);
    assert.equal(m.get("content-type"), "text/plain");
    assert.equal(m.get("CONTENT-TYPE"), "text/plain");
    assert.equal(m.get("X-Lower"), "1");
    assert.deepEqual(
      m.entries().map(([k]) => k),
      ["content-type", "x-lower", "x-\u00e9t\u00e9"],
    );
    assert.equal(m.get("x-\u00e9t\u00e9"), "latin1");
    m.set("X-LOWER", "2");
    m.remove("CONTENT-type");
    assert.deepEqual(m.entries(), [
      ["x-lower", "2"],
      ["x-\u00e9t\u00e9", "latin1"],
    ]);
  });
});
