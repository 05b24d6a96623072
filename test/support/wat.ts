// Assembles WebAssembly text (WAT) into a binary with the `wabt` package, keeping the name section
// (so traps get Envoy-style backtraces). Results are cached per text, so a suite can assemble the
// same module in many tests for free.
import { createRequire } from "node:module";

type WabtModule = {
  parseWat(filename: string, text: string, features?: Record<string, boolean>): {
    resolveNames(): void;
    validate(): void;
    toBinary(options: { write_debug_names?: boolean; log?: boolean }): { buffer: Uint8Array };
    destroy(): void;
  };
};

const require = createRequire(import.meta.url);
let wabt: Promise<WabtModule> | undefined;
const cache = new Map<string, Uint8Array>();

/** Assembles `text`; throws with wabt's message (file name "module.wat") on a syntax error. */
export async function wat(text: string, options: { names?: boolean } = {}): Promise<Uint8Array> {
  const key = `${options.names === false ? "0" : "1"}${text}`;
  const hit = cache.get(key);
  if (hit) return hit;
  wabt ??= (require("wabt") as () => Promise<WabtModule>)();
  const m = (await wabt).parseWat("module.wat", text, { multi_value: true, bulk_memory: true, mutable_globals: true, sign_extension: true });
  try {
    m.resolveNames();
    m.validate();
    const bytes = Uint8Array.from(m.toBinary({ write_debug_names: options.names !== false, log: false }).buffer);
    cache.set(key, bytes);
    return bytes;
  } finally {
    m.destroy();
  }
}
