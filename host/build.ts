// Compiles every filter and example under filters/ into build/<name>.wasm (release target of
// asconfig.json) and build/debug/<name>.wasm (debug target: name section kept so that Envoy and
// our host can print backtraces). A module is a folder with an index.ts: filters/<name>/ or
// filters/examples/<name>/. Outputs newer than every AssemblyScript source are not rebuilt.
import asc from "assemblyscript/asc";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { GC_STRESS_OPTIONS } from "./optimize/gc-stress.js";
import { buildTransforms } from "./optimize/transforms.js";

export interface ModuleSource {
  name: string;
  dir: string;
  entry: string;
  /** Test fixtures build to build/test/<name>.wasm (release only). */
  testOnly?: boolean;
}

export const projectRoot = resolve(import.meta.dirname, "..", "..");

/**
 * PROXY_WASM_AS_GC_STRESS=1 builds every module in GC stress mode (host/optimize/gc-stress.ts) into
 * .tmp/gc-stress/build/ instead of build/, for running the test suites against: a collection at
 * nearly every allocation and poisoned free blocks make memory-safety bugs fail loudly. Never for
 * Envoy. (Outside build/, so that normal runs never see these modules.)
 */
const gcStress = process.env.PROXY_WASM_AS_GC_STRESS === "1";
export const buildDir = gcStress ? join(projectRoot, ".tmp", "gc-stress", "build") : join(projectRoot, "build");

export function findModules(root = projectRoot): ModuleSource[] {
  const out: ModuleSource[] = [];
  const scan = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith(".") || entry.name === "__tests__") continue;
      const sub = join(dir, entry.name);
      const index = join(sub, "index.ts");
      if (existsSync(index)) out.push({ name: entry.name, dir: sub, entry: index });
      else scan(sub);
    }
  };
  scan(join(root, "filters"));
  // AssemblyScript modules used only by tests: test/**/modules/<name>/index.ts.
  const scanTests = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const sub = join(dir, e.name);
      if (e.name !== "modules") {
        scanTests(sub);
        continue;
      }
      for (const m of readdirSync(sub, { withFileTypes: true })) {
        const index = join(sub, m.name, "index.ts");
        if (m.isDirectory() && existsSync(index)) out.push({ name: m.name, dir: join(sub, m.name), entry: index, testOnly: true });
      }
    }
  };
  scanTests(join(root, "test"));
  const names = new Map<string, string>();
  for (const m of out) {
    const seen = names.get(m.name);
    if (seen) throw new Error(`two modules would both build to ${m.name}.wasm: ${seen} and ${m.dir}`);
    names.set(m.name, m.dir);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function newestMtime(dirs: string[]): number {
  let newest = 0;
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) if (e !== "node_modules" && e !== "__tests__") walk(join(p, e));
    } else if (p.endsWith(".ts") || p.endsWith(".json") || p.endsWith(".js")) newest = Math.max(newest, st.mtimeMs);
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return newest;
}

export type Target = "release" | "debug";

/**
 * The asconfig.json target a build uses. Release builds of the suite's filters use "release-size"
 * (-O3 with shrinkLevel 1: each filter must fit in 64 KiB, and Binaryen's -O3 inlining alone costs
 * about 15% more bytes); examples, whose per-request cost is what the SDK's speed target is
 * measured on, and test modules use "release".
 */
export function ascTarget(mod: ModuleSource, target: Target): string {
  const example = mod.dir.split(/[\\/]/).includes("examples");
  return target === "release" && !mod.testOnly && !example ? "release-size" : target;
}

export function outputPath(name: string, target: Target, testOnly = false): string {
  if (testOnly) return join(buildDir, "test", `${name}.wasm`);
  return target === "release" ? join(buildDir, `${name}.wasm`) : join(buildDir, "debug", `${name}.wasm`);
}

export async function compile(mod: ModuleSource, target: Target, force = false): Promise<string> {
  const out = outputPath(mod.name, target, mod.testOnly);
  // This file and the passes in optimize/ shape the output too.
  const inputs = newestMtime([
    join(projectRoot, "assembly"), mod.dir, join(projectRoot, "asconfig.json"), import.meta.filename,
    join(import.meta.dirname, "optimize"),
  ]);
  if (!force && existsSync(out) && statSync(out).mtimeMs >= inputs) return out;
  mkdirSync(dirname(out), { recursive: true });
  let stderr = "";
  // Compile to a private file and rename it into place: test files build on demand in parallel,
  // and a reader must never see a half-written module.
  const tmp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const { error } = await asc.main(
    [
      mod.entry, "--config", join(projectRoot, "asconfig.json"), "--target", ascTarget(mod, target), "--outFile", tmp,
      ...(gcStress ? GC_STRESS_OPTIONS : []),
    ],
    {
      stdout: { write: () => true } as never,
      stderr: { write: (s: string | Uint8Array) => ((stderr += String(s)), true) } as never,
      // Unused callback exports, shadow-stack elision, static-data compaction (host/optimize/): see transforms.ts.
      transforms: buildTransforms({ gcStress }) as never,
    },
  );
  if (error) {
    rmSync(tmp, { force: true });
    throw new Error(`${basename(mod.dir)} (${target}) failed to compile:\n${stderr || error.message}`);
  }
  renameSync(tmp, out);
  return out;
}

/** Builds every module; one module failing does not stop the others. Throws listing all failures. */
export async function buildAll(opts: { force?: boolean; only?: string[] } = {}): Promise<string[]> {
  const mods = findModules().filter((m) => !opts.only?.length || opts.only.includes(m.name));
  const outputs: string[] = [];
  const failures: string[] = [];
  for (const m of mods) {
    for (const t of m.testOnly ? (["release"] as const) : (["release", "debug"] as const)) {
      try {
        outputs.push(await compile(m, t, opts.force));
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  }
  if (failures.length) throw new Error(failures.join("\n\n"));
  return outputs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const force = args.includes("--force");
  const only = args.filter((a) => !a.startsWith("--"));
  buildAll({ force, only }).then(
    (outs) => console.log(`built ${outs.length} module output(s) into ${buildDir}`),
    (e: Error) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
