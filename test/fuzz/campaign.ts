// One fuzzing campaign: a target's cases run in a worker thread under a per-case deadline. A case
// that overruns it is a hang: the worker is terminated, the input is regenerated from its seed and
// case number (or taken from the replay list) and saved, and a fresh worker continues after it.
// Traps and broken oracles come back from the worker with their input and are saved the same way.
import { Worker } from "node:worker_threads";
import { corpusInputs, saveFailingInput } from "./corpus.js";
import { targetByName } from "./targets/index.js";
import type { FindingKind } from "./targets/types.js";
import { ACCEPTED, caseFor, CURRENT, REJECTED, STARTED, type WorkerInput, type WorkerMessage } from "./worker.js";

export interface CampaignOptions {
  target: string;
  seed: number;
  /** First case number (default 0). */
  start?: number;
  /** Number of cases (default: unlimited, then `budgetMs` is required). */
  count?: number;
  /** Wall-clock budget for the whole campaign. */
  budgetMs?: number;
  /** Replay these inputs instead of generating cases. */
  replay?: Uint8Array[];
  /** Where failing inputs are saved (null: not saved). */
  corpusDir: string | null;
  /** Stop after this many findings (default 3). */
  maxFindings?: number;
  /** Time allowed to open the target (instantiate modules, load plugins); default 60 s. */
  setupDeadlineMs?: number;
}

export interface FuzzFinding {
  target: string;
  seed: number;
  index: number;
  kind: FindingKind;
  message: string;
  input: Uint8Array;
  savedTo: string | null;
}

export interface CampaignResult {
  target: string;
  seed: number;
  cases: number;
  accepted: number;
  rejected: number;
  findings: FuzzFinding[];
  durationMs: number;
}

const workerUrl = new URL("./worker.js", import.meta.url);

/** Runs one worker from `start`; resolves when it finishes or is terminated for a hang. */
function runSegment(
  o: CampaignOptions,
  start: number,
  endAtMs: number,
  maxFindings: number,
  onFinding: (f: Omit<FuzzFinding, "savedTo" | "target" | "seed">) => void,
): Promise<{ cases: number; accepted: number; rejected: number; nextIndex: number; hung: boolean }> {
  const target = targetByName(o.target);
  const progress = new SharedArrayBuffer(16);
  const view = new Int32Array(progress);
  view[CURRENT] = -1;
  const total = o.replay ? o.replay.length : (o.start ?? 0) + (o.count ?? Number.MAX_SAFE_INTEGER);
  const data: WorkerInput = { target: o.target, seed: o.seed, start, count: total - start, endAtMs, replay: o.replay, maxFindings, progress };
  const worker = new Worker(workerUrl, { workerData: data });
  const counts = (nextIndex: number, hung: boolean) => ({
    cases: Atomics.load(view, STARTED),
    accepted: Atomics.load(view, ACCEPTED),
    rejected: Atomics.load(view, REJECTED),
    nextIndex,
    hung,
  });
  return new Promise((resolve, reject) => {
    let lastStarted = -1;
    let lastChangeMs = Date.now();
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      f();
    };
    const watchdog = setInterval(() => {
      const started = Atomics.load(view, STARTED);
      const current = Atomics.load(view, CURRENT);
      const now = Date.now();
      if (started !== lastStarted) {
        lastStarted = started;
        lastChangeMs = now;
        return;
      }
      const limit = current < 0 ? (o.setupDeadlineMs ?? 60_000) : target.caseDeadlineMs;
      if (now - lastChangeMs <= limit) return;
      if (current < 0) {
        finish(() => void worker.terminate().then(() => reject(new Error(`${o.target}: opening the target took longer than ${limit} ms`))));
        return;
      }
      const input = caseFor(o.target, o.seed, current, o.replay).input;
      onFinding({ index: current, kind: "hang", message: `case ${current} ran longer than ${limit} ms`, input });
      finish(() => void worker.terminate().then(() => resolve(counts(current + 1, true))));
    }, 25);
    worker.on("message", (m: WorkerMessage) => {
      if (m.type === "finding") onFinding({ index: m.index, kind: m.kind, message: m.message, input: m.input });
      else finish(() => resolve(counts(m.nextIndex, false)));
    });
    worker.on("error", (e) => finish(() => reject(e)));
    worker.on("exit", (code) => finish(() => reject(new Error(`${o.target}: fuzz worker exited with code ${code} before finishing`))));
  });
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const started = Date.now();
  if (o.count === undefined && !o.budgetMs && !o.replay) throw new Error("a campaign needs a count, a budget or inputs to replay");
  await targetByName(o.target).prepare?.();
  const endAtMs = o.budgetMs ? started + o.budgetMs : 0;
  const total = o.replay ? o.replay.length : (o.start ?? 0) + (o.count ?? Number.MAX_SAFE_INTEGER);
  const maxFindings = o.maxFindings ?? 3;
  const result: CampaignResult = { target: o.target, seed: o.seed, cases: 0, accepted: 0, rejected: 0, findings: [], durationMs: 0 };
  let next = o.replay ? 0 : (o.start ?? 0);
  while (next < total && result.findings.length < maxFindings && !(endAtMs && Date.now() >= endAtMs)) {
    const segment = await runSegment(o, next, endAtMs, maxFindings - result.findings.length, (f) => {
      const savedTo = o.corpusDir && !o.replay ? saveFailingInput(o.corpusDir, { ...f, target: o.target, seed: o.seed }) : null;
      result.findings.push({ ...f, target: o.target, seed: o.seed, savedTo });
    });
    result.cases += segment.cases;
    result.accepted += segment.accepted;
    result.rejected += segment.rejected;
    next = segment.nextIndex;
    if (!segment.hung) break;
  }
  result.durationMs = Date.now() - started;
  return result;
}

/** One line per finding, with the seed and how to replay it. */
export function describeFindings(r: CampaignResult): string {
  return r.findings
    .map((f) => `${f.target} seed ${f.seed} case ${f.index}: ${f.kind}: ${f.message}${f.savedTo ? `\n  input saved to ${f.savedTo}` : ""}`)
    .join("\n");
}

/** The default seed of the fuzz tests in `npm test` (FUZZ_SEED overrides it): the same cases on every run. */
export function testSeed(): number {
  const env = process.env.FUZZ_SEED;
  return env !== undefined && env !== "" ? Number(env) >>> 0 : 20241121;
}

/**
 * What a fuzz run does for one target: replay every saved failing input of the corpus first, then
 * run new cases. Both results are returned; any finding in either is a failure.
 */
export async function fuzzTarget(
  target: string,
  o: { seed: number; count?: number; budgetMs?: number; corpusDir: string | null; maxFindings?: number },
): Promise<{ replayed: CampaignResult | null; generated: CampaignResult }> {
  const saved = o.corpusDir ? corpusInputs(o.corpusDir, target) : [];
  const replayed = saved.length ? await runCampaign({ target, seed: o.seed, replay: saved.map((s) => s.input), corpusDir: null }) : null;
  if (replayed) for (const f of replayed.findings) f.savedTo = saved[f.index]!.file;
  const generated = await runCampaign({ target, seed: o.seed, count: o.count, budgetMs: o.budgetMs, corpusDir: o.corpusDir, maxFindings: o.maxFindings });
  return { replayed, generated };
}
