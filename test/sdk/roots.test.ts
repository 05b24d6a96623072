// Root context selection (test/sdk/modules/sdk-roots, sdk-named-root): by plugin_root_id, falling
// back to the default registration, then to the SDK's pass-through root.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Emulator } from "../../host/emulator/index.js";
import { loadModule, said } from "./emulated.js";

function rootOf(emulator: Emulator): string | undefined {
  const s = emulator.newStream();
  s.sendRequestHeaders({ ":method": "GET", ":path": "/", ":authority": "a" }, { endStream: true });
  return s.upstream.headers?.get("x-root");
}

describe("SDK root context registration (emulator)", () => {
  for (const [rootId, label] of [
    ["alpha", "alpha"],
    ["beta", "beta"],
    ["ünï", "ünï"],
    ["", "default"],
    ["gamma", "default"],
  ] as const) {
    it(`root id "${rootId}" gets the ${label} root`, async () => {
      const { emulator } = await loadModule("sdk-roots", { rootId });
      assert.equal(rootOf(emulator), Buffer.from(label).toString("latin1"));
      const roots = said(emulator, "root");
      assert.ok(roots.length > 0 && roots.every((r) => r === `${label} for plugin_root_id=${rootId}`), roots.join("\n"));
    });
  }

  it("lets traffic through with the built-in root when no registration matches", async () => {
    const { emulator } = await loadModule("sdk-named-root", { rootId: "other" });
    const s = emulator.newStream();
    s.sendRequestHeaders({ ":method": "GET", ":path": "/", ":authority": "a" }, { endStream: true });
    assert.equal(s.localReply, null);
    assert.ok(s.upstream.headers, "the request reaches the upstream");
    assert.deepEqual(said(emulator, "root"), []);

    const named = await loadModule("sdk-named-root", { rootId: "only" });
    const d = named.emulator.newStream();
    d.sendRequestHeaders({ ":method": "GET", ":path": "/", ":authority": "a" }, { endStream: true });
    assert.equal(d.localReply?.details, "denied_by_only");
  });
});
