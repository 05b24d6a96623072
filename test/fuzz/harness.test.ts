// The fuzzing harness catches what it is for, on a real Wasm module (targets/selftest.ts): a case
// that loops forever is stopped at the deadline and reported as a hang with its seed and case
// number, its input is saved for replay, and the campaign carries on after it; a trap is reported
// with its input; replaying the saved input reproduces the finding.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { runCampaign } from "./campaign.js";
import { corpusInputs } from "./corpus.js";
import { Prng } from "./prng.js";
import { targetByName } from "./targets/index.js";

const corpusDir = mkdtempSync(join(tmpdir(), "fuzz-corpus-"));
after(() => rmSync(corpusDir, { recursive: true, force: true }));

/** Case numbers of `seed` whose input starts with `byte`, among the first `count`. */
function triggering(target: string, seed: number, count: number, byte: number): number[] {
  const t = targetByName(target);
  return Array.from({ length: count }, (_, i) => i).filter((i) => t.generate(Prng.forCase(seed, target, i)).input[0] === byte);
}

describe("fuzzing harness", () => {
  test("an endless loop is a hang at the deadline: reported with its case, saved, and the campaign goes on", async () => {
    const seed = 7;
    const expected = triggering("selftest-hang", seed, 60, 0x42);
    assert.ok(expected.length >= 2, "the self-test generator triggers a few times in 60 cases");
    const started = Date.now();
    const r = await runCampaign({ target: "selftest-hang", seed, count: 60, corpusDir, maxFindings: 10 });
    assert.deepEqual(r.findings.map((f) => [f.kind, f.index]), expected.map((i) => ["hang", i]));
    assert.equal(r.cases, 60, "every case ran, the ones after each hang too");
    assert.ok(Date.now() - started < 30_000);
    const saved = corpusInputs(corpusDir, "selftest-hang");
    assert.equal(saved.length, expected.length);
    assert.equal(saved[0]!.input[0], 0x42);
    assert.match(readFileSync(saved[0]!.file.replace(/\.bin$/, ".txt"), "utf8"), new RegExp(`seed ${seed}, case ${expected[0]}: hang`));
  });

  test("a trap is reported with its input, and replaying the saved input reproduces it", async () => {
    const seed = 3;
    const expected = triggering("selftest-trap", seed, 60, 0x13);
    const r = await runCampaign({ target: "selftest-trap", seed, count: 60, corpusDir, maxFindings: 1 });
    assert.equal(r.findings.length, 1);
    assert.equal(r.findings[0]!.kind, "trap");
    assert.equal(r.findings[0]!.index, expected[0]);
    assert.match(r.findings[0]!.message, /unreachable/);
    const replay = await runCampaign({ target: "selftest-trap", seed, replay: corpusInputs(corpusDir, "selftest-trap").map((s) => s.input), corpusDir: null });
    assert.deepEqual(replay.findings.map((f) => f.kind), ["trap"]);
  });
});
