// Malformed plugin configurations for every suite filter. A filter that refuses its configuration
// makes on_configure return false, so Envoy rejects the plugin ("Unable to create Wasm HTTP filter
// <name>: Failed to configure base Wasm plugin", proxy-wasm-abi.md §6.1, §6.5) and `proxy-wasm run`
// — like `envoy -c` — stops at startup with exit code 1; the filter's own error line says what is
// wrong and where (the JSON position, or the field). metadata-exchange follows Istio instead: a bad
// configuration is logged and its defaults apply, so the proxy starts and serves.
// Filters are found by their config.schema.json (the fuzzers' list); the wrong-typed field is the
// schema's first property, so a new filter is covered without changes here.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { loadBootstrap } from "../../host/config/bootstrap.js";
import { EnvoyLogger } from "../../host/proxy/logger.js";
import { ProxyServer } from "../../host/proxy/server.js";
import { suiteFilters, type SuiteFilter } from "../fuzz/targets/filter-configs.js";
import { modulePath } from "../support/modules.js";
import { bootstrap, send, start, stringValue, upstream } from "./fault-kit.js";

const cli = new URL("../../host/cli.js", import.meta.url).pathname;
const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "fault-configs-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Filters whose bad configuration is logged and replaced by defaults (Istio's behaviour). */
const lenient = new Set(["metadata-exchange"]);

const truncatedJson = '{"token_bucket": ';

/** The schema's first property, with a value of a type it does not take. */
function wrongTypedField(filter: SuiteFilter): { field: string; config: string } {
  const [field, schema] = Object.entries(filter.schema.properties as Record<string, { type?: string }>)[0]!;
  const wrong = schema.type === "string" ? 12345 : schema.type === "object" || schema.type === "array" ? "not-a-structure" : "not-a-number";
  return { field, config: JSON.stringify({ [field]: wrong }) };
}

function configured(filter: SuiteFilter, wasm: string, configuration: string, port = 1): Record<string, unknown> {
  return bootstrap(port, {
    filters: [
      {
        name: "envoy.filters.http.wasm",
        typed_config: {
          "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
          config: {
            name: filter.name,
            root_id: filter.rootId,
            configuration: stringValue(configuration),
            vm_config: { vm_id: filter.name, runtime: "envoy.wasm.runtime.v8", code: { local: { filename: wasm } } },
          },
        },
      },
    ],
  });
}

async function runCli(config: Record<string, unknown>, file: string): Promise<{ code: number; stderr: string }> {
  const path = join(dir, file);
  writeFileSync(path, stringify(config));
  try {
    const { stderr } = await exec(process.execPath, [cli, "run", "-c", path, "-l", "info"], { timeout: 30_000 });
    return { code: 0, stderr };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

describe("malformed plugin configurations", () => {
  for (const filter of suiteFilters().filter((f) => !lenient.has(f.name))) {
    test(`${filter.name}: not JSON → proxy-wasm run exits 1 at startup, naming the plugin and where the JSON breaks`, async () => {
      const wasm = await modulePath(filter.name);
      const r = await runCli(configured(filter, wasm, truncatedJson), `${filter.name}-truncated.yaml`);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /\[error\]\[wasm\] wasm log [^\n]*: [^\n]*not valid JSON[^\n]*line 1, column 18/);
      assert.match(r.stderr, new RegExp(`\\[critical\\]\\[main\\] .*Unable to create Wasm HTTP filter ${filter.name}: Failed to configure base Wasm plugin`));
    });

    test(`${filter.name}: a field of the wrong type → the plugin is refused, the error names the field`, async () => {
      const { field, config } = wrongTypedField(filter);
      const lines: string[] = [];
      await assert.rejects(
        ProxyServer.start({
          bootstrap: loadBootstrap({ config: { json: configured(filter, await modulePath(filter.name), config), source: "t" } }),
          concurrency: 1,
          log: new EnvoyLogger("info", (l) => void lines.push(l)),
        }),
        new RegExp(`Unable to create Wasm HTTP filter ${filter.name}: Failed to configure base Wasm plugin`),
      );
      assert.ok(lines.some((l) => l.includes("[error][wasm]") && l.includes(field)), `no error line names ${field}:\n${lines.join("")}`);
    });
  }

  for (const name of lenient) {
    test(`${name}: bad configurations are logged with the field and defaults apply; the proxy starts and serves`, async () => {
      const filter = suiteFilters().find((f) => f.name === name);
      assert.ok(filter, `${name} has a config.schema.json`);
      const { field, config } = wrongTypedField(filter);
      const up = await upstream((_req, res) => void res.end("ok"));
      for (const bad of [truncatedJson, config]) {
        const p = await start(configured(filter, await modulePath(name), bad, up.port));
        const r = await send(p.url());
        assert.equal(r.status, 200);
        const errors = p.logs.filter((l) => l.includes("[error][wasm]")).join("");
        assert.match(errors, bad === truncatedJson ? /not valid JSON \(line 1, column 18/ : new RegExp(`${field}: `));
      }
    });
  }
});
