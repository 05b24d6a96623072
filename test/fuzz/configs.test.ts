// Seeded fuzzing of every suite filter's configuration parser through the emulator's plugin
// loading (random JSON, schema-generated and mutated configurations, random bytes): a rejected
// configuration is fine, a trap or a hang is not, nor is a trap on a request under an accepted
// configuration. Then random requests and responses through the whole suite. Small counts here;
// `npm run fuzz` runs long.
import { describe, test } from "node:test";
import { configTargets } from "./targets/configs.js";
import { requestTarget } from "./targets/requests.js";
import { assertNoFindings } from "./fuzz-kit.js";

describe("fuzzing the filters' configuration parsers", { concurrency: 2 }, () => {
  for (const target of configTargets()) {
    test(`${target.name}: 80 configurations load or are refused without a trap or hang`, () => assertNoFindings(target.name, 80));
  }
});

describe("fuzzing requests through the filter suite", () => {
  test("requests: 150 random requests and responses through every suite filter leave every VM healthy", () => assertNoFindings(requestTarget.name, 150));
});
