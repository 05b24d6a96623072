// The fuzzing worker thread: opens one target's runner and feeds it cases, generated from
// (seed, target, case number) or replayed from given inputs. Before each case it publishes the
// case number in shared memory, so the main thread can tell a hang (the number stops moving) and
// terminate this thread — a Wasm loop cannot be interrupted any other way. Findings are posted
// with their input; after one the runner is reopened, since a trapped VM is not reusable.
import { parentPort, workerData } from "node:worker_threads";
import { Prng } from "./prng.js";
import { targetByName } from "./targets/index.js";
import { Finding, type FuzzCase } from "./targets/types.js";

export interface WorkerInput {
  target: string;
  seed: number;
  /** First case number, and how many (Infinity: until the budget ends). */
  start: number;
  count: number;
  /** Wall-clock end (ms since the epoch), or 0 for none. */
  endAtMs: number;
  /** Replay these inputs instead of generating (case number = index in this list). */
  replay?: Uint8Array[];
  maxFindings: number;
  /** Int32Array: [current case (-1 while opening), cases started, accepted, rejected]. */
  progress: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: "finding"; index: number; kind: Finding["kind"]; message: string; input: Uint8Array }
  | { type: "done"; nextIndex: number };

export const CURRENT = 0;
export const STARTED = 1;
export const ACCEPTED = 2;
export const REJECTED = 3;

/** The case a target gets for (seed, number) — also what the main thread regenerates after a hang. */
export function caseFor(target: string, seed: number, index: number, replay?: Uint8Array[]): FuzzCase {
  if (replay) return { input: replay[index]! };
  return targetByName(target).generate(Prng.forCase(seed, target, index));
}

async function main(input: WorkerInput): Promise<void> {
  const progress = new Int32Array(input.progress);
  const target = targetByName(input.target);
  Atomics.store(progress, CURRENT, -1);
  let runner = await target.open();
  const end = input.replay ? input.replay.length : input.start + input.count;
  let findings = 0;
  let index = input.start;
  for (; index < end; index++) {
    if (input.endAtMs && Date.now() >= input.endAtMs) break;
    Atomics.store(progress, CURRENT, index);
    Atomics.add(progress, STARTED, 1);
    const c = caseFor(input.target, input.seed, index, input.replay);
    try {
      Atomics.add(progress, (await runner.run(c)) === "accepted" ? ACCEPTED : REJECTED, 1);
    } catch (e) {
      const finding = e instanceof Finding ? e : new Finding("error", (e as Error).stack ?? String(e));
      parentPort!.postMessage({ type: "finding", index, kind: finding.kind, message: finding.message, input: c.input } satisfies WorkerMessage);
      if (++findings >= input.maxFindings) {
        index++;
        break;
      }
      await runner.close().catch(() => undefined);
      Atomics.store(progress, CURRENT, -1);
      runner = await target.open();
    }
  }
  await runner.close();
  parentPort!.postMessage({ type: "done", nextIndex: index } satisfies WorkerMessage);
}

// A failure to open the target rejects here and reaches the main thread as the worker's "error".
if (parentPort && workerData?.target) void main(workerData as WorkerInput);
