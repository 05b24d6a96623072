// Linear memory over many streams (issue acceptance; proxy-wasm-abi.md §8.1, §8.2): a module that
// allocates on every request and frees correctly (AssemblyScript runtime + the SDK) stays bounded
// over 100 000 streams, measured through the emulator; a module that leaks grows, which shows the
// measurement can tell the two apart.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emulator, type EmulatedPlugin } from "../../host/emulator/index.js";
import { moduleBytes } from "../support/modules.js";
import { loadProbe, requestHeaders, res } from "./wat-kit.js";

const body = "x".repeat(256);

function runStreams(emu: Emulator, n: number): void {
  for (let i = 0; i < n; i++) {
    const s = emu.newStream();
    s.sendRequestHeaders({ ...requestHeaders, "x-request-id": `req-${i}` }, { endStream: true });
    s.sendResponseHeaders({ ":status": "200" });
    s.sendResponseBody(body, { endStream: true });
    s.complete();
  }
}

describe("linear memory", () => {
  it("stays bounded over 100 000 streams for a module that allocates per request and frees", async () => {
    const emu = new Emulator();
    const plugin: EmulatedPlugin = await emu.loadPlugin({ wasm: await moduleBytes("alloc-per-request"), name: "alloc", concurrency: 1 });
    // Sanity: the module did its per-request work.
    const probeStream = emu.newStream();
    probeStream.sendRequestHeaders(requestHeaders, { endStream: true });
    assert.ok(Number(probeStream.upstream.headers?.get("x-seen-bytes")) > 0);
    probeStream.complete();

    runStreams(emu, 10_000);
    const warm = plugin.memoryBytes();
    runStreams(emu, 90_000);
    const after = plugin.memoryBytes();
    assert.equal(plugin.failed(), false);
    // 100 000 streams × > 4 KiB allocated each would be > 400 MiB; a correct module reuses memory.
    assert.ok(after <= warm + 64 * 1024, `memory grew from ${warm} to ${after} bytes between stream 10 000 and 100 000`);
    assert.ok(after <= 4 * 1024 * 1024, `memory is ${after} bytes after 100 000 streams`);
  });

  it("grows for a module that never frees what the host allocates for it", async () => {
    // A bump allocator that grows memory and never frees; each request reads all headers.
    const { emu, plugin } = await loadProbe(
      {
        imports: ["proxy_get_header_map_pairs"],
        allocator: "none",
        callbacks: { proxy_on_request_headers: `(drop (call $proxy_get_header_map_pairs (i32.const 0) (i32.const ${res(0)}) (i32.const ${res(1)}))) (i32.const 0)` },
        extra: `(func (export "malloc") (param $n i32) (result i32) (local $p i32)
          (local.set $p (global.get $heap))
          (global.set $heap (i32.add (global.get $heap) (local.get $n)))
          (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
            (then (drop (memory.grow (i32.const 1)))))
          (local.get $p))`,
      },
      { concurrency: 1 },
    );
    const before = plugin.memoryBytes();
    runStreams(emu, 5_000);
    assert.ok(plugin.memoryBytes() >= before + 5_000 * 100, `leaky module: ${before} → ${plugin.memoryBytes()}`);
  });
});
