// Targets that check the fuzzing harness itself (test/fuzz/harness.test.ts): a tiny Wasm module
// that loops forever on an input starting with 0x42 and hits `unreachable` on one starting with
// 0x13, so the worker's deadline and the trap reporting are shown to work on real Wasm code.
import { wat } from "../../support/wat.js";
import type { Prng } from "../prng.js";
import { Finding, type FuzzTarget, type TargetRunner } from "./types.js";

const moduleText = `(module
  (memory (export "memory") 1)
  (func (export "run") (param $len i32) (result i32)
    (if (i32.eqz (local.get $len)) (then (return (i32.const 0))))
    (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 0x42)) (then (loop $forever (br $forever))))
    (if (i32.eq (i32.load8_u (i32.const 0)) (i32.const 0x13)) (then unreachable))
    (i32.const 1)))`;

function selftest(name: string, trigger: number): FuzzTarget {
  return {
    name,
    caseDeadlineMs: 300,
    // About one case in ten triggers; the others are harmless (first byte 0..0x0f).
    generate: (rng: Prng) => {
      const input = rng.bytes(rng.range(1, 8)).map((b) => b & 0x0f);
      return { input: Uint8Array.from([rng.int(10) === 0 ? trigger : input[0]!, ...input.subarray(1)]) };
    },
    async open(): Promise<TargetRunner> {
      const instance = new WebAssembly.Instance(await WebAssembly.compile(await wat(moduleText)), {});
      const memory = instance.exports.memory as WebAssembly.Memory;
      const run = instance.exports.run as (len: number) => number;
      return {
        run(c) {
          new Uint8Array(memory.buffer).set(c.input.subarray(0, 1024));
          try {
            return run(c.input.length) ? "accepted" : "rejected";
          } catch (e) {
            if (e instanceof WebAssembly.RuntimeError) throw new Finding("trap", `run trapped: ${e.message}`);
            throw e;
          }
        },
        async close() {},
      };
    },
  };
}

export const selftestTargets: FuzzTarget[] = [selftest("selftest-hang", 0x42), selftest("selftest-trap", 0x13)];
