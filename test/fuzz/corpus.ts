// The fuzz corpus: every failing input is saved as test/fuzz/corpus/<target>/<kind>-<seed>-<case>.bin
// (the exact bytes) with a .txt beside it (what failed, and how to replay it). Every run of the
// fuzz tests replays the whole corpus first, so a fixed bug stays fixed.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { projectRoot } from "../support/modules.js";

export const defaultCorpusDir = join(projectRoot, "test", "fuzz", "corpus");

export interface SavedInput {
  file: string;
  input: Uint8Array;
}

export function saveFailingInput(
  dir: string,
  f: { target: string; seed: number; index: number; kind: string; message: string; input: Uint8Array },
): string {
  const targetDir = join(dir, f.target);
  mkdirSync(targetDir, { recursive: true });
  // Zero-padded case numbers keep the files in case order.
  const base = join(targetDir, `${f.kind}-${f.seed}-${String(f.index).padStart(8, "0")}`);
  writeFileSync(`${base}.bin`, f.input);
  writeFileSync(
    `${base}.txt`,
    `target ${f.target}, seed ${f.seed}, case ${f.index}: ${f.kind}\n${f.message}\n\n` +
      `replay: node dist/test/fuzz/run.js --replay ${relative(projectRoot, base)}.bin\n` +
      `regenerate: node dist/test/fuzz/run.js --target ${f.target} --seed ${f.seed} --case ${f.index}\n`,
  );
  return `${base}.bin`;
}

/** The saved inputs of one target, in file-name order. */
export function corpusInputs(dir: string, target: string): SavedInput[] {
  const targetDir = join(dir, target);
  if (!existsSync(targetDir)) return [];
  return readdirSync(targetDir)
    .filter((f) => f.endsWith(".bin"))
    .sort()
    .map((f) => ({ file: join(targetDir, f), input: new Uint8Array(readFileSync(join(targetDir, f))) }));
}
