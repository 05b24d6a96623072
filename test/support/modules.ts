// Paths of the compiled AssemblyScript modules in build/, building them on demand when missing or
// stale (host/build.ts decides what is stale), so a test can be run on its own after `tsc`.
import { existsSync, readFileSync } from "node:fs";
import { buildDir, compile, findModules, outputPath, projectRoot } from "../../host/build.js";

export { buildDir, projectRoot };

/** Release build of a filter or example: build/<name>.wasm (or build/test/<name>.wasm for test modules). */
export async function modulePath(name: string, target: "release" | "debug" = "release"): Promise<string> {
  const mod = findModules().find((m) => m.name === name);
  if (!mod) throw new Error(`no AssemblyScript module named ${name} (looked in filters/ and test/*/modules/)`);
  return compile(mod, mod.testOnly ? "release" : target);
}

/** The module's bytes, built if needed. */
export async function moduleBytes(name: string, target: "release" | "debug" = "release"): Promise<Uint8Array> {
  return readFileSync(await modulePath(name, target));
}

/** Names of every module that has a build output already (without building anything). */
export function builtModules(): Array<{ name: string; path: string; testOnly: boolean }> {
  return findModules()
    .map((m) => ({ name: m.name, path: outputPath(m.name, "release", m.testOnly), testOnly: m.testOnly ?? false }))
    .filter((m) => existsSync(m.path));
}
