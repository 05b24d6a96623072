// Source compatibility with @solo-io/proxy-runtime: the proxy-runtime-style examples differ from
// what a proxy-runtime user writes only in their two import specifiers. Each example, with its
// specifiers rewritten back to proxy-runtime's, is compiled against a package that answers to
// "@solo-io/proxy-runtime" by re-exporting the compatibility layer, and must give a module with
// the same ABI surface as the example's own build; it imports only proxy-runtime names; and one is
// built with proxy-runtime's own build flags (`--use abort=abort_proc_exit`) and run.
import asc from "assemblyscript/asc";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Emulator, FilterHeadersStatus } from "../../host/emulator/index.js";
import { buildTransforms } from "../../host/optimize/transforms.js";
import { readModuleInfo, type ModuleInfo } from "../../host/wasm/module-info.js";
import { modulePath, projectRoot } from "../support/modules.js";
import { soloExports, specifiers } from "./solo-api.js";
import { request } from "./support.js";

const examples = ["proxy-runtime-add-header", "proxy-runtime-auth", "proxy-runtime-remove-headers", "proxy-runtime-singleton"];

const exampleSource = (name: string): string => readFileSync(join(projectRoot, "filters", "examples", name, "index.ts"), "utf8");

/** The source as a proxy-runtime user writes it: only the import specifiers change. */
function toSolo(source: string): string {
  let out = source;
  for (const [solo, ours] of specifiers) out = out.split(`"${ours}"`).join(`"${solo}"`);
  return out;
}

/** Names in `import { ... } from "<specifier>"` statements. */
function importedNames(source: string, specifier: string): string[] {
  const names: string[] = [];
  const re = /import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    if (m[2] === specifier) names.push(...m[1]!.split(",").map((n) => n.trim()).filter(Boolean));
  }
  return names;
}

/** Imports and exports with their signatures: what Envoy links and calls. */
function abiSurface(info: ModuleInfo): { imports: string[]; exports: string[] } {
  const sig = (s?: { params: string[]; results: string[] }) => (s ? `(${s.params.join(",")})->(${s.results.join(",")})` : "");
  return {
    imports: info.imports.map((i) => `${i.module}.${i.name}${sig(i.signature)}`).sort(),
    exports: info.exports.map((e) => `${e.name}:${e.kind}${sig(e.signature)}`).sort(),
  };
}

describe("proxy-runtime source compatibility", () => {
  let dir = "";

  before(() => {
    // A project of a proxy-runtime user: its sources, and a "@solo-io/proxy-runtime" package that
    // re-exports the compatibility layer of the proxy-wasm-as package (this repository).
    dir = mkdtempSync(join(tmpdir(), "solo-compat-"));
    const solo = join(dir, "node_modules", "@solo-io", "proxy-runtime");
    mkdirSync(solo, { recursive: true });
    symlinkSync(projectRoot, join(dir, "node_modules", "proxy-wasm-as"), "dir");
    writeFileSync(join(solo, "index.ts"), `export * from "${specifiers[1]![1]}";\n`);
    writeFileSync(join(solo, "proxy.ts"), `export * from "${specifiers[0]![1]}";\n`);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Compiles `source` as <dir>/<file> with asc `args` (and host/build.ts's transforms, if
   * `withBuildTransforms`); the module bytes, or the compiler's errors.
   */
  async function compile(file: string, source: string, args: string[], withBuildTransforms = false): Promise<Uint8Array> {
    writeFileSync(join(dir, file), source);
    const out = join(dir, file.replace(/\.ts$/, ".wasm"));
    let stderr = "";
    const { error } = await asc.main([file, "--baseDir", dir, "--outFile", out, ...args], {
      stdout: { write: () => true } as never,
      stderr: { write: (s: string | Uint8Array) => ((stderr += String(s)), true) } as never,
      ...(withBuildTransforms ? { transforms: buildTransforms() as never } : {}),
    });
    assert.equal(error, null, `${file} does not compile:\n${stderr}`);
    return readFileSync(out);
  }

  for (const name of examples) {
    it(`${name}: only the import specifiers differ from proxy-runtime usage`, () => {
      const ours = exampleSource(name);
      const solo = toSolo(ours);
      assert.equal(solo.includes("proxy-wasm-as"), false, "nothing else names this project");
      const oursLines = ours.split("\n");
      const soloLines = solo.split("\n");
      assert.equal(soloLines.length, oursLines.length);
      const changed = oursLines.filter((line, i) => line !== soloLines[i]);
      assert.deepEqual(changed, [
        `export * from "${specifiers[0]![1]}";`,
        `} from "${specifiers[1]![1]}";`,
      ]);
      const known = new Set(soloExports.filter((e) => e.support === "provided").map((e) => e.name));
      const imported = importedNames(solo, specifiers[1]![0]);
      assert.ok(imported.length > 0);
      assert.deepEqual(imported.filter((n) => !known.has(n)), [], "imports only proxy-runtime's API");
    });
  }

  it("each example, written against \"@solo-io/proxy-runtime\", builds to the same ABI surface", async () => {
    for (const name of examples) {
      // Built as host/build.ts builds the example (which leaves out unused callback exports).
      const bytes = await compile(`${name}.ts`, toSolo(exampleSource(name)), ["--config", join(projectRoot, "asconfig.json"), "--target", "debug"], true);
      const own = readFileSync(await modulePath(name, "debug"));
      assert.deepEqual(abiSurface(readModuleInfo(bytes)), abiSurface(readModuleInfo(own)), name);
    }
  });

  it("provides every name of proxy-runtime's API it claims to", async () => {
    const names = soloExports.filter((e) => e.support === "provided").map((e) => e.name);
    const source = [
      `export * from "${specifiers[0]![0]}";`,
      `import { ${names.join(", ")} } from "${specifiers[1]![0]}";`,
      "",
    ].join("\n");
    // AssemblyScript resolves every imported name, used or not: a missing one is an error.
    await compile("surface.ts", source, ["--config", join(projectRoot, "asconfig.json"), "--target", "debug"]);
  });

  it("builds with proxy-runtime's own flags (--use abort=abort_proc_exit, no project asconfig) and runs in the host", async () => {
    const bytes = await compile("auth-solo-flags.ts", toSolo(exampleSource("proxy-runtime-auth")), [
      "--use", "abort=abort_proc_exit", "--runtime", "incremental", "--optimize",
    ]);
    const info = readModuleInfo(bytes);
    assert.equal(info.imports.some((i) => i.module === "env" && i.name === "abort"), false, "Envoy provides no env.abort");
    const emulator = new Emulator({ clusters: ["auth_service"] });
    await emulator.loadPlugin({ wasm: bytes, name: "auth", rootId: "auth", configuration: "auth_service" });
    const s = emulator.newStream();
    assert.equal(s.sendRequestHeaders(request(), { endStream: true }), FilterHeadersStatus.StopAllIterationAndWatermark);
    emulator.respondHttpCall(emulator.pendingHttpCalls()[0]!, { status: 200 });
    assert.equal(s.upstream.headers?.get("added-header"), "authorized");
    s.respond({ status: 200 });
    assert.equal(s.downstream.headers?.get("hello"), "wasm!");
    s.complete();
  });
});
