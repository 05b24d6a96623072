// The AssemblyScript transforms host/build.ts applies to every module it compiles.
import binaryen from "binaryen";
import { poolCollectorBlocks } from "./block-pool.js";
import { applyGcStress } from "./gc-stress.js";
import { elideShadowStack } from "./shadow-stack.js";
import { type ProgramFacts, compactStaticData } from "./static-data.js";
import { removeUnusedCallbacks } from "./unused-callbacks.js";

export interface TransformOptions {
  /** Collect at every allocation and poison freed blocks (see gc-stress.ts); the caller adds GC_STRESS_OPTIONS to asc's arguments. */
  gcStress?: boolean;
}

/**
 * Functions Binaryen must never inline (binaryen's no-inline pass, wildcard patterns). The SDK's
 * event dispatchers (assembly/exports.ts) are each shared by several exports; once they lost their
 * shadow-stack frames they became small enough for -O3 to copy into every export, which costs
 * hundreds of bytes (the add-header example's budget is 8 KiB) to save one call per event.
 */
const NEVER_INLINED = ["*assembly/exports/on*Event"];

/** The parts of AssemblyScript's Program the passes need (its typings are not part of our build). */
export interface Program {
  options: { optimizeLevelHint: number };
  stringInstance: { id: number };
}

export function programFacts(program: Program): ProgramFacts {
  return {
    stringClassId: program.stringInstance.id,
    // assembly/runtime/abort.ts prints the file name only when ASC_OPTIMIZE_LEVEL is 0.
    stripAbortFileNames: program.options.optimizeLevelHint > 0,
  };
}

/**
 * afterInitialize notes what the passes need to know about the program; afterCompile runs them,
 * after AssemblyScript's own passes (ShadowStackPass included) and before Binaryen optimizes.
 */
class SizePasses {
  private facts: ProgramFacts | null = null;

  constructor(private readonly options: TransformOptions) {}

  afterInitialize(program: Program): void {
    this.facts = programFacts(program);
  }

  afterCompile(module: binaryen.Module): void {
    removeUnusedCallbacks(module);
    elideShadowStack(module);
    if (this.facts) compactStaticData(module, this.facts);
    poolCollectorBlocks(module, !this.options.gcStress);
    if (this.options.gcStress) applyGcStress(module);
    markNeverInlined(module);
  }
}

function markNeverInlined(module: binaryen.Module): void {
  for (const pattern of NEVER_INLINED) {
    binaryen.setPassArgument("no-inline", pattern);
    module.runPasses(["no-inline"]);
  }
  binaryen.clearPassArguments();
}

export function buildTransforms(options: TransformOptions = {}): object[] {
  return [new SizePasses(options)];
}
