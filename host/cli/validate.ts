// `proxy-wasm validate -c FILE`: Envoy's `--mode validate`. Loads and checks the bootstrap (proto
// validation, protoc-gen-validate rules, the local proxy's supported subset, cluster references,
// Wasm module files) and prints "configuration '<file>' OK", or the error and exits 1.
import { loadBootstrap } from "../config/bootstrap.js";
import { commandOptions, type EnvoyOptions } from "../config/cli-options.js";
import type { Command } from "./command.js";

/** The name Envoy prints for the configuration in validate mode. */
export function configName(o: EnvoyOptions): string {
  return o.configPath ?? "";
}

/** Envoy's "error initializing configuration '<file>': <reason>" (the reason without the file repeated). */
export function configErrorLine(o: EnvoyOptions, e: Error): string {
  const name = configName(o);
  const reason = name && e.message.startsWith(`${name}: `) ? e.message.slice(name.length + 2) : e.message;
  return `error initializing configuration '${name}': ${reason}`;
}

export function validateConfig(o: EnvoyOptions): number {
  try {
    loadBootstrap({ configPath: o.configPath, configYaml: o.configYaml });
  } catch (e) {
    console.error(configErrorLine(o, e as Error));
    return 1;
  }
  console.log(`configuration '${configName(o)}' OK`);
  return 0;
}

export const command: Command = {
  name: "validate",
  summary: "check an Envoy bootstrap as `envoy --mode validate` does (-c FILE [--config-yaml YAML])",
  async run(args) {
    const o = commandOptions("validate", "usage: proxy-wasm validate -c FILE [--config-yaml YAML]", args);
    if (typeof o === "number") return o;
    return validateConfig(o);
  },
};
