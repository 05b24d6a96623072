// The build leaves out the callback exports a module has no use for (host/optimize/
// unused-callbacks.ts): Envoy skips a callback the module does not export and answers as the SDK's
// no-op defaults do (proxy-wasm-abi.md §3). Leaving out one that a filter overrides would silently
// drop its code in Envoy, so the export set of each module is checked against the handlers its
// source overrides, and the pass's rules against hand-built modules.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import binaryen from "binaryen";
import { findModules } from "../../host/build.js";
import { OPTIONAL_CALLBACKS, removeUnusedCallbacks } from "../../host/optimize/unused-callbacks.js";
import { readModuleInfo } from "../../host/wasm/module-info.js";
import { modulePath } from "../support/modules.js";

/** The handler methods (`onLog`, `onTick`, ...) a module's own sources define. */
function definedHandlers(dir: string): Set<string> {
  const found = new Set<string>();
  const scan = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) scan(p);
      else if (e.name.endsWith(".ts")) for (const m of readFileSync(p, "utf8").matchAll(/^\s+(?:override\s+)?(on[A-Z]\w*)\(/gm)) found.add(m[1]!);
    }
  };
  scan(dir);
  return found;
}

/** Optional callbacks a module must export: those reaching a handler its sources define. */
function expectedCallbacks(dir: string): string[] {
  const defined = definedHandlers(dir);
  return Object.entries(OPTIONAL_CALLBACKS)
    .filter(([, handlers]) => handlers.some((h) => defined.has(h.slice(h.indexOf("#") + 1))))
    .map(([name]) => name)
    .sort();
}

async function exportedCallbacks(name: string): Promise<string[]> {
  const info = readModuleInfo(readFileSync(await modulePath(name)));
  return info.exports.filter((e) => e.kind === "function" && e.name in OPTIONAL_CALLBACKS).map((e) => e.name).sort();
}

describe("callback exports of the SDK's modules", () => {
  // The suite, the SDK example and the SDK's test modules (the proxy-runtime examples go through
  // the compatibility layer, which overrides every handler).
  const names = ["add-header", "metadata-exchange", "stats", "retry-headers", "rate-limit", "sdk-http", "sdk-tcp", "sdk-roots", "sdk-state", "sdk-callouts"];
  for (const name of names) {
    it(`${name} exports exactly the callbacks whose handlers it overrides`, async () => {
      const mod = findModules().find((m) => m.name === name);
      assert.ok(mod, `module ${name} not found`);
      assert.deepEqual(await exportedCallbacks(name), expectedCallbacks(mod.dir));
    });
  }

  it("leaves the add-header example two of the sixteen optional callbacks", async () => {
    assert.deepEqual(await exportedCallbacks("add-header"), ["proxy_on_request_headers", "proxy_on_response_headers"]);
  });

  it("keeps every callback for a module built on the proxy-runtime compatibility layer", async () => {
    const exported = await exportedCallbacks("proxy-runtime-add-header");
    for (const name of ["proxy_on_request_headers", "proxy_on_request_body", "proxy_on_response_body", "proxy_on_log", "proxy_on_done"]) {
      assert.ok(exported.includes(name), `${name} missing from ${exported.join(", ")}`);
    }
  });
});

describe("removeUnusedCallbacks (hand-built modules)", () => {
  const SDK = "~lib/proxy-wasm-as/assembly/";
  /** A module with the named functions (empty bodies) and exports (export name → function name). */
  function moduleWith(functions: string[], exports: Record<string, string>): binaryen.Module {
    const m = new binaryen.Module();
    for (const f of functions) m.addFunction(f, binaryen.none, binaryen.none, [], m.nop());
    for (const [exportName, f] of Object.entries(exports)) m.addFunctionExport(f, exportName);
    return m;
  }
  const exportNames = (m: binaryen.Module): string[] => {
    const out: string[] = [];
    for (let i = 0; i < m.getNumExports(); i++) out.push(binaryen.getExportInfo(m.getExportByIndex(i)).name);
    return out.sort();
  };

  it("removes an SDK export whose handler nobody overrides, keeps one whose handler is overridden", () => {
    const m = moduleWith(
      [`${SDK}context/contexts/HttpContext#onRequestBody`, `${SDK}context/contexts/HttpContext#onResponseBody`,
        `${SDK}context/contexts/HttpContext#onResponseBody@override`, `${SDK}exports/proxy_on_request_body`, `${SDK}exports/proxy_on_response_body`],
      { proxy_on_request_body: `${SDK}exports/proxy_on_request_body`, proxy_on_response_body: `${SDK}exports/proxy_on_response_body` },
    );
    assert.deepEqual(removeUnusedCallbacks(m), ["proxy_on_request_body"]);
    assert.deepEqual(exportNames(m), ["proxy_on_response_body"]);
    m.dispose();
  });

  it("keeps an export shared by several handlers when any one of them is overridden", () => {
    const m = moduleWith(
      [`${SDK}context/contexts/HttpContext#onLog`, `${SDK}context/contexts/TcpContext#onLog`, `${SDK}context/contexts/TcpContext#onLog@override`, `${SDK}exports/proxy_on_log`],
      { proxy_on_log: `${SDK}exports/proxy_on_log` },
    );
    assert.deepEqual(removeUnusedCallbacks(m), []);
    assert.deepEqual(exportNames(m), ["proxy_on_log"]);
    m.dispose();
  });

  it("keeps an export the filter wrote itself, and one whose handlers are not the SDK's", () => {
    const m = moduleWith(
      [`${SDK}context/contexts/HttpContext#onLog`, `${SDK}context/contexts/TcpContext#onLog`, "filters/mine/index/proxy_on_log", "filters/mine/index/proxy_on_tick"],
      { proxy_on_log: "filters/mine/index/proxy_on_log", proxy_on_tick: "filters/mine/index/proxy_on_tick" },
    );
    assert.deepEqual(removeUnusedCallbacks(m), []);
    assert.deepEqual(exportNames(m), ["proxy_on_log", "proxy_on_tick"]);
    m.dispose();
  });
});
