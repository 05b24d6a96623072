// Stores string literals at half their size: AssemblyScript strings are UTF-16, but the literals
// of a filter (names, keys, messages) are nearly all Latin-1, one byte per character. They are
// taken out of the data segments and written, one byte per character, into one blob; a small
// function added to the start function (`_initialize`, which Envoy runs first in every VM
// instance, proxy-wasm-abi.md §6.1) writes each literal back, header and UTF-16 text, at the
// address the code expects, before anything reads it. Literals with other characters stay as
// they were.
//
// The blob lives in the shadow stack's region (between __data_end and __heap_base): nothing uses
// that memory before the start function pushes its first frame, and the stack never needs its
// contents (every frame is zeroed when pushed; the collector scans only the live part).
//
// Blob format, one entry per literal in address order: LEB128 of (payload address - previous
// payload address) / 16 (AssemblyScript aligns every object's payload to 16 bytes), LEB128 of the
// length in characters, then the characters.
import binaryen from "binaryen";
import { api } from "./expression-tree.js";

export interface StringLiteral {
  /** Address of the text (the object's payload), 16-byte aligned. */
  payload: number;
  /** The UTF-16 code units. */
  units: Uint16Array;
}

const START = "~start";
const DATA_END = "~lib/memory/__data_end";
const HEAP_BASE = "~lib/memory/__heap_base";
const EXPAND = "~lib/packed-strings/expand";
const EXPANDED = "~lib/packed-strings/expanded";
/** Room the start function's own frames may take at the top of the stack before expanding. */
const STACK_HEADROOM = 4096;
/** Bytes the expanding function adds (measured), and what a string left in a segment costs beyond its text. */
const EXPANDER_BYTES = 230;
const SEGMENT_BYTES = 6;
const HEADER_BYTES = 8;

export interface PackedStrings {
  /** Payload addresses of the literals packed: their segments must go. */
  packed: Set<number>;
  /** The segment to add in their place. */
  blob: { offset: number; data: Uint8Array };
}

/** Packs the Latin-1 literals among `literals` if that makes the module smaller; null if not. */
export function packStrings(module: binaryen.Module, literals: StringLiteral[], stringClassId: number): PackedStrings | null {
  const packable = literals.filter((l) => l.payload % 16 === 0 && l.units.every((u) => u < 256)).sort((a, b) => a.payload - b.payload);
  const start = module.getFunction(START);
  const dataEnd = constantGlobal(module, DATA_END);
  const heapBase = constantGlobal(module, HEAP_BASE);
  if (packable.length === 0 || !start || dataEnd === null || heapBase === null) return null;

  const blob: number[] = [];
  let previous = 0;
  for (const l of packable) {
    leb128(blob, (l.payload - previous) / 16);
    leb128(blob, l.units.length);
    for (const u of l.units) blob.push(u);
    previous = l.payload;
  }
  const before = packable.reduce((n, l) => n + SEGMENT_BYTES + HEADER_BYTES + 2 * l.units.length, 0);
  const after = blob.length + SEGMENT_BYTES + EXPANDER_BYTES;
  const at = (dataEnd + 15) & ~15;
  if (after >= before || at + blob.length + STACK_HEADROOM > heapBase) return null;

  addExpander(module, at, blob.length, stringClassId);
  // First thing in the start function, before its own frame is pushed.
  const info = binaryen.getFunctionInfo(start);
  api.Function.setBody(start, module.block(null, [module.call(EXPAND, [], binaryen.none), info.body], info.results));
  return { packed: new Set(packable.map((l) => l.payload)), blob: { offset: at, data: Uint8Array.from(blob) } };
}

function leb128(out: number[], value: number): void {
  do {
    const byte = value & 0x7f;
    value >>>= 7;
    out.push(value !== 0 ? byte | 0x80 : byte);
  } while (value !== 0);
}

function constantGlobal(module: binaryen.Module, name: string): number | null {
  const global = module.getGlobal(name);
  if (!global) return null;
  const init = binaryen.getGlobalInfo(global).init;
  return binaryen.getExpressionId(init) === binaryen.ConstId ? api.Const.getValueI32(init) >>> 0 : null;
}

/** `expand()`: once per instance, decode the blob at `blobAt` into the literals. */
function addExpander(module: binaryen.Module, blobAt: number, blobSize: number, stringClassId: number): void {
  const i32 = binaryen.i32;
  const [P, ADDR, LEN, VALUE, SHIFT, BYTE, I] = [0, 1, 2, 3, 4, 5, 6];
  const get = (l: number) => module.local.get(l, i32);
  const set = (l: number, v: number) => module.local.set(l, v);
  const c = (n: number) => module.i32.const(n);
  // LEB128 at P into `target`, advancing P.
  const readLeb = (target: number, label: string) => module.block(null, [
    set(VALUE, c(0)),
    set(SHIFT, c(0)),
    module.loop(label, module.block(null, [
      set(BYTE, module.i32.load8_u(0, 1, get(P))),
      set(P, module.i32.add(get(P), c(1))),
      set(VALUE, module.i32.or(get(VALUE), module.i32.shl(module.i32.and(get(BYTE), c(0x7f)), get(SHIFT)))),
      set(SHIFT, module.i32.add(get(SHIFT), c(7))),
      module.br(label, module.i32.and(get(BYTE), c(0x80))),
    ])),
    set(target, get(VALUE)),
  ]);
  module.addGlobal(EXPANDED, i32, true, c(0));
  const body = module.block("done", [
    module.br("done", module.global.get(EXPANDED, i32)),
    module.global.set(EXPANDED, c(1)),
    set(P, c(blobAt)),
    module.loop("entries", module.block(null, [
      module.br("done", module.i32.ge_u(get(P), c(blobAt + blobSize))),
      readLeb(VALUE, "delta"),
      set(ADDR, module.i32.add(get(ADDR), module.i32.shl(get(VALUE), c(4)))),
      readLeb(LEN, "length"),
      module.i32.store(0, 4, module.i32.sub(get(ADDR), c(8)), c(stringClassId)),
      module.i32.store(0, 4, module.i32.sub(get(ADDR), c(4)), module.i32.shl(get(LEN), c(1))),
      set(I, c(0)),
      module.block("text", [
        module.loop("char", module.block(null, [
          module.br("text", module.i32.ge_u(get(I), get(LEN))),
          module.i32.store16(0, 2, module.i32.add(get(ADDR), module.i32.shl(get(I), c(1))),
            module.i32.load8_u(0, 1, module.i32.add(get(P), get(I)))),
          set(I, module.i32.add(get(I), c(1))),
          module.br("char"),
        ])),
      ]),
      set(P, module.i32.add(get(P), get(LEN))),
      module.br("entries"),
    ])),
  ]);
  module.addFunction(EXPAND, binaryen.none, binaryen.none, [i32, i32, i32, i32, i32, i32, i32], body);
}
