// The README's "Your first filter" walkthrough, compiled exactly as written: its files are taken
// from the blocks marked `<!-- file: PATH -->`, its build command is run as given, in a fresh
// project whose node_modules holds AssemblyScript and this package (what `npm install` gives).
// The built filter then runs in the emulator with the configuration of the README's Envoy snippet
// and must do what the README says.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { Emulator } from "../../host/emulator/index.js";
import { hostImports } from "../../host/wasm/abi.js";
import { readModuleInfo } from "../../host/wasm/module-info.js";
import { projectRoot } from "../support/modules.js";

interface Walkthrough {
  files: Map<string, string>;
  buildCommand: string;
}

/** The blocks of the README section "Your first filter". */
function readWalkthrough(): Walkthrough {
  const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
  const start = readme.indexOf("## Your first filter");
  assert.ok(start >= 0, 'README.md has no "## Your first filter" section');
  const next = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  const files = new Map<string, string>();
  for (const m of section.matchAll(/<!-- file: (\S+) -->\n```[a-z]*\n([\s\S]*?)```/g)) files.set(m[1]!, m[2]!);
  const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split("\n"));
  const buildCommand = commands.find((c) => c.startsWith("npx asc "));
  assert.ok(buildCommand, "the walkthrough has no `npx asc ...` build command");
  return { files, buildCommand };
}

describe("README: Your first filter", () => {
  const walkthrough = readWalkthrough();
  let project = "";
  let wasm: Uint8Array;
  let filterConfig: { name: string; root_id: string; configuration: { value: string }; vm_config: { code: { local: { filename: string } } } };

  before(() => {
    project = mkdtempSync(join(tmpdir(), "hello-filter-"));
    for (const [path, text] of walkthrough.files) {
      mkdirSync(dirname(join(project, path)), { recursive: true });
      writeFileSync(join(project, path), text);
    }
    // What `npm install --save-dev assemblyscript@0.27.37 proxy-wasm-as` provides.
    mkdirSync(join(project, "node_modules"));
    symlinkSync(join(projectRoot, "node_modules", "assemblyscript"), join(project, "node_modules", "assemblyscript"));
    symlinkSync(projectRoot, join(project, "node_modules", "proxy-wasm-as"));
  });

  after(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("has the files the walkthrough talks about", () => {
    assert.deepEqual([...walkthrough.files.keys()].sort(), ["asconfig.json", "assembly/index.ts", "envoy-filter.yaml"]);
  });

  it("builds with the command as written", () => {
    const args = walkthrough.buildCommand.split(/\s+/).slice(2); // drop "npx asc"
    const asc = join(project, "node_modules", "assemblyscript", "bin", "asc.js");
    const run = spawnSync(process.execPath, [asc, ...args], { cwd: project, encoding: "utf8" });
    assert.equal(run.status, 0, `\`${walkthrough.buildCommand}\` failed:\n${run.stderr}${run.stdout}`);
    const yaml = parseYaml(walkthrough.files.get("envoy-filter.yaml")!) as {
      http_filters: Array<{ name: string; typed_config: { config: typeof filterConfig } }>;
    };
    filterConfig = yaml.http_filters.find((f) => f.name === "envoy.filters.http.wasm")!.typed_config.config;
    const output = join(project, filterConfig.vm_config.code.local.filename);
    assert.ok(existsSync(output), `the Envoy snippet loads ${filterConfig.vm_config.code.local.filename}, which the build did not write`);
    wasm = readFileSync(output);
    const allowed = hostImports("0.2.1");
    for (const imp of readModuleInfo(wasm).imports) {
      assert.ok(allowed.has(`${imp.module}.${imp.name}`), `the built filter imports ${imp.module}.${imp.name}`);
    }
  });

  it("adds the configured header and answers /admin with 403, as described", async () => {
    assert.ok(wasm, "the build step did not produce the module");
    const emulator = new Emulator();
    await emulator.loadPlugin({
      wasm,
      name: filterConfig.name,
      rootId: filterConfig.root_id,
      configuration: filterConfig.configuration.value,
    });

    const ok = emulator.newStream();
    ok.sendRequestHeaders({ ":method": "GET", ":path": "/", ":authority": "example.com" }, { endStream: true });
    ok.respond({ status: 200, body: "hello" });
    ok.complete();
    assert.equal(ok.downstream.headers?.get("x-hello"), "from-wasm");
    assert.equal(ok.downstream.body.toString(), "hello");

    const admin = emulator.newStream();
    admin.sendRequestHeaders({ ":method": "GET", ":path": "/admin/users", ":authority": "example.com" }, { endStream: true });
    admin.complete();
    assert.equal(admin.localReply?.status, 403);
    assert.equal(admin.localReply?.details, "hello_forbidden");
    assert.equal(admin.downstream.body.toString(), "forbidden\n");
    assert.equal(admin.upstream.headers, null, "the request must not reach the upstream");
  });

  it("rejects an invalid configuration and logs why", async () => {
    const emulator = new Emulator();
    await assert.rejects(emulator.loadPlugin({ wasm, name: "hello", rootId: "hello", configuration: '{"header": }' }));
    assert.ok(
      emulator.logs("warning").some((l) => l.includes("hello: invalid configuration: line 1, column 12: unexpected character '}', expected a value")),
      `logs: ${JSON.stringify(emulator.logs())}`,
    );
  });
});
