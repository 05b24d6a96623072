// Where the fuzzers get each suite filter and its valid configurations: every filters/<name>/ with
// a config.schema.json (examples excluded), its release module in build/, and as seeds the
// schema's "examples" plus every ```json block of its README that parses to an object. New
// filters join the fuzzing when they land, with nothing to register.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { buildDir, projectRoot } from "../../support/modules.js";
import type { Json } from "../json-gen.js";

export interface SuiteFilter {
  name: string;
  /** PluginConfig.root_id used to load it (stats reads its reporter from the root id, as Istio's). */
  rootId: string;
  schema: Record<string, unknown>;
  /** Valid configurations by their authors' word (schema examples, README blocks). */
  seeds: Json[];
  wasmPath: string;
}

const rootIds: Record<string, string> = { stats: "stats_outbound" };

function readmeJsonBlocks(readme: string): Json[] {
  const out: Json[] = [];
  for (const m of readme.matchAll(/```json\n([\s\S]*?)```/g)) {
    try {
      const v = JSON.parse(m[1]!) as Json;
      if (v && typeof v === "object" && !Array.isArray(v)) out.push(v);
    } catch {
      // A block that is not a whole configuration (an excerpt) is no seed.
    }
  }
  return out;
}

/** The suite filters that have a schema, in name order (build output may be missing). */
export function suiteFilters(): SuiteFilter[] {
  const dir = join(projectRoot, "filters");
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "config.schema.json")))
    .map((e) => {
      const schema = JSON.parse(readFileSync(join(dir, e.name, "config.schema.json"), "utf8")) as Record<string, unknown>;
      const readme = join(dir, e.name, "README.md");
      const seeds = [...((schema.examples as Json[] | undefined) ?? []), ...(existsSync(readme) ? readmeJsonBlocks(readFileSync(readme, "utf8")) : [])];
      return { name: e.name, rootId: rootIds[e.name] ?? e.name.replace(/-/g, "_"), schema, seeds: seeds.length ? seeds : [{}], wasmPath: join(buildDir, `${e.name}.wasm`) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
