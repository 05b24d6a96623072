// The emulator's own API (host/emulator/README.md): automatic callout responders, native filters
// around the plugins, per-filter statuses, worker selection and the virtual clock.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Emulator, FilterHeadersStatus } from "../../host/emulator/index.js";
import { FilterDataStatus, FilterTrailersStatus, type DecoderFilterCallbacks } from "../../host/http/filter.js";
import type { HeaderMap } from "../../host/http/header-map.js";
import { WasmResult } from "../../host/wasm/types.js";
import { loadProbe, pairs, probe, readOut, requestHeaders, res } from "./wat-kit.js";

describe("emulator", () => {
  it("answers callouts with a cluster responder on the next dispatcher turn", async () => {
    const emu = new Emulator();
    let seen = "";
    emu.addCluster("auth", (call) => {
      seen = call.headers.get(":path")!;
      return { status: 200, body: "allowed" };
    });
    const { plugin } = await loadProbe(
      {
        imports: ["proxy_http_call", "proxy_get_buffer_bytes"],
        strings: { c: "auth", h: pairs([[":method", "GET"], [":path", "/authz"], [":authority", "auth"]]), e: "" },
        callbacks: {
          proxy_on_request_headers: `(i32.store (i32.const ${res(0)}) (call $proxy_http_call $S(c) $S(h) $S(e) $S(e) (i32.const 0) (i32.const ${res(1)}))) (i32.const 1)`,
          proxy_on_http_call_response: `(drop (call $proxy_get_buffer_bytes (i32.const 4) (i32.const 0) (i32.const 100) (i32.const ${res(2)}) (i32.const ${res(3)})))`,
        },
      },
      { concurrency: 1 },
      emu,
    );
    emu.newStream().sendRequestHeaders(requestHeaders, { endStream: true });
    assert.equal(plugin.readU32(res(0)), WasmResult.Ok);
    assert.equal(seen, "/authz");
    assert.equal(readOut(plugin, res(2), res(3)).toString(), "allowed");
    assert.equal(emu.pendingHttpCalls().length, 0);
  });

  it("runs native filters around the plugins and records every filter's status", async () => {
    const emu = new Emulator();
    await emu.loadPlugin({ wasm: await probe({ callbacks: { proxy_on_request_headers: "(i32.const 0)" } }), name: "wasm" });
    let callbacks: DecoderFilterCallbacks | null = null;
    const holder = {
      setDecoderFilterCallbacks: (c: DecoderFilterCallbacks) => void (callbacks = c),
      decodeHeaders: (_h: HeaderMap) => FilterHeadersStatus.StopIteration,
      decodeData: () => FilterDataStatus.Continue,
      decodeTrailers: () => FilterTrailersStatus.Continue,
      onDestroy() {},
    };
    const s = emu.newStream({ extraFilters: { before: [holder] }, worker: 1 });
    assert.equal(s.sendRequestHeaders(requestHeaders, { endStream: true }), undefined, "the plugin was not reached");
    assert.deepEqual(s.calls, [{ filter: "before0", callback: "decodeHeaders", status: FilterHeadersStatus.StopIteration }]);
    callbacks!.continueDecoding();
    assert.equal(s.lastStatus("decodeHeaders", "wasm"), FilterHeadersStatus.Continue);
    assert.ok(s.upstream.headers);
  });

  it("keeps virtual time deterministic and monotonic", () => {
    const emu = new Emulator({ startTimeNs: 5_000_000_000n });
    const fired: bigint[] = [];
    const t = emu.clock.createTimer(() => fired.push(emu.clock.monotonicTimeNs()));
    const start = emu.clock.monotonicTimeNs();
    t.enable(30);
    emu.clock.createTimer(() => fired.push(-1n)).enable(10);
    emu.advance(50);
    assert.deepEqual(fired, [-1n, start + 30_000_000n]);
    assert.equal(emu.clock.systemTimeNs(), 5_050_000_000n);
    assert.equal(t.enabled, false);
    assert.throws(() => emu.advance(-1), /cannot advance/);
  });
});
