// The fuzz tests' shared step: fuzz one target with the fixed test seed (corpus replay first) and
// fail with every finding — seed, case number, what broke, where the input was saved.
import assert from "node:assert/strict";
import { describeFindings, fuzzTarget, testSeed } from "./campaign.js";
import { defaultCorpusDir } from "./corpus.js";

export async function assertNoFindings(target: string, count: number): Promise<void> {
  const seed = testSeed();
  const { replayed, generated } = await fuzzTarget(target, { seed, count, corpusDir: defaultCorpusDir });
  const findings = [...(replayed?.findings ?? []), ...generated.findings];
  assert.equal(findings.length, 0, `fuzzing ${target} (seed ${seed}) found:\n${[replayed, generated].filter((r) => r !== null).map((r) => describeFindings(r!)).filter(Boolean).join("\n")}`);
  assert.equal(generated.cases, count, `${target}: ${generated.cases} of ${count} cases ran`);
  // A target whose every input is refused only exercises its first checks.
  assert.ok(generated.accepted > 0, `${target}: none of ${count} cases was accepted`);
}
