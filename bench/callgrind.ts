// Instructions per request (callgrind on `node --single-threaded`, where no compiler or GC thread
// runs concurrently). Counts only repeat within 1% with more of V8 pinned down: --predictable and
// --predictable-gc-schedule (GC heuristics otherwise follow wall-clock allocation rates), fixed hash
// and random seeds, and --no-liftoff (Wasm compiled by TurboFan up front, so no tier-up lands at a
// different moment in each run; it is the code Envoy's V8 runs in steady state). The driver runs N request lifecycles of the module and of
// its floor (bench/lifecycle.ts); two request counts give the per-request instructions with node's
// startup cancelled out. The same with the floor standing in for the module gives the floor's own
// count, so the module's is (module + floor) − floor. Each figure is measured twice; the bench
// reports whether the two agree within ±1%. Without valgrind, it reports "not measured".
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../host/build.js";
import { wat } from "../test/support/wat.js";

export interface CallgrindResult {
  /** Instructions per request: module lifecycle (with the host's work for its calls), floor, difference. */
  moduleInstructions: number;
  floorInstructions: number;
  deltaInstructions: number;
  /** The module's per-request count from the two repetitions, and whether they agree within ±1%. */
  repeats: [number, number];
  repeatable: boolean;
  requests: [number, number];
}

export type CallgrindOutcome = CallgrindResult | { notMeasured: string };

const driver = new URL("./callgrind-driver.js", import.meta.url).pathname;

export function valgrindAvailable(): boolean {
  return spawnSync("valgrind", ["--version"], { stdio: "ignore" }).status === 0;
}

/** Total instructions of one driver run (callgrind's "Collected" line). */
interface Run {
  outDir: string;
  floorPath: string;
}

function instructions(name: string, requests: number, modulePath: string, { outDir, floorPath }: Run): Promise<number> {
  const node = [process.execPath, "--single-threaded", "--predictable", "--predictable-gc-schedule", "--hash-seed=1", "--random-seed=1", "--no-liftoff"];
  const args = ["--tool=callgrind", `--callgrind-out-file=${join(outDir, "callgrind.out.%p")}`, ...node, driver, name, String(requests), modulePath, floorPath];
  return new Promise((resolve, reject) => {
    const p = spawn("valgrind", args, { stdio: ["ignore", "ignore", "pipe"], cwd: projectRoot });
    let err = "";
    p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    p.on("error", reject);
    p.on("exit", (code) => {
      const m = /Collected\s*:\s*(\d+)/.exec(err);
      if (code !== 0 || !m) reject(new Error(`valgrind ${args.slice(2).join(" ")} exited with ${code}: ${err.slice(-800)}`));
      else resolve(Number(m[1]));
    });
  });
}

async function perRequest(name: string, counts: [number, number], modulePath: string, run: Run): Promise<number> {
  const low = await instructions(name, counts[0], modulePath, run);
  const high = await instructions(name, counts[1], modulePath, run);
  return (high - low) / (counts[1] - counts[0]);
}

export async function measureInstructions(name: string, options: { requests?: [number, number]; modulePath?: string } = {}): Promise<CallgrindOutcome> {
  if (!valgrindAvailable()) return { notMeasured: "valgrind is not installed" };
  // Far apart: what varies from one node start to the next (a few million instructions) is spread
  // over the difference, well under 1% per request.
  const requests = options.requests ?? [5_000, 50_000];
  const outDir = mkdtempSync(join(tmpdir(), "callgrind-"));
  try {
    // Private copies: every run must count the same module and floor, even if they are rebuilt
    // or edited meanwhile.
    const modulePath = join(outDir, `${name}.wasm`);
    copyFileSync(options.modulePath ?? join(projectRoot, "build", `${name}.wasm`), modulePath);
    const floorPath = join(outDir, `${name}-floor.wat`);
    copyFileSync(join(projectRoot, "bench", "floors", `${name}.wat`), floorPath);
    // The floor, assembled, stands in for the module: both sides then cost the floor's count.
    const floorWasm = join(outDir, `${name}-floor.wasm`);
    writeFileSync(floorWasm, await wat(readFileSync(floorPath, "utf8"), { names: false }));
    const run = { outDir, floorPath };
    const both = [await perRequest(name, requests, modulePath, run), await perRequest(name, requests, modulePath, run)] as const;
    const floorTwice = await perRequest(name, requests, floorWasm, run);
    const floor = floorTwice / 2;
    const repeats: [number, number] = [Math.round(both[0] - floor), Math.round(both[1] - floor)];
    const module = (repeats[0] + repeats[1]) / 2;
    return {
      moduleInstructions: Math.round(module),
      floorInstructions: Math.round(floor),
      deltaInstructions: Math.round(module - floor),
      repeats,
      repeatable: Math.abs(repeats[0] - repeats[1]) <= 0.01 * Math.max(Math.abs(repeats[0]), Math.abs(repeats[1])),
      requests,
    };
  } catch (e) {
    return { notMeasured: (e as Error).message.split("\n")[0]! };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
