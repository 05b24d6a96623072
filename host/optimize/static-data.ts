// Makes a module's static data smaller without moving anything in it.
//
// AssemblyScript lays out every string literal as a runtime object: a 20-byte header (TLSF's
// mmInfo, the collector's two words, class id, byte length) then the UTF-16 text. Binaryen's
// memory packing drops zero runs, so each literal ends up as two data segments: the mmInfo word
// alone, then class id, length and text. mmInfo only matters for blocks on the heap (TLSF, and
// itcms' __renew/free, which never see an object below __heap_base; strings are immutable, so
// nothing renews one), so here it is zeroed and every literal becomes one segment.
//
// In release builds the module's abort handler (assembly/runtime/abort.ts) never prints the
// source file name AssemblyScript passes it, so those arguments become null, and a literal that
// nothing refers to any more (the file names) is dropped from the data altogether. "Refers to"
// is judged before Binaryen optimizes, when every use of a literal is an i32.const of an address
// inside it, in code, in a global's initializer, or in another object of the static data.
//
// The literals that remain are then handed to packed-strings.ts, which stores the Latin-1 ones at
// one byte per character.
//
// Runs as an AssemblyScript transform at afterCompile: the segments are still one per object.
import binaryen from "binaryen";
import { type ExpressionRef, UnknownExpression, api, forEachExpression, walk } from "./expression-tree.js";
import { packStrings } from "./packed-strings.js";

/** What the transform learns at afterInitialize. */
export interface ProgramFacts {
  /** Class id of String (its runtime header's rtId). */
  stringClassId: number;
  /** False for optimizeLevel 0, where the abort handler prints "at <file>:<line>:<column>". */
  stripAbortFileNames: boolean;
}

export interface StaticDataStats {
  strings: number;
  headersCleared: number;
  unreferencedDropped: number;
  bytesDropped: number;
  /** Literals stored one byte per character (packed-strings.ts). */
  packed: number;
}

/** Runtime header: mmInfo, gcInfo, gcInfo2, rtId, rtSize (wasm32). */
const HEADER_SIZE = 20;
const RT_ID = 12;
const RT_SIZE = 16;
/** The three header words before rtId that a static string does not need (see above). */
const CLEARED_PREFIX = 12;
const ABORT_HANDLER = /(^|\/)__proxy_abort$/;
const MEMORY = "0";

interface Segment {
  offset: number;
  data: Uint8Array;
}

export function compactStaticData(module: binaryen.Module, facts: ProgramFacts): StaticDataStats {
  const stats: StaticDataStats = { strings: 0, headersCleared: 0, unreferencedDropped: 0, bytesDropped: 0, packed: 0 };
  if (!module.hasMemory()) return stats;
  const memory = module.getMemoryInfo(MEMORY);
  if (memory.module || memory.is64) return stats;
  const segments: Segment[] = [];
  for (let i = 0, n = module.getNumMemorySegments(); i < n; i++) {
    const info = module.getMemorySegmentInfoByIndex(i);
    if (info.passive) return stats;
    // binaryen.js gives the byte offset itself here, not an expression (its typings say otherwise).
    segments.push({ offset: (info.offset as number) >>> 0, data: new Uint8Array(info.data) });
  }

  let referenced: number[];
  try {
    if (facts.stripAbortFileNames) dropAbortFileNames(module);
    referenced = referencedAddresses(module, segments);
  } catch (e) {
    // Code this pass cannot read could refer to any literal: leave the data as it is.
    if (e instanceof UnknownExpression) return stats;
    throw e;
  }
  referenced.sort((a, b) => a - b);
  const kept: Segment[] = [];
  const strings: Segment[] = [];
  for (const segment of segments) {
    if (!isStaticString(segment, facts.stringClassId)) {
      kept.push(segment);
      continue;
    }
    stats.strings++;
    if (!referencesInto(referenced, segment.offset, segment.offset + segment.data.length)) {
      stats.unreferencedDropped++;
      stats.bytesDropped += segment.data.length;
      continue;
    }
    strings.push(segment);
  }
  const packing = packStrings(module, strings.map(literalOf), facts.stringClassId);
  if (packing !== null) {
    kept.push(packing.blob);
    stats.packed = packing.packed.size;
  }
  for (const segment of strings) {
    if (packing?.packed.has(segment.offset + HEADER_SIZE)) continue;
    stats.headersCleared++;
    kept.push({ offset: segment.offset + CLEARED_PREFIX, data: segment.data.subarray(CLEARED_PREFIX) });
  }
  module.setMemory(
    memory.initial, memory.max ?? -1, null,
    kept.map((s) => ({ offset: module.i32.const(s.offset), data: s.data, passive: false })),
    memory.shared, false, MEMORY,
  );
  return stats;
}

/** Whether any of the sorted `addresses` falls in [from, to]. */
function referencesInto(addresses: number[], from: number, to: number): boolean {
  let lo = 0;
  let hi = addresses.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (addresses[mid] < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < addresses.length && addresses[lo] <= to;
}

function literalOf({ offset, data }: Segment): { payload: number; units: Uint16Array } {
  const units = new Uint16Array(u32(data, RT_SIZE) / 2);
  for (let i = 0; i < units.length; i++) units[i] = data[HEADER_SIZE + 2 * i] | (data[HEADER_SIZE + 2 * i + 1] << 8);
  return { payload: offset + HEADER_SIZE, units };
}

function u32(data: Uint8Array, at: number): number {
  return (data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24)) >>> 0;
}

/**
 * A String object exactly as AssemblyScript lays out a literal: the whole TLSF block (4 bytes of
 * mmInfo plus mmInfo bytes), the collector's words zero, then rtSize bytes of text and zero padding.
 */
function isStaticString({ data }: Segment, stringClassId: number): boolean {
  if (data.length < HEADER_SIZE) return false;
  const mmInfo = u32(data, 0);
  const rtSize = u32(data, RT_SIZE);
  if (u32(data, RT_ID) !== stringClassId || data.length !== 4 + mmInfo || (mmInfo & 3) !== 0) return false;
  if (u32(data, 4) !== 0 || u32(data, 8) !== 0 || (rtSize & 1) !== 0 || HEADER_SIZE + rtSize > data.length) return false;
  return data.subarray(HEADER_SIZE + rtSize).every((b) => b === 0);
}

/** Replaces the file-name argument of every call to the abort handler with null. */
function dropAbortFileNames(module: binaryen.Module): void {
  forEachExpression(module, (expr) => {
    if (binaryen.getExpressionId(expr) !== binaryen.CallId) return;
    if (!ABORT_HANDLER.test(api.Call.getTarget(expr)) || api.Call.getNumOperands(expr) !== 4) return;
    if (binaryen.getExpressionId(api.Call.getOperandAt(expr, 1)) !== binaryen.ConstId) return;
    api.Call.setOperandAt(expr, 1, module.i32.const(0));
  });
}

/** Every i32 constant in code and global initializers, and every aligned word in the data. */
function referencedAddresses(module: binaryen.Module, segments: Segment[]): number[] {
  const out = new Set<number>();
  const note = (expr: ExpressionRef): void => {
    if (binaryen.getExpressionId(expr) === binaryen.ConstId && binaryen.getExpressionType(expr) === binaryen.i32) {
      out.add(api.Const.getValueI32(expr) >>> 0);
    }
  };
  forEachExpression(module, note);
  for (let i = 0, n = module.getNumGlobals(); i < n; i++) {
    const init = binaryen.getGlobalInfo(module.getGlobalByIndex(i)).init;
    if (init) walk(init, note);
  }
  for (const { offset, data } of segments) {
    for (let at = (4 - (offset & 3)) & 3; at + 4 <= data.length; at += 4) out.add(u32(data, at));
  }
  return [...out];
}

