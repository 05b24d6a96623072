// The bench's throughput runs through an Envoy binary (`ENVOY_BIN=... npm run bench`), checked
// with the local proxy's CLI standing in for the binary (`proxy-wasm run` takes Envoy's command
// line): every configuration gets its own Envoy, started as test/envoy/runner.ts starts one, on the
// bench's bootstrap, and its CPU is read from that process. This tests the plumbing only; the
// numbers through real Envoy come from a machine that has one.
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildDir, projectRoot } from "../../host/build.js";
import { proxyThroughput } from "../../bench/proxy-throughput.js";
import { filterSuite } from "../../bench/suite.js";

test("the bench's Envoy throughput starts one ENVOY_BIN per configuration, loads it and reads its CPU", async (t) => {
  // npm test builds first; an unbuilt suite would silently shrink the runs to the router alone.
  const missing = filterSuite.filter((f) => !existsSync(join(buildDir, `${f.name}.wasm`)));
  assert.deepEqual(missing.map((f) => f.name), [], "the suite is built (npm run build)");
  const dir = mkdtempSync(join(tmpdir(), "envoy-bench-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, "envoy");
  // Records each command line and the config it names, then becomes the local proxy.
  writeFileSync(
    bin,
    `#!/bin/sh\nn=$(ls "${dir}" | grep -c '^launch-')\nconfig=$(echo "$@" | sed -n 's/.*-c \\([^ ]*\\).*/\\1/p')\n` +
      `{ echo "$@"; cat "$config"; } > "${dir}/launch-$n"\n` +
      `exec "${process.execPath}" "${join(projectRoot, "dist", "host", "cli.js")}" run "$@"\n`,
  );
  chmodSync(bin, 0o755);

  const runs = await proxyThroughput({ envoyBin: bin, rounds: 1, durationSec: 1, connections: 10 });

  assert.deepEqual(runs.map((r) => r.kind), ["router", "suite"]);
  for (const r of runs) {
    assert.ok(r.requests > 0, `${r.name}: requests went through`);
    assert.equal(r.errors + r.timeouts + r.non2xx, 0, `${r.name}: every request answered 2xx`);
    assert.ok(r.proxyCpuUsPerRequest !== undefined && r.proxyCpuUsPerRequest > 0, `${r.name}: the launched process's CPU was read`);
  }
  assert.deepEqual(runs[1]!.filters, filterSuite.map((f) => f.name));

  const launches = ["launch-0", "launch-1"].map((f) => readFileSync(join(dir, f), "utf8"));
  const args = launches.map((l) => l.slice(0, l.indexOf("\n")));
  for (const a of args) {
    assert.match(a, /^-c \S+ --base-id \d+ --disable-hot-restart --concurrency 2 -l warning$/);
  }
  const baseIds = args.map((a) => /--base-id (\d+)/.exec(a)![1]);
  assert.notEqual(baseIds[0], baseIds[1], "Envoys running side by side get their own base id");
  const suiteConfig = launches.find((l) => l.includes("envoy.filters.http.wasm"))!;
  for (const f of filterSuite) assert.ok(suiteConfig.includes(`filename: ${join(buildDir, `${f.name}.wasm`)}`), `${f.name} is loaded from build/`);
  assert.ok(!/port_value: 0\b/.test(suiteConfig), "listener and admin are on ports the bench chose, as Envoy logs no bound port");
});
