// The plugin configuration: config.schema.json and the filter's own parser agree on valid and
// invalid samples (the module decides, through the emulator's onConfigure), README examples are
// valid, and a bad configuration is refused at configure time with one log line naming the field.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { Emulator } from "../../../host/emulator/index.js";
import { WasmLoadError } from "../../../host/wasm/plugin.js";
import { moduleBytes, projectRoot } from "../../support/modules.js";
import { configurationError } from "./harness.js";

const filterDir = join(projectRoot, "filters", "retry-headers");
const schema = JSON.parse(readFileSync(join(filterDir, "config.schema.json"), "utf8")) as object;
const validate = new Ajv2020({ allErrors: true }).compile(schema);

const valid: object[] = [
  {},
  { rules: [] },
  { rules: [{ retry_on: "5xx" }] },
  { rules: [{ retry_on: " 5xx, ,reset ", num_retries: 0 }] },
  { rules: [{ retry_on: ["gateway-error", "5xx", "5xx"], retry_grpc_on: ["unavailable"] }] },
  { rules: [{ name: "r", match: {}, timeout_ms: 0 }] },
  { rules: [{ match: { route_name: "r1", hosts: ["*", "*.a.com", "b.*", "c.com:80", "[::1]"], path_prefix: "/" }, per_try_timeout_ms: 1 }] },
  { rules: [{ match: { path_exact: "/x", methods: ["GET", "PURGE"], headers: [{ name: ":scheme", exact: "https" }, { name: "x", present: false }], grpc: true }, hedge_on_per_try_timeout: false }] },
  { rules: [{ match: { path_regex: "/api/v[0-9]+/.*" }, retriable_status_codes: [100, 599], retriable_header_names: ["X-A"] }] },
  { rules: [{ retry_on: "5xx", num_retries: 5, timeout_ms: 4294967295, per_try_timeout_ms: 1000, allow_non_idempotent: true }] },
  { trusted_sources: { cidrs: ["10.0.0.0/8", "::1"] }, strip_untrusted: false },
  { trusted_sources: { header: { name: "x-internal", value: "s", remove: false } } },
  { caps: { max_retries: 0, timeout_ms: 1, per_try_timeout_ms: 4294967295 } },
  { idempotent_methods: ["GET"], idempotency_key_header: "", non_idempotent_retry_on: "", non_idempotent_retry_grpc_on: [] },
  { idempotency_key_header: "X-Key", non_idempotent_retry_on: ["connect-failure"], non_idempotent_retry_grpc_on: "unavailable" },
  { max_retry_body_bytes: 0, expose_attempt_count: false, attempt_count_header: "X-Attempts", strip_response_headers: ["x-envoy-*", "server"] },
];

const invalid: object[] = [
  { rule: [] },
  { rules: {} },
  { rules: [{}] },
  { rules: [{ match: { path_prefix: "/" } }] },
  { rules: [{ retry_on: "" }] },
  { rules: [{ retry_on: " , " }] },
  { rules: [{ retry_on: [] }] },
  { rules: [{ retry_on: "5xx,timeout" }] },
  { rules: [{ retry_on: ["5xx", 5] }] },
  { rules: [{ retry_on: 5 }] },
  { rules: [{ retry_grpc_on: "5xx" }] },
  { rules: [{ retryOn: "5xx" }] },
  { rules: [{ num_retries: -1 }] },
  { rules: [{ num_retries: 1001 }] },
  { rules: [{ num_retries: 1.5 }] },
  { rules: [{ num_retries: "2" }] },
  { rules: [{ timeout_ms: -5 }] },
  { rules: [{ per_try_timeout_ms: 0 }] },
  { rules: [{ retriable_status_codes: [] }] },
  { rules: [{ retriable_status_codes: [99] }] },
  { rules: [{ retriable_header_names: ["bad name"] }] },
  { rules: [{ hedge_on_per_try_timeout: "true" }] },
  { rules: [{ match: { path: "/" }, retry_on: "5xx" }] },
  { rules: [{ match: { path_prefix: "api" }, retry_on: "5xx" }] },
  { rules: [{ match: { path_prefix: "/a", path_exact: "/a" }, retry_on: "5xx" }] },
  { rules: [{ match: { route_name: "" }, retry_on: "5xx" }] },
  { rules: [{ match: { hosts: [] }, retry_on: "5xx" }] },
  { rules: [{ match: { hosts: ["a.*.com"] }, retry_on: "5xx" }] },
  { rules: [{ match: { hosts: ["a/b"] }, retry_on: "5xx" }] },
  { rules: [{ match: { methods: ["G ET"] }, retry_on: "5xx" }] },
  { rules: [{ match: { headers: [{ present: true }] }, retry_on: "5xx" }] },
  { rules: [{ match: { headers: [{ name: "x", present: false, exact: "1" }] }, retry_on: "5xx" }] },
  { rules: [{ match: { grpc: "yes" }, retry_on: "5xx" }] },
  { trusted_sources: {} },
  { trusted_sources: { cidrs: [] } },
  { trusted_sources: { header: { name: "x" } } },
  { trusted_sources: { header: { name: "x", value: "" } } },
  { trusted_sources: { header: { name: "x", value: "v", secret: true } } },
  { caps: { max_retries: -1 } },
  { caps: { timeout_ms: 0 } },
  { idempotent_methods: [] },
  { idempotency_key_header: "bad key" },
  { non_idempotent_retry_on: "bogus" },
  { max_retry_body_bytes: -1 },
  { attempt_count_header: "" },
  { strip_response_headers: ["*"] },
  { strip_response_headers: [] },
  { expose_attempt_count: 1 },
];

/** Valid JSON Schema instances that only the filter can refuse: cross-field rules and syntaxes. */
const filterOnly: Array<{ config: object; error: string }> = [
  { config: { rules: [{ num_retries: 6 }] }, error: "rules[0].num_retries: 6 exceeds caps.max_retries (5)" },
  { config: { caps: { timeout_ms: 100 }, rules: [{ timeout_ms: 0 }] }, error: "rules[0].timeout_ms: 0 (no timeout) exceeds caps.timeout_ms (100)" },
  { config: { caps: { per_try_timeout_ms: 100 }, rules: [{ per_try_timeout_ms: 200 }] }, error: "rules[0].per_try_timeout_ms: 200 exceeds caps.per_try_timeout_ms (100)" },
  { config: { rules: [{ timeout_ms: 100, per_try_timeout_ms: 100 }] }, error: "rules[0].per_try_timeout_ms: must be less than timeout_ms (100)" },
  { config: { rules: [{ match: { path_regex: "/(x" }, retry_on: "5xx" }] }, error: "rules[0].match.path_regex: missing closing ) at offset 1 in \"/(x\"" },
  { config: { rules: [{ match: { path_regex: "/(?i)x" }, retry_on: "5xx" }] }, error: "rules[0].match.path_regex: flags and other (?...) groups are not supported at offset 1 in \"/(?i)x\"" },
  { config: { trusted_sources: { cidrs: ["10.0.0.0/33"] } }, error: "trusted_sources.cidrs[0]: prefix length \"33\" must be a number from 0 to 32" },
  { config: { trusted_sources: { cidrs: ["localhost"] } }, error: "trusted_sources.cidrs[0]: \"localhost\" is not an IPv4 or IPv6 address" },
];

function readmeExamples(): object[] {
  const readme = readFileSync(join(filterDir, "README.md"), "utf8");
  return [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as object);
}

describe("retry-headers configuration", () => {
  test("valid samples: the schema and the filter both accept them", async () => {
    for (const sample of valid) {
      assert.equal(validate(sample), true, `schema rejects ${JSON.stringify(sample)}: ${JSON.stringify(validate.errors)}`);
      assert.equal(await configurationError(sample), null, JSON.stringify(sample));
    }
  });

  test("invalid samples: the schema and the filter both refuse them", async () => {
    for (const sample of invalid) {
      assert.equal(validate(sample), false, `schema accepts ${JSON.stringify(sample)}`);
      const error = await configurationError(sample);
      assert.ok(error !== null, `filter accepts ${JSON.stringify(sample)}`);
    }
  });

  test("constraints JSON Schema cannot express are enforced by the filter, with the field named", async () => {
    for (const { config, error } of filterOnly) {
      assert.equal(validate(config), true, JSON.stringify(config));
      assert.equal(await configurationError(config), error);
    }
  });

  test("the configuration examples in the README are valid", async () => {
    const examples = readmeExamples();
    assert.ok(examples.length >= 3, "README has configuration examples");
    for (const example of examples) {
      assert.equal(validate(example), true, `${JSON.stringify(example)}: ${JSON.stringify(validate.errors)}`);
      assert.equal(await configurationError(example), null, JSON.stringify(example));
    }
  });

  test("a bad configuration fails configure with Envoy's error and one log line naming the field", async () => {
    const emu = new Emulator();
    const load = emu.loadPlugin({
      wasm: await moduleBytes("retry-headers"),
      name: "retry_headers",
      rootId: "retry_headers",
      configuration: { rules: [{ retry_on: "5xx", num_retries: 7 }] },
    });
    await assert.rejects(load, (e: unknown) => e instanceof WasmLoadError && /configure/i.test(e.message));
    const lines = emu.logs().filter((l) => l.includes("invalid plugin configuration"));
    // Root contexts log with Envoy's makeRootLogPrefix: " <root_id> <vm_id>" (no plugin name).
    assert.deepEqual(lines, ["wasm log retry_headers: retry-headers: invalid plugin configuration: rules[0].num_retries: 7 exceeds caps.max_retries (5)"]);
    assert.ok(emu.logs("error").includes(lines[0]!), "logged at error level");
  });

  test("not JSON at all is refused with the position", async () => {
    assert.equal(
      await configurationError("{\"rules\": [}"),
      "not valid JSON: line 1, column 12: unexpected character '}', expected a value",
    );
  });
});
