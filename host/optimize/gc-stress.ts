// A build mode for testing memory safety (PROXY_WASM_AS_GC_STRESS=1 with host/build.ts): the
// incremental collector runs a whole cycle at every allocation, from the first one, instead of now
// and then, and every freed block is overwritten with 0xAB bytes. A managed value that the collector cannot
// see (a missing shadow-stack spill) or a raw block read after heap.free then shows up at once as
// a corrupted value or an out-of-bounds trap, instead of once in a blue moon in production.
import binaryen from "binaryen";
import { api } from "./expression-tree.js";

/**
 * asc options: a full cycle whenever the collector is interrupted (itcms reads its step budget from
 * ASC_GC_SWEEPFACTOR), and the next interrupt 16 bytes later. itcms's first interrupt still waits
 * until half the initial memory is allocated, which a short test never reaches: collectOnEveryNew
 * removes that wait.
 */
export const GC_STRESS_OPTIONS = [
  "--use", "ASC_GC_GRANULARITY=16", "--use", "ASC_GC_SWEEPFACTOR=1000000000", "--use", "ASC_GC_IDLEFACTOR=100",
];

const FREE_BLOCK = "~lib/rt/tlsf/freeBlock";
const NEW = "~lib/rt/itcms/__new";
const THRESHOLD = "~lib/rt/itcms/threshold";
/** TLSF's block header (mmInfo) before the payload; the payload size is mmInfo without its 2 tag bits. */
const BLOCK_OVERHEAD = 4;
const POISON = 0xab;

/** Makes TLSF's freeBlock(root, block) fill the block's payload with POISON first. */
export function poisonFreedBlocks(module: binaryen.Module): void {
  const func = module.getFunction(FREE_BLOCK);
  if (!func) throw new Error(`GC stress: ${FREE_BLOCK} not found (not the incremental runtime?)`);
  const body = binaryen.getFunctionInfo(func).body;
  const block = (): number => module.local.get(1, binaryen.i32);
  const size = module.i32.and(module.i32.load(0, 4, block()), module.i32.const(~3));
  const fill = module.memory.fill(module.i32.add(block(), module.i32.const(BLOCK_OVERHEAD)), module.i32.const(POISON), size);
  api.Function.setBody(func, module.block(null, [fill, body], binaryen.none));
}

/** Makes itcms's __new start by zeroing its threshold, so that every allocation runs a collection. */
export function collectOnEveryNew(module: binaryen.Module): void {
  const func = module.getFunction(NEW);
  if (!func) throw new Error(`GC stress: ${NEW} not found (not the incremental runtime?)`);
  if (!module.getGlobal(THRESHOLD)) throw new Error(`GC stress: ${THRESHOLD} not found (AssemblyScript's itcms changed?)`);
  const body = binaryen.getFunctionInfo(func).body;
  const reset = module.global.set(THRESHOLD, module.i32.const(0));
  api.Function.setBody(func, module.block(null, [reset, body], binaryen.getExpressionType(body)));
}

/** Both stress transforms, in the order host/build.ts applies them after its own passes. */
export function applyGcStress(module: binaryen.Module): void {
  collectOnEveryNew(module);
  poisonFreedBlocks(module);
}
