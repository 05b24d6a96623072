// Reads what the host needs from a Wasm binary before instantiating it: imports and exports with
// their function signatures (V8's JS API does not expose types without a flag), in binary order,
// and whether a `name` section is present (backtraces, proxy-wasm-abi.md §6.1).
import type { Signature, ValType } from "./abi.js";

export interface ImportInfo {
  module: string;
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
  /** For functions. */
  signature?: Signature;
  /** For memories (pages) and tables (elements). */
  limits?: { min: number; max?: number };
}

export interface ExportInfo {
  name: string;
  kind: "function" | "table" | "memory" | "global" | "tag";
  signature?: Signature;
}

export interface ModuleInfo {
  imports: ImportInfo[];
  /** In export-section order (the ABI marker is the first matching function export). */
  exports: ExportInfo[];
  hasNameSection: boolean;
  customSections: string[];
  /** Function index → name from the `name` section (for in-VM backtraces, like Envoy's). */
  functionNames: Map<number, string>;
  /** Number of imported functions (function indices start with them). */
  importedFunctionCount: number;
}

export class WasmFormatError extends Error {}

const valTypes: Record<number, ValType> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64" };
const kinds = ["function", "table", "memory", "global", "tag"] as const;

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.buf.length) throw new WasmFormatError("unexpected end of module");
    return this.buf[this.pos++]!;
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 35) throw new WasmFormatError("malformed LEB128");
    }
  }
  name(): string {
    const len = this.u32();
    if (this.pos + len > this.buf.length) throw new WasmFormatError("name runs past the end");
    const s = Buffer.from(this.buf.subarray(this.pos, this.pos + len)).toString("utf8");
    this.pos += len;
    return s;
  }
  skipLimits(): { min: number; max?: number } {
    const flags = this.byte();
    const min = this.u32();
    return flags & 1 ? { min, max: this.u32() } : { min };
  }
  valType(): ValType {
    const b = this.byte();
    const t = valTypes[b];
    if (!t) throw new WasmFormatError(`unsupported value type 0x${b.toString(16)}`);
    return t;
  }
}

export function readModuleInfo(bytes: Uint8Array): ModuleInfo {
  const r = new Reader(bytes);
  if (!(bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d)) {
    throw new WasmFormatError("not a WebAssembly module (missing \\0asm magic)");
  }
  r.pos = 8;
  const types: Signature[] = [];
  const funcTypeIndices: number[] = []; // imported functions first, then defined ones
  const imports: ImportInfo[] = [];
  const rawExports: Array<{ name: string; kind: ExportInfo["kind"]; index: number }> = [];
  const customSections: string[] = [];
  const functionNames = new Map<number, string>();
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) throw new WasmFormatError(`section ${id} runs past the end of the module`);
    switch (id) {
      case 0: {
        const name = r.name();
        customSections.push(name);
        if (name === "name") readFunctionNames(r, end, functionNames);
        break;
      }
      case 1: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const form = r.byte();
          if (form !== 0x60) throw new WasmFormatError(`unsupported type form 0x${form.toString(16)}`);
          const params = Array.from({ length: r.u32() }, () => r.valType());
          const results = Array.from({ length: r.u32() }, () => r.valType());
          types.push({ params, results });
        }
        break;
      }
      case 2: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const module = r.name();
          const name = r.name();
          const kind = kinds[r.byte()];
          if (!kind) throw new WasmFormatError(`unknown import kind for ${module}.${name}`);
          const info: ImportInfo = { module, name, kind };
          if (kind === "function") {
            const ti = r.u32();
            info.signature = types[ti];
            funcTypeIndices.push(ti);
          } else if (kind === "table") {
            r.byte();
            info.limits = r.skipLimits();
          } else if (kind === "memory") info.limits = r.skipLimits();
          else if (kind === "global") {
            r.byte();
            r.byte();
          } else {
            r.byte();
            r.u32();
          }
          imports.push(info);
        }
        break;
      }
      case 3: {
        const n = r.u32();
        for (let i = 0; i < n; i++) funcTypeIndices.push(r.u32());
        break;
      }
      case 7: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const name = r.name();
          const kind = kinds[r.byte()];
          if (!kind) throw new WasmFormatError(`unknown export kind for ${name}`);
          rawExports.push({ name, kind, index: r.u32() });
        }
        break;
      }
    }
    r.pos = end;
  }
  const exports: ExportInfo[] = rawExports.map((e) => {
    const info: ExportInfo = { name: e.name, kind: e.kind };
    if (e.kind === "function") {
      const ti = funcTypeIndices[e.index];
      if (ti === undefined || !types[ti]) throw new WasmFormatError(`export ${e.name} names a missing function`);
      info.signature = types[ti];
    }
    return info;
  });
  const importedFunctionCount = imports.filter((i) => i.kind === "function").length;
  return { imports, exports, hasNameSection: customSections.includes("name"), customSections, functionNames, importedFunctionCount };
}

// The name section's function-names subsection (id 1): a vector of (index, name). A malformed
// name section is ignored, as V8 ignores it (names are debug information only).
function readFunctionNames(r: Reader, end: number, out: Map<number, string>): void {
  const start = r.pos;
  try {
    while (r.pos < end) {
      const id = r.byte();
      const size = r.u32();
      const next = r.pos + size;
      if (id === 1) {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const index = r.u32();
          out.set(index, r.name());
        }
      }
      r.pos = next;
    }
  } catch (e) {
    if (!(e instanceof WasmFormatError)) throw e;
    out.clear();
  }
  r.pos = start;
}
