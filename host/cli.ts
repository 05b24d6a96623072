#!/usr/bin/env node
// The proxy-wasm CLI. Each command lives in host/cli/<name>.ts and exports a `command`.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Command } from "./cli/command.js";
import { command as build } from "./cli/build.js";
import { command as packageImage } from "./cli/package.js";
import { command as push } from "./cli/push.js";
import { command as wasmplugin } from "./cli/wasmplugin.js";
import { command as run } from "./cli/run.js";
import { command as validate } from "./cli/validate.js";

/** Registered commands, in the order `proxy-wasm help` lists them. */
export const commands: Command[] = [build, packageImage, push, wasmplugin, run, validate];

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "usage: proxy-wasm <command> [options]",
    "",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `proxy-wasm <command> --help` for a command's options.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name ? 0 : 1;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    console.error(`proxy-wasm: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return cmd.run(rest);
}

const invokedDirectly = process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: Error) => {
      console.error(`proxy-wasm: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
