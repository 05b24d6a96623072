// `npm run fuzz`: long seeded fuzzing of every target (node dist/test/fuzz/run.js --long), after a
// replay of the saved corpus. Options:
//   --long              time-boxed run (default 10 minutes in all; --minutes M to change)
//   --minutes M         total wall-clock budget of a long run
//   --cases N           N cases per target instead of a time budget
//   --seed S            the seed (default: random, printed first)
//   --target a,b        only these targets (names: --list)
//   --case I            run case I of --seed only, and print its input
//   --replay FILE.bin   replay one saved input (its target is the folder's name)
//   --jobs J            campaigns in parallel (default: available cores)
//   --list              print the targets
// Exit code 1 when anything was found; failing inputs are saved under test/fuzz/corpus/.
import { availableParallelism } from "node:os";
import { basename, dirname } from "node:path";
import { readFileSync } from "node:fs";
import { describeFindings, fuzzTarget, runCampaign, type CampaignResult } from "./campaign.js";
import { defaultCorpusDir } from "./corpus.js";
import { Prng } from "./prng.js";
import { allTargets, targetByName } from "./targets/index.js";

interface Options {
  long: boolean;
  minutes: number;
  cases?: number;
  seed: number;
  targets: string[];
  caseIndex?: number;
  replay?: string;
  jobs: number;
  list: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { long: false, minutes: 10, seed: (Date.now() ^ (process.pid << 16)) >>> 0, targets: [], jobs: availableParallelism(), list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const number = (): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${a}: ${JSON.stringify(v)} is not a non-negative number`);
      return n;
    };
    if (a === "--long") o.long = true;
    else if (a === "--minutes") o.minutes = number();
    else if (a === "--cases") o.cases = Math.floor(number());
    else if (a === "--seed") o.seed = number() >>> 0;
    else if (a === "--target") o.targets = value().split(",").filter(Boolean);
    else if (a === "--case") o.caseIndex = Math.floor(number());
    else if (a === "--replay") o.replay = value();
    else if (a === "--jobs") o.jobs = Math.max(1, Math.floor(number()));
    else if (a === "--list") o.list = true;
    else throw new Error(`unknown option ${a} (see the comment at the top of test/fuzz/run.ts)`);
  }
  for (const t of o.targets) targetByName(t);
  return o;
}

function summaryLine(r: CampaignResult, label: string): string {
  return `${label.padEnd(28)} ${String(r.cases).padStart(9)} cases ${String(r.accepted).padStart(9)} accepted ${String(r.rejected).padStart(9)} rejected ${String(r.findings.length).padStart(3)} findings ${(r.durationMs / 1000).toFixed(1).padStart(7)} s`;
}

async function runOne(o: Options): Promise<number> {
  if (o.replay) {
    const target = basename(dirname(o.replay));
    const r = await runCampaign({ target, seed: 0, replay: [new Uint8Array(readFileSync(o.replay))], corpusDir: null });
    for (const f of r.findings) console.log(`${o.replay}: ${f.kind}: ${f.message}`);
    if (!r.findings.length) console.log(`${o.replay}: no finding (${target} accepts or rejects it cleanly)`);
    return r.findings.length ? 1 : 0;
  }
  const target = o.targets[0];
  if (!target) throw new Error("--case needs --target");
  const input = targetByName(target).generate(Prng.forCase(o.seed, target, o.caseIndex!)).input;
  console.log(`${target} seed ${o.seed} case ${o.caseIndex}: ${input.length} bytes\n${Buffer.from(input).toString("latin1").slice(0, 4000)}`);
  const r = await runCampaign({ target, seed: o.seed, start: o.caseIndex, count: 1, corpusDir: null });
  console.log(r.findings.length ? describeFindings(r) : r.accepted ? "accepted" : "rejected");
  return r.findings.length ? 1 : 0;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (o.list) {
    for (const t of allTargets()) console.log(t.name);
    return 0;
  }
  if (o.replay || o.caseIndex !== undefined) return runOne(o);
  const targets = o.targets.length ? o.targets : allTargets().map((t) => t.name);
  const count = o.cases ?? (o.long ? undefined : 300);
  const budgetMs = count === undefined ? Math.max(5_000, (o.minutes * 60_000 * o.jobs) / targets.length) : undefined;
  console.log(
    `fuzzing ${targets.length} targets with seed ${o.seed}: ${count !== undefined ? `${count} cases each` : `${(budgetMs! / 1000).toFixed(0)} s each`}, ${o.jobs} at a time` +
      ` (replay: --seed ${o.seed})`,
  );
  const queue = [...targets];
  let failed = 0;
  const worker = async (): Promise<void> => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
      const { replayed, generated } = await fuzzTarget(t, { seed: o.seed, count, budgetMs, corpusDir: defaultCorpusDir, maxFindings: 5 });
      for (const [r, label] of [[replayed, `${t} (corpus)`], [generated, t]] as const) {
        if (!r) continue;
        console.log(summaryLine(r, label));
        if (r.findings.length) {
          failed++;
          console.log(describeFindings(r));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, targets.length) }, worker));
  console.log(failed ? `FAILED: findings in ${failed} campaign(s), seed ${o.seed}; inputs saved under ${defaultCorpusDir}` : `no findings (seed ${o.seed})`);
  return failed ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: Error) => {
    console.error(`fuzz: ${e.message}`);
    process.exitCode = 2;
  },
);
