// Helpers for the migration tests: an emulator with one module loaded, and the text a module
// logged under a "<topic>: " prefix.
import { Emulator, type EmulatedPlugin, type EmulatorOptions, type PluginOptions } from "../../host/emulator/index.js";
import type { LogLevel } from "../../host/envoy/server-context.js";
import { moduleBytes } from "../support/modules.js";

/** Messages logged as "<topic>: <text>" (at `level`), in order, without the prefix. */
export function said(emulator: Emulator, topic: string, level?: LogLevel): string[] {
  const prefix = `${topic}: `;
  return emulator
    .logs(level)
    .map((line) => /^wasm log[^:]*: ([\s\S]*)$/.exec(line)?.[1] ?? line)
    .filter((m) => m.startsWith(prefix))
    .map((m) => m.slice(prefix.length));
}

/** A fresh emulator with module `name` loaded as one plugin. */
export async function loadModule(
  name: string,
  plugin: Omit<PluginOptions, "wasm">,
  options: EmulatorOptions = {},
): Promise<{ emulator: Emulator; plugin: EmulatedPlugin }> {
  const emulator = new Emulator(options);
  const loaded = await emulator.loadPlugin({ wasm: await moduleBytes(name), ...plugin });
  return { emulator, plugin: loaded };
}

export const request = (path = "/", extra: Record<string, string> = {}): Record<string, string> => ({
  ":method": "GET",
  ":path": path,
  ":authority": "example.com",
  ":scheme": "http",
  ...extra,
});
