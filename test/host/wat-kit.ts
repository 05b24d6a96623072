// Builds small hand-written WAT probe modules for the host conformance tests: imports declared
// with the exact signatures of host/wasm/abi.ts, callbacks given as WAT bodies, static strings at
// known addresses, and a bump allocator that counts its calls.
//
// Memory map of a probe:
//   16   u32 number of allocator calls       20  u32 size of the last allocation
//   64…  static strings (address/length via `$S(name)`, `$P(name)`, `$L(name)` in bodies)
//   2048… results written by the bodies (read back with plugin.readU32 / readMemory)
//   8192… heap of the bump allocator
import { hostImports, moduleExports, type AbiVersion, type Signature } from "../../host/wasm/abi.js";
import { Emulator, type EmulatedPlugin, type PluginOptions } from "../../host/emulator/index.js";
import { encodePairs } from "../../host/wasm/pairs.js";
import { wat } from "../support/wat.js";

export const ALLOC_COUNT = 16;
export const ALLOC_LAST_SIZE = 20;
/** Result slots: RES + 4*i. */
export const RES = 2048;
export const res = (i: number): number => RES + 4 * i;
export const HEAP = 8192;

export interface ProbeOptions {
  abi?: AbiVersion;
  /** Host functions to import from "env" (full names, e.g. "proxy_log"). */
  imports?: string[];
  /** WASI functions to import from wasi_snapshot_preview1. */
  wasi?: string[];
  /** Static data placed from address 64 on. */
  strings?: Record<string, string | Uint8Array>;
  /** Export name → body; params/result come from the ABI table (locals: declare in the body). */
  callbacks?: Record<string, string>;
  /** Extra module fields, verbatim. */
  extra?: string;
  /** Which allocator export to provide (default malloc); "zero" returns 0 (allocation failure). */
  allocator?: "malloc" | "proxy_on_memory_allocate" | "none" | "zero";
  memoryPages?: number;
  /** Leave out the ABI marker export. */
  noMarker?: boolean;
}

const valTypes = (s: Signature): string =>
  `${s.params.length ? `(param ${s.params.join(" ")})` : ""} ${s.results.length ? `(result ${s.results.join(" ")})` : ""}`;

function escapeData(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
  return [...bytes].map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("");
}

/** WAT text of a probe module. */
export function probeText(o: ProbeOptions): string {
  const abi = o.abi ?? "0.2.1";
  const table = hostImports(abi);
  const exportsTable = moduleExports(abi);
  const layout = new Map<string, [number, number]>();
  let addr = 64;
  const data: string[] = [];
  for (const [name, value] of Object.entries(o.strings ?? {})) {
    const bytes = typeof value === "string" ? Buffer.from(value, "latin1") : value;
    layout.set(name, [addr, bytes.length]);
    data.push(`(data (i32.const ${addr}) "${escapeData(bytes)}")`);
    addr += bytes.length + 8;
  }
  if (addr > RES) throw new Error("probe strings overflow into the result area");
  const expand = (body: string): string =>
    body.replace(/\$([SPL])\(([^)]+)\)/g, (_, kind: string, name: string) => {
      const l = layout.get(name);
      if (!l) throw new Error(`probe body refers to unknown string ${name}`);
      return kind === "S" ? `(i32.const ${l[0]}) (i32.const ${l[1]})` : `(i32.const ${kind === "P" ? l[0] : l[1]})`;
    });
  const lines: string[] = ["(module"];
  for (const name of o.imports ?? []) {
    const sig = table.get(`env.${name}`);
    if (!sig) throw new Error(`no host function env.${name} in ABI ${abi}`);
    lines.push(`  (import "env" "${name}" (func $${name} ${valTypes(sig)}))`);
  }
  for (const name of o.wasi ?? []) {
    const sig = table.get(`wasi_snapshot_preview1.${name}`)!;
    lines.push(`  (import "wasi_snapshot_preview1" "${name}" (func $${name} ${valTypes(sig)}))`);
  }
  lines.push(`  (memory (export "memory") ${o.memoryPages ?? 2})`);
  lines.push(`  (global $heap (mut i32) (i32.const ${HEAP}))`);
  lines.push(...data.map((d) => `  ${d}`));
  if (!o.noMarker) lines.push(`  (func (export "proxy_abi_version_${abi.replace(/\./g, "_")}"))`);
  const allocator = o.allocator ?? "malloc";
  if (allocator !== "none") {
    const name = allocator === "zero" ? "malloc" : allocator;
    const ret = allocator === "zero" ? "(i32.const 0)" : "(local.get $p)";
    lines.push(`  (func $alloc (export "${name}") (param $n i32) (result i32) (local $p i32)
    (i32.store (i32.const ${ALLOC_COUNT}) (i32.add (i32.load (i32.const ${ALLOC_COUNT})) (i32.const 1)))
    (i32.store (i32.const ${ALLOC_LAST_SIZE}) (local.get $n))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (global.get $heap) (local.get $n)) (i32.const 7)) (i32.const -8)))
    ${ret})`);
  }
  for (const [name, body] of Object.entries(o.callbacks ?? {})) {
    const sig = exportsTable.get(name);
    if (!sig) throw new Error(`${name} is not a callback the host looks up in ABI ${abi}`);
    lines.push(`  (func (export "${name}") ${valTypes(sig)}\n    ${expand(body)})`);
  }
  if (o.extra) lines.push(expand(o.extra));
  lines.push(")");
  return lines.join("\n");
}

export async function probe(o: ProbeOptions): Promise<Uint8Array> {
  return wat(probeText(o));
}

/** Serialized header pairs (§5.1) as a probe string. */
export const pairs = (entries: Array<[string, string]>): Uint8Array => encodePairs(entries);

/** An emulator with one probe plugin loaded (worker 0), the usual setup of a conformance test. */
export async function loadProbe(
  o: ProbeOptions,
  plugin: Partial<PluginOptions> = {},
  emulator: Emulator = new Emulator({ logLevel: "trace", clusters: ["cluster_a"] }),
): Promise<{ emu: Emulator; plugin: EmulatedPlugin }> {
  const p = await emulator.loadPlugin({ name: "probe", rootId: "probe_root", vmId: "probe_vm", ...plugin, wasm: await probe(o) });
  return { emu: emulator, plugin: p };
}

/** Reads a ptr/len pair written by the host at `ptrSlot`/`lenSlot` and returns the bytes. */
export function readOut(plugin: EmulatedPlugin, ptrSlot: number, lenSlot: number, worker = 0): Buffer {
  const ptr = plugin.readU32(ptrSlot, worker);
  const len = plugin.readU32(lenSlot, worker);
  return len === 0 ? Buffer.alloc(0) : plugin.readMemory(ptr, len, worker);
}

/** Standard request headers for a test stream. */
export const requestHeaders = { ":method": "GET", ":path": "/path?q=1", ":authority": "example.com", ":scheme": "http" };
