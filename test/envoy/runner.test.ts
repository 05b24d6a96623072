// The runner's own lifecycle (flags, config rewrite, readiness, shutdown), checked with a stand-in
// executable that records how it was started and answers /ready and /quitquitquit, and with the
// local proxy's CLI (`proxy-wasm run` takes envoy's command line) standing in for the binary, so
// that the rewritten config is shown to serve its scenarios. This tests the runner only; the
// scenarios against real Envoy are in envoy.test.ts.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildDir, projectRoot } from "../../host/build.js";
import { scenariosByConfig } from "../scenarios/index.js";
import { detectEnvoy, startEnvoyBinary } from "./runner.js";

const standIn = `#!${process.execPath}
const http = require("node:http");
const fs = require("node:fs");
const args = process.argv.slice(2);
const config = fs.readFileSync(args[args.indexOf("-c") + 1], "utf8");
fs.writeFileSync(process.env.RUNNER_RECORD, JSON.stringify({ args, config, cwd: process.cwd() }));
const port = Number(/admin:[\\s\\S]*?port_value: (\\d+)/.exec(config)[1]);
const server = http.createServer((req, res) => {
  if (req.url === "/ready") return res.end("LIVE\\n");
  if (req.url === "/quitquitquit" && req.method === "POST") { res.end("OK\\n"); server.close(); return; }
  res.statusCode = 404; res.end();
}).listen(port, "127.0.0.1");
`;

test("detectEnvoy: ENVOY_BIN must be executable", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "envoy-detect-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "envoy"), "#!/bin/sh\n");
  assert.deepEqual(await detectEnvoy({ ENVOY_BIN: join(dir, "envoy") }), { mode: "skip", reason: `ENVOY_BIN=${join(dir, "envoy")} is not an executable file` });
  chmodSync(join(dir, "envoy"), 0o755);
  assert.deepEqual(await detectEnvoy({ ENVOY_BIN: join(dir, "envoy") }), { mode: "binary", bin: join(dir, "envoy") });
});

test("startEnvoyBinary starts with isolated hot-restart settings, waits for /ready, stops via /quitquitquit", async (t) => {
  if (!existsSync("/usr/lib/python3/dist-packages/httpbin")) return t.skip("python3-httpbin not installed (the binary run's upstream)");
  const dir = mkdtempSync(join(tmpdir(), "envoy-standin-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, "envoy");
  writeFileSync(bin, standIn);
  chmodSync(bin, 0o755);
  process.env.RUNNER_RECORD = join(dir, "record.json");
  t.after(() => delete process.env.RUNNER_RECORD);
  const envoy = await startEnvoyBinary(bin, "add-header.yaml");
  let stopped = false;
  try {
    assert.equal((await (await fetch(`${envoy.target.adminUrl}/ready`)).text()).trim(), "LIVE");
    const { args, config, cwd } = JSON.parse(readFileSync(join(dir, "record.json"), "utf8")) as { args: string[]; config: string; cwd: string };
    assert.equal(cwd, projectRoot, "started from the repository root, as docs/deploy.md does");
    assert.ok(args.includes("--disable-hot-restart"));
    assert.match(args.join(" "), /--base-id \d+ .*--concurrency 2 --component-log-level wasm:debug/);
    assert.ok(config.includes(`filename: ${join(buildDir, "add-header.wasm")}`));
    const httpbinPort = Number(/address: 127\.0\.0\.1\s+port_value: (\d+)\s*$/m.exec(config.slice(config.indexOf("clusters:")))![1]);
    assert.equal((await fetch(`http://127.0.0.1:${httpbinPort}/status/204`)).status, 204, "the cluster points at a live httpbin");
    await envoy.stop();
    stopped = true;
    await assert.rejects(fetch(`${envoy.target.adminUrl}/ready`), "admin is gone after stop()");
    await assert.rejects(fetch(`http://127.0.0.1:${httpbinPort}/status/200`), "httpbin is stopped too");
  } finally {
    if (!stopped) await envoy.stop();
  }
});

test("the binary run's rewritten envoy.yaml serves its scenarios (the local proxy's CLI as the binary)", async (t) => {
  if (!existsSync("/usr/lib/python3/dist-packages/httpbin")) return t.skip("python3-httpbin not installed (the binary run's upstream)");
  const dir = mkdtempSync(join(tmpdir(), "envoy-cli-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, "envoy");
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${join(projectRoot, "dist", "host", "cli.js")}" run "$@"\n`);
  chmodSync(bin, 0o755);
  const envoy = await startEnvoyBinary(bin, "envoy.yaml");
  try {
    for (const scenario of scenariosByConfig().get("envoy.yaml")!) await scenario.run(envoy.target);
  } catch (e) {
    t.diagnostic(await envoy.logs());
    throw e;
  } finally {
    await envoy.stop();
  }
});
