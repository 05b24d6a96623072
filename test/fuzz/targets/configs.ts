// Fuzz targets for every suite filter's configuration parser, through the emulator's real plugin
// loading (canary on_configure, then the worker VM's on_configure; proxy-wasm-abi.md §6.1):
// random JSON, mostly-valid configurations generated from config.schema.json, structural and
// byte mutations of the filter's own examples, random bytes. A rejected configuration (on_configure
// returns false) is fine; a trap (§6.5) is a finding, and so is an accepted configuration under
// which the filter then traps on an ordinary request — it would take Envoy's worker VM down.
// All configurations run in one VM (vm_id "fuzz"), as Envoy reuses a VM across configuration
// updates of the same code, so leftovers of earlier configurations are exercised too.
import { Emulator, WasmLoadError, type EmulatedPlugin } from "../../../host/emulator/index.js";
import { modulePath, moduleBytes } from "../../support/modules.js";
import { mutateJson, pathologicalJsonText, randomJson, SchemaGenerator, type Json } from "../json-gen.js";
import { mutate, utf8 } from "../mutate.js";
import type { Prng } from "../prng.js";
import { suiteFilters, type SuiteFilter } from "./filter-configs.js";
import { Finding, type FuzzCase, type FuzzTarget, type Outcome, type TargetRunner } from "./types.js";

const configDictionary = ['"', "{", "}", "[", "]", ":", ",", "null", "-1", "1e309", "\\u0000", '""', "{}", "[]"].map(utf8);

const trapLine = /failed: Uncaught/;

/** Schema-driven generators from strictly valid to sloppy: each case picks one. */
interface Generators {
  byErrorRate: SchemaGenerator[];
  keys: string[];
}

function generateConfig(rng: Prng, filter: SuiteFilter, gens: Generators): FuzzCase {
  const text = (v: Json): Uint8Array => utf8(JSON.stringify(v));
  const gen = rng.pick(gens.byErrorRate);
  const r = rng.float();
  if (r < 0.35) return { input: text(gen.generate(rng)) };
  if (r < 0.55) return { input: text(mutateJson(rng, rng.pick(filter.seeds), gens.keys)) };
  if (r < 0.7) return { input: mutate(rng, text(rng.chance(0.5) ? rng.pick(filter.seeds) : gen.generate(rng)), configDictionary) };
  if (r < 0.85) return { input: text(randomJson(rng, gens.keys)) };
  if (r < 0.92) return { input: utf8(pathologicalJsonText(rng)) };
  return { input: rng.bytes(rng.length(256)) };
}

/** Runs configurations through the emulator; one runner per worker thread. */
class ConfigRunner implements TargetRunner {
  private constructor(
    private readonly filter: SuiteFilter,
    private readonly emu: Emulator,
    private readonly wasm: Uint8Array,
  ) {}

  static async open(filter: SuiteFilter): Promise<ConfigRunner> {
    const wasm = await moduleBytes(filter.name);
    const emu = new Emulator({ logLevel: "info" });
    const runner = new ConfigRunner(filter, emu, wasm);
    // A loaded plugin keeps the base VM (and its compiled module) alive between cases.
    for (const seed of [...filter.seeds, {}]) {
      try {
        await runner.load(Buffer.from(JSON.stringify(seed)), "anchor");
        return runner;
      } catch (e) {
        if (!(e instanceof WasmLoadError)) throw e;
      }
    }
    throw new Error(`${filter.name}: none of its example configurations (schema examples, README) loads`);
  }

  private load(configuration: Uint8Array, name: string): Promise<EmulatedPlugin> {
    return this.emu.loadPlugin({ wasm: this.wasm, name, rootId: this.filter.rootId, vmId: "fuzz", configuration, concurrency: 1 });
  }

  async run(c: FuzzCase): Promise<Outcome> {
    const logStart = this.emu.log.entries.length;
    const newErrors = (): string[] => this.emu.log.entries.slice(logStart).filter((e) => e.level === "error" || e.level === "critical").map((e) => e.message);
    let plugin: EmulatedPlugin;
    try {
      plugin = await this.load(c.input, "fuzz");
    } catch (e) {
      if (!(e instanceof WasmLoadError)) throw e;
      const trap = newErrors().find((m) => trapLine.test(m));
      if (trap) throw new Finding("trap", `${this.filter.name} on_configure trapped: ${newErrors().join(" | ").slice(0, 1500)}`);
      return "rejected";
    }
    try {
      const s = this.emu.newStream({ plugins: [plugin] });
      s.sendRequestHeaders({ ":method": "GET", ":path": "/api/v1/items?x=1", ":authority": "api.example.com", ":scheme": "http", "x-user": "u1" }, { endStream: true });
      if (!s.localReply) s.respond({ status: 200, headers: { "content-type": "text/plain" }, body: "ok" });
      s.complete();
      if (plugin.failed(0)) {
        throw new Finding("trap", `${this.filter.name} accepted the configuration, then failed on a request: ${newErrors().join(" | ").slice(0, 1500)}`);
      }
    } finally {
      await plugin.shutdown();
      this.emu.plugins.splice(this.emu.plugins.indexOf(plugin), 1);
    }
    return "accepted";
  }

  async close(): Promise<void> {
    await this.emu.shutdown();
  }
}

export function configTargets(): FuzzTarget[] {
  return suiteFilters().map((filter) => {
    const byErrorRate = [0, 0, 0.01, 0.04].map((rate) => new SchemaGenerator(filter.schema, rate));
    const gens: Generators = { byErrorRate, keys: byErrorRate[0]!.keys };
    return {
      name: `config-${filter.name}`,
      // Loading a plugin instantiates the module once more (the canary); allow for a slow machine.
      caseDeadlineMs: 10_000,
      async prepare() {
        await modulePath(filter.name);
      },
      generate: (rng: Prng) => generateConfig(rng, filter, gens),
      open: () => ConfigRunner.open(filter),
    };
  });
}
