// Points AssemblyScript's collector (itcms) at the SDK's free lists of small blocks
// (assembly/runtime/block-pool.ts) instead of TLSF: its __new allocates through poolAlloc and its
// sweep frees through poolFree. Nothing else changes: raw blocks (heap.alloc/heap.free) still go
// to TLSF directly.
//
// assembly/exports.ts exports the two functions only so that AssemblyScript compiles them; this
// pass removes those exports, so that each is left with one caller and Binaryen inlines it (taking
// their addresses instead would keep them in the function table, out of the inliner's reach). A
// module built without this pass (plain asc) keeps TLSF and two exports nothing calls.
//
// Runs at afterCompile, before Binaryen optimizes. Under GC stress the collector keeps TLSF (whose
// freeBlock poisons what is freed) and only the exports go, so that a module's ABI surface is the
// same in both builds.
import binaryen from "binaryen";
import { api, forEachExpression } from "./expression-tree.js";

const COLLECTOR = "~lib/rt/itcms/";
/** TLSF's entry points, with the export of the SDK function that replaces each. */
const REDIRECTS: ReadonlyMap<string, string> = new Map([
  ["~lib/rt/tlsf/__alloc", "__pool_alloc"],
  ["~lib/rt/tlsf/__free", "__pool_free"],
]);

/**
 * Redirects the collector's allocations to the SDK's pool (unless `redirect` is false) and removes
 * the pool's exports; a no-op for a module without the SDK.
 */
export function poolCollectorBlocks(module: binaryen.Module, redirect = true): void {
  const targets = new Map<string, string>();
  for (const [from, exported] of REDIRECTS) {
    const ref = module.getExport(exported);
    if (!ref) return;
    const info = binaryen.getExportInfo(ref);
    if (info.kind !== binaryen.ExternalFunction) throw new Error(`block pool: export ${exported} is not a function`);
    if (!module.getFunction(from)) throw new Error(`block pool: ${from} not found (not the incremental runtime?)`);
    targets.set(from, info.value);
  }
  if (redirect) {
    forEachExpression(
      module,
      (expr) => {
        if (binaryen.getExpressionId(expr) !== binaryen.CallId) return;
        const to = targets.get(api.Call.getTarget(expr));
        if (to !== undefined) api.Call.setTarget(expr, to);
      },
      (name) => name.startsWith(COLLECTOR),
    );
  }
  for (const exported of REDIRECTS.values()) module.removeExport(exported);
}
