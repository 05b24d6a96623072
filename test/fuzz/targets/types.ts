// What a fuzz target is: a generator of inputs (a pure function of a seeded Prng, so a case is
// replayed from its seed and number) and a runner, opened inside a worker thread, that feeds one
// input to the code under test and throws a Finding when it traps or breaks an oracle.

export interface FuzzCase {
  input: Uint8Array;
  /** For inputs valid by construction: what the decoder must produce. */
  expect?: unknown;
}

export type Outcome = "accepted" | "rejected";

export type FindingKind = "trap" | "hang" | "oracle" | "error";

/** A failure of the code under test (not of the harness). */
export class Finding extends Error {
  constructor(
    readonly kind: FindingKind,
    message: string,
  ) {
    super(message);
    this.name = "Finding";
  }
}

export interface TargetRunner {
  /** Runs one case; throws a Finding on a trap or a broken oracle. */
  run(c: FuzzCase): Outcome | Promise<Outcome>;
  close(): Promise<void>;
}

export interface FuzzTarget {
  name: string;
  /** A case running longer than this is a hang. */
  caseDeadlineMs: number;
  /** Builds whatever the runner needs (modules) on the main thread, before workers start. */
  prepare?(): Promise<void>;
  generate(rng: import("../prng.js").Prng): FuzzCase;
  open(): Promise<TargetRunner>;
}
