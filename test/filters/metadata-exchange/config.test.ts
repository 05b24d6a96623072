// Configuration: errors are logged at error level naming the field and never stop the filter
// (filters.md §1.3: "errors are logged, never fatal"), and the filter's own parser agrees with
// config.schema.json on valid and invalid samples; the README's examples are valid.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { projectRoot } from "../../support/modules.js";
import { OUTBOUND, PEER_ID, istioNode, mxProxy, request } from "./mx-kit.js";

const filterDir = join(projectRoot, "filters", "metadata-exchange");
const schema = JSON.parse(readFileSync(join(filterDir, "config.schema.json"), "utf8")) as object;
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);
const node = istioNode("productpage-v1", "default", "10.0.0.11");

/** Distinct log messages without Envoy's "wasm log <plugin>: " prefix (each VM logs them: canary and worker). */
const messages = (lines: string[]): string[] => [...new Set(lines.map((l) => l.slice(l.indexOf(": ") + 2)))];

/** The configuration problems the filter logged (each VM logs them: canary and worker). */
async function configurationErrors(configuration: string): Promise<string[]> {
  const { emu } = await mxProxy(node, configuration);
  const errors = messages(emu.logs("error")).filter((m) => m.startsWith("metadata-exchange: configuration: "));
  // Never fatal: the plugin loaded and exchanges metadata.
  const s = emu.newStream({ streamInfo: { listenerDirection: OUTBOUND } });
  s.sendRequestHeaders(request, { endStream: true });
  assert.equal(s.upstream.headers!.get(PEER_ID), node.id, `the filter works with configuration ${configuration}`);
  s.complete();
  return errors;
}

const samples: Array<{ config: string; valid: boolean }> = [
  { config: "{}", valid: true },
  { config: '{"max_peer_cache_size": 0}', valid: true },
  { config: '{"max_peer_cache_size": 20, "direction": "OUTBOUND", "edge": true}', valid: true },
  { config: '{"direction": "INBOUND", "additional_labels": ["team", "app.kubernetes.io/name"]}', valid: true },
  { config: '{"direction": "UNSPECIFIED", "max_peer_header_bytes": 1048576}', valid: true },
  { config: '{"max_peer_cache_size": 2147483647, "max_peer_header_bytes": 1}', valid: true },
  { config: '{"max_peer_cache_size": 1.0}', valid: true },
  { config: '{"max_peer_cache_size": -1}', valid: false },
  { config: '{"max_peer_cache_size": 2.5}', valid: false },
  { config: '{"max_peer_cache_size": "500"}', valid: false },
  { config: '{"max_peer_cache_size": 2147483648}', valid: false },
  { config: '{"direction": "inbound"}', valid: false },
  { config: '{"direction": 1}', valid: false },
  { config: '{"additional_labels": "team"}', valid: false },
  { config: '{"additional_labels": ["team", ""]}', valid: false },
  { config: '{"additional_labels": [3]}', valid: false },
  { config: '{"edge": "true"}', valid: false },
  { config: '{"max_peer_header_bytes": 0}', valid: false },
  { config: '{"max_peer_header_bytes": 1048577}', valid: false },
  { config: '{"max_peer_cache_sise": 10}', valid: false },
  { config: "[]", valid: false },
  { config: '"max_peer_cache_size"', valid: false },
];

describe("metadata-exchange configuration", () => {
  for (const { config, valid } of samples) {
    it(`${valid ? "accepts" : "reports"} ${config}, as the schema does`, async () => {
      assert.equal(validate(JSON.parse(config)), valid, `schema verdict on ${config}: ${JSON.stringify(validate.errors)}`);
      const errors = await configurationErrors(config);
      assert.equal(errors.length === 0, valid, `filter verdict on ${config}: ${errors.join(" | ")}`);
    });
  }

  it("names the field and the problem in one error line, and keeps the rest of the configuration", async () => {
    const { emu } = await mxProxy(node, '{"max_peer_cache_size": -5, "direction": "INBOUND"}');
    assert.deepEqual(messages(emu.logs("error")), [
      "metadata-exchange: configuration: max_peer_cache_size: must be an integer from 0 to 2147483647, got -5; the default 500 applies",
    ]);
    const s = emu.newStream();
    s.sendRequestHeaders(request, { endStream: true });
    assert.equal(s.upstream.headers!.has(PEER_ID), false, "direction INBOUND still applied");
    s.complete();
  });

  it("reports text that is not JSON with its position and runs on the defaults", async () => {
    const errors = await configurationErrors("{max_peer_cache_size: 5}");
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /configuration: not valid JSON \(line 1, column 2: .*\); all defaults apply$/);
  });

  it("accepts an empty configuration (Istio sends none for metadata exchange)", async () => {
    assert.deepEqual(await configurationErrors(""), []);
  });

  it("warns about node metadata of the wrong type and leaves it out", async () => {
    const odd = istioNode("ratings-v1", "default", "10.0.0.13", { metadata: { NAMESPACE: 7, PLATFORM_METADATA: ["gcp"] } });
    const { emu } = await mxProxy(odd);
    assert.deepEqual(messages(emu.logs("warning")), [
      "metadata-exchange: node metadata NAMESPACE is number, expected a string: not sent",
      "metadata-exchange: node metadata PLATFORM_METADATA is array, expected an object: not sent",
    ]);
  });

  it("README examples are valid configurations", () => {
    const readme = readFileSync(join(filterDir, "README.md"), "utf8");
    const examples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(examples.length >= 2, "the README shows configuration examples");
    for (const e of examples) assert.equal(validate(JSON.parse(e)), true, `${e}: ${JSON.stringify(validate.errors)}`);
  });
});
