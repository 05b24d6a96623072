// The three delivery commands as a user runs them: proxy-wasm package / push / wasmplugin.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import { projectRoot } from "../../host/build.js";
import { wasmPluginErrors } from "../../host/istio/validate.js";
import { builtModules } from "../../host/oci/filter-image.js";
import { readOciLayout } from "../../host/oci/layout.js";
import { registryUnavailable, startRegistry } from "../support/registry.js";

const cli = join(projectRoot, "dist", "host", "cli.js");
const run = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { cwd: projectRoot, env: { ...process.env, DOCKER_CONFIG: tmpdir() } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};

test("package → push → wasmplugin agree on one digest, for the first module in build/", { skip: registryUnavailable() }, async (t) => {
  const filter = builtModules()[0];
  assert.ok(filter, "build/ has no modules: run `npm run build` first");
  const out = mkdtempSync(join(tmpdir(), "cli-package-"));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const registry = await startRegistry();
  t.after(() => registry.stop());

  const pkg = await run("package", filter, "--out", join(out, "layout"), "--tag", "v1");
  assert.equal(pkg.code, 0, pkg.stderr);
  const layoutDigest = readOciLayout(join(out, "layout"), "v1").manifestDigest;
  assert.match(pkg.stdout, new RegExp(`manifest digest ${layoutDigest}`));

  const ref = `${registry.host}/proxy-wasm-as/${filter}:v1`;
  const push = await run("push", filter, `oci://${ref}`, "--insecure");
  assert.equal(push.code, 0, push.stderr);
  assert.equal(push.stdout, `${layoutDigest.slice(7)}\n`, "stdout is exactly the sha256 for the WasmPlugin");
  assert.match(push.stderr, /pushed .*@sha256:[0-9a-f]{64} \(compat; 2 blob\(s\) uploaded, 0 already present\)/);

  const resolved = await run("wasmplugin", filter, ref, "--resolve", "--insecure", "--selector", "app=web", "-o", join(out, "plugin.yaml"));
  assert.equal(resolved.code, 0, resolved.stderr);
  const plugin = parse(readFileSync(join(out, "plugin.yaml"), "utf8"));
  assert.deepEqual(wasmPluginErrors(plugin), []);
  assert.equal(plugin.spec.sha256, layoutDigest.slice(7));
  assert.equal(plugin.spec.url, `oci://${ref}`);
  assert.deepEqual(plugin.spec.selector, { matchLabels: { app: "web" } });

  // offline: the digest of the reproducible image, equal to what the registry has
  const local = await run("wasmplugin", filter, ref);
  assert.equal(local.code, 0, local.stderr);
  assert.equal(parse(local.stdout).spec.sha256, layoutDigest.slice(7));
  const artifact = await run("wasmplugin", filter, ref, "--variant", "wasm-artifact");
  assert.notEqual(parse(artifact.stdout).spec.sha256, layoutDigest.slice(7), "another variant is another image");
});

test("delivery commands explain bad input", async () => {
  const missing = await run("push", "no-such-filter", "127.0.0.1:1/x:1");
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /build\/no-such-filter\.wasm not found: run `npm run build` first/);
  const variant = await run("package", builtModules()[0] ?? "add-header", "--variant", "zip");
  assert.match(variant.stderr, /--variant must be compat or wasm-artifact, not "zip"/);
  const ref = await run("wasmplugin", "stats", "Bad/Ref");
  assert.match(ref.stderr, /invalid image reference "Bad\/Ref"/);
  const conflict = await run("wasmplugin", "stats", `r.io/x@sha256:${"a".repeat(64)}`, "--sha256", "b".repeat(64));
  assert.match(conflict.stderr, /--sha256 b{64} differs from the digest in/);
  const usage = await run("push", "only-one-arg");
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /usage: proxy-wasm push <filter> <ref>/);
  const unknown = await run("push", "a", "b", "--frobnicate");
  assert.match(unknown.stderr, /frobnicate/);
});
