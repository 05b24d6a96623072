// Configuration errors are fatal at configure time with one log line naming the field (the plugin
// does not load, as Envoy rejects a configuration whose on_configure fails), and the filter's own
// parser agrees with config.schema.json on valid and invalid samples.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { Emulator, WasmLoadError } from "../../../host/emulator/index.js";
import { moduleBytes, projectRoot } from "../../support/modules.js";
import { bucket, loadRateLimit, request } from "./rl-kit.js";

const schema = JSON.parse(readFileSync(join(projectRoot, "filters", "rate-limit", "config.schema.json"), "utf8")) as object;
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

/** Loads the plugin; returns the error log lines if it was refused, null if it loaded. */
async function configureErrors(configuration: string): Promise<string[] | null> {
  const emu = new Emulator();
  try {
    await emu.loadPlugin({ wasm: await moduleBytes("rate-limit"), name: "rl", rootId: "rate_limit", configuration });
    return null;
  } catch (e) {
    assert.ok(e instanceof WasmLoadError, String(e));
    return emu.logs("error");
  }
}

const B = '{"max_tokens": 10, "fill_interval": "1s"}';
const rule = (extra: string): string => `{"descriptors": [{"name": "r", "token_bucket": ${B}${extra}}]}`;

const samples: Array<{ config: string; valid: boolean }> = [
  { config: `{"token_bucket": ${B}}`, valid: true },
  { config: `{"token_bucket": {"max_tokens": 1, "tokens_per_fill": 4294967295, "fill_interval": "0.000000001s"}}`, valid: true },
  { config: `{"stat_prefix": "edge.limits_v1", "status": 503, "shadow_mode": true, "token_bucket": ${B}}`, valid: true },
  { config: `{"enable_x_ratelimit_headers": "IETF_DRAFT_10", "failure_mode_deny": true, "max_cas_attempts": 1000, "token_bucket": ${B}}`, valid: true },
  { config: `{"local_rate_limit_per_downstream_connection": true, "max_buckets": 65536, "token_bucket": ${B}}`, valid: true },
  { config: `{"xff_num_trusted_hops": 0, "response_headers_to_add": [{"key": "X-A", "value": "b c"}], "token_bucket": ${B}}`, valid: true },
  { config: rule(', "key": "{header:x-user}:{path}", "max_buckets": 1, "match": {"prefix": "/api", "methods": ["GET"]}'), valid: true },
  { config: rule(', "match": {"headers": [{"name": "x-a", "present": false, "invert_match": true}], "source_cidrs": ["::/0"]}'), valid: true },
  { config: rule(', "key": "fixed-literal", "shadow_mode": false, "match": {"hosts": ["a.example"], "route_names": ["r1"]}'), valid: true },
  { config: "{}", valid: false },
  { config: '{"descriptors": []}', valid: false },
  { config: "[]", valid: false },
  { config: `{"token_bucket": ${B}, "unknown": 1}`, valid: false },
  { config: '{"token_bucket": {"max_tokens": 0, "fill_interval": "1s"}}', valid: false },
  { config: '{"token_bucket": {"max_tokens": 10.5, "fill_interval": "1s"}}', valid: false },
  { config: '{"token_bucket": {"max_tokens": 4294967296, "fill_interval": "1s"}}', valid: false },
  { config: '{"token_bucket": {"max_tokens": 10, "fill_interval": "0s"}}', valid: false },
  { config: '{"token_bucket": {"max_tokens": 10, "fill_interval": "1m"}}', valid: false },
  { config: '{"token_bucket": {"max_tokens": 10, "fill_interval": "1.0000000001s"}}', valid: false },
  { config: '{"token_bucket": {"max_tokens": 10}}', valid: false },
  { config: `{"status": 399, "token_bucket": ${B}}`, valid: false },
  { config: `{"stat_prefix": ".x", "token_bucket": ${B}}`, valid: false },
  { config: `{"enable_x_ratelimit_headers": "ON", "token_bucket": ${B}}`, valid: false },
  { config: `{"max_cas_attempts": 0, "token_bucket": ${B}}`, valid: false },
  { config: `{"max_buckets": 8, "token_bucket": ${B}}`, valid: false },
  { config: `{"local_rate_limit_per_downstream_connection": true, "max_buckets": 8, "descriptors": [{"name": "a", "token_bucket": ${B}}]}`, valid: false },
  { config: `{"response_headers_to_add": [{"key": "a b", "value": "x"}], "token_bucket": ${B}}`, valid: false },
  { config: `{"response_headers_to_add": [{"key": "a", "value": "x\\ny"}], "token_bucket": ${B}}`, valid: false },
  { config: `{"response_headers_to_add": [{"key": "a"}], "token_bucket": ${B}}`, valid: false },
  { config: `{"descriptors": [{"token_bucket": ${B}}]}`, valid: false },
  { config: `{"descriptors": [{"name": "default", "token_bucket": ${B}}]}`, valid: false },
  { config: rule(', "key": "{user}"'), valid: false },
  { config: rule(', "key": "{header:x"'), valid: false },
  { config: rule(', "max_buckets": 8'), valid: false },
  { config: rule(', "match": {"path": "/a", "prefix": "/b"}'), valid: false },
  { config: rule(', "match": {"prefix": "api"}'), valid: false },
  { config: rule(', "match": {"methods": [""]}'), valid: false },
  { config: rule(', "match": {"headers": [{"name": "x"}]}'), valid: false },
  { config: rule(', "match": {"headers": [{"name": "x", "exact": "1", "prefix": "2"}]}'), valid: false },
  { config: rule(', "match": {"headers": [{"name": ":path", "exact": "/"}]}'), valid: false },
];

// Checks only the filter can make (config.schema.json's description lists them).
const filterOnly = [
  `{"descriptors": [{"name": "a", "token_bucket": ${B}}, {"name": "a", "token_bucket": ${B}}]}`,
  rule(', "match": {"source_cidrs": ["10.0.0.0/40"]}'),
  '{"token_bucket": {"max_tokens": 10, "fill_interval": "99999999s"}}',
  '{"token_bucket": {"max_tokens": 4294967295, "fill_interval": "31536000s"}}',
];

describe("configuration", () => {
  it("refuses a bad configuration with one error line naming the field", async () => {
    const errors = await configureErrors('{"token_bucket": {"max_tokens": 0, "fill_interval": "1s"}}');
    assert.ok(errors, "the plugin must not load");
    const pluginLines = [...new Set(errors.filter((l) => l.startsWith("wasm log ")))];
    assert.deepEqual(pluginLines, [
      // The root context logs with Envoy's root prefix: " <root_id> <vm_id>".
      "wasm log rate_limit: rate-limit: invalid plugin configuration: token_bucket.max_tokens: must be an integer from 1 to 4294967295, got 0",
    ]);
    assert.ok(errors.includes("Failed to configure base Wasm plugin"), "and Envoy refuses the plugin");
  });

  it("explains invalid JSON and an empty configuration", async () => {
    assert.match((await configureErrors("{\"token_bucket\": "))!.join("\n"), /invalid plugin configuration: not valid JSON: line 1, column 18: unexpected end of input, expected a value/);
    assert.match((await configureErrors(""))!.join("\n"), /invalid plugin configuration: the configuration is empty/);
  });

  it("agrees with config.schema.json", async () => {
    for (const { config, valid } of samples) {
      assert.equal(validate(JSON.parse(config)), valid, `schema on ${config}: ${JSON.stringify(validate.errors)}`);
      const errors = await configureErrors(config);
      assert.equal(errors === null, valid, `filter on ${config}: ${errors?.join("\n")}`);
    }
  });

  it("checks what the schema cannot", async () => {
    for (const config of filterOnly) {
      assert.equal(validate(JSON.parse(config)), true, `the schema accepts ${config}`);
      assert.ok(await configureErrors(config), `the filter refuses ${config}`);
    }
  });

  it("accepts the README's examples", async () => {
    const readme = readFileSync(join(projectRoot, "filters", "rate-limit", "README.md"), "utf8");
    const examples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(examples.length >= 3, "the README shows configuration examples");
    for (const example of examples) {
      assert.equal(validate(JSON.parse(example)), true, `schema on the README example ${example}: ${JSON.stringify(validate.errors)}`);
      assert.equal(await configureErrors(example), null, `filter on the README example ${example}`);
    }
  });

  it("still rate limits with the smallest configuration", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(1) });
    assert.deepEqual([request(emu).status, request(emu).status], [200, 429]);
  });
});
