// Seeded fuzzing of the SDK's decoders inside `npm test` (a few hundred cases each, the same on
// every run; FUZZ_SEED changes the seed, `npm run fuzz` runs long): header pairs, JSON, base64,
// Struct/Value/ListValue, Node and Metadata, property values and paths, raw protobuf. No input may
// trap, hang, or contradict the independent decoder the target compares with (targets/codecs.ts).
import { describe, test } from "node:test";
import { codecTargets } from "./targets/codecs.js";
import { assertNoFindings } from "./fuzz-kit.js";

const cases = 300;

describe("fuzzing the SDK's decoders", { concurrency: 2 }, () => {
  for (const target of codecTargets) {
    test(`${target.name}: ${cases} generated cases and the saved corpus decode without trap, hang or disagreement`, () => assertNoFindings(target.name, cases));
  }
});
