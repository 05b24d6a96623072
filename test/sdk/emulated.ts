// Helpers for the SDK's emulator tests: load an SDK test module, read what it logged.
import { Emulator, type EmulatedPlugin, type EmulatorOptions, type PluginOptions } from "../../host/emulator/index.js";
import type { LogLevel } from "../../host/envoy/server-context.js";
import { moduleBytes } from "../support/modules.js";

/** The module's own text of each "wasm log <prefix>: <message>" line. */
export function messages(emulator: Emulator, level?: LogLevel): string[] {
  return emulator.logs(level).map((line) => {
    const m = /^wasm log[^:]*: ([\s\S]*)$/.exec(line);
    return m ? m[1]! : line;
  });
}

/** Messages starting with "<topic>: ", without that prefix. */
export function said(emulator: Emulator, topic: string, level: LogLevel = "info"): string[] {
  return messages(emulator, level)
    .filter((m) => m.startsWith(`${topic}: `))
    .map((m) => m.slice(topic.length + 2));
}

/** A fresh emulator with one SDK test module (test/sdk/modules/<name>) loaded. */
export async function loadModule(
  name: string,
  plugin: Omit<PluginOptions, "wasm"> = {},
  options: EmulatorOptions = {},
): Promise<{ emulator: Emulator; plugin: EmulatedPlugin }> {
  const emulator = new Emulator(options);
  const loaded = await emulator.loadPlugin({ wasm: await moduleBytes(name), ...plugin });
  return { emulator, plugin: loaded };
}

export const latin1 = (s: string): string => Buffer.from(s, "utf8").toString("latin1");
