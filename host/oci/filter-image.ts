// The image of one built filter: build/<name>.wasm (release target) packaged with the root id its
// WasmPlugin uses, so `package`, `push` and `wasmplugin` all arrive at the same manifest digest.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { buildDir, outputPath, projectRoot } from "../build.js";
import { loadDescriptor } from "../istio/descriptor.js";
import { buildWasmImage, type ImageVariant, type WasmImage } from "./image.js";

/** Names of the release modules in build/ (test fixtures in build/test/ are not deployable). */
export function builtModules(dir = buildDir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".wasm"))
    .map((e) => e.name.slice(0, -".wasm".length))
    .sort();
}

export function readBuiltModule(filter: string): { path: string; wasm: Buffer } {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(filter)) throw new Error(`"${filter}" is not a filter name (lowercase letters, digits, . _ -)`);
  const path = outputPath(filter, "release");
  if (!existsSync(path)) {
    const have = builtModules();
    throw new Error(
      `${relative(projectRoot, path)} not found: run \`npm run build\` first` + (have.length ? ` (built: ${have.join(", ")})` : " (build/ has no modules)"),
    );
  }
  return { path, wasm: readFileSync(path) };
}

export function buildFilterImage(filter: string, variant: ImageVariant = "compat"): WasmImage {
  const { path, wasm } = readBuiltModule(filter);
  return buildWasmImage(wasm, { variant, rootIds: [loadDescriptor(filter).pluginName] }, relative(projectRoot, path));
}

export function defaultLayoutDir(filter: string, variant: ImageVariant): string {
  return join(buildDir, "oci", variant === "compat" ? filter : `${filter}-${variant}`);
}
