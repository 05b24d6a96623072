// Configuration: every problem fails on_configure with one error line naming the field (the
// plugin does not load, as Envoy refuses the listener), and the filter's own parser agrees with
// config.schema.json on valid and invalid samples; the schema's examples are valid and load.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { projectRoot } from "../../support/modules.js";
import { configureError, exchange, counters, loadStats } from "./stats-kit.js";

const schema = JSON.parse(readFileSync(join(projectRoot, "filters", "stats", "config.schema.json"), "utf8")) as { examples: unknown[] };
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

/** Loads the plugin with `config`; null if it configured, else its error lines. */
async function outcome(config: string): Promise<string[] | null> {
  try {
    const { emu } = await loadStats({ configuration: config });
    exchange(emu);
    assert.equal(counters(emu, "istio_requests_total").length + counters(emu, "mesh_requests_total").length <= 1, true);
    return null;
  } catch {
    return configureError(config);
  }
}

const samples: Array<{ config: string; valid: boolean }> = [
  { config: "{}", valid: true },
  { config: '{"debug": "false", "stat_prefix": "istio"}', valid: true },
  { config: '{"debug": true, "disable_host_header_fallback": "true"}', valid: true },
  { config: '{"field_separator": "|", "value_separator": ":", "tcp_reporting_duration": "0.5s"}', valid: true },
  { config: '{"reporter": "SERVER_GATEWAY", "max_metric_cache_size": 1, "max_peer_cache_size": 0}', valid: true },
  { config: '{"reporter": 0}', valid: true },
  { config: '{"max_metric_cache_size": 1000000}', valid: true },
  { config: '{"metrics": [{"name": "", "match": "", "drop": "false", "tags_to_remove": [], "dimensions": {}}]}', valid: true },
  { config: '{"definitions": [{"name": "x", "value": "1", "type": 2}]}', valid: true },
  { config: "[]", valid: false },
  { config: '"istio"', valid: false },
  { config: '{"stat_prefix": "istio-proxy"}', valid: false },
  { config: '{"stat_prefix": ""}', valid: false },
  { config: '{"stat_prefix": null}', valid: false },
  { config: '{"field_separator": ""}', valid: false },
  { config: '{"debug": "yes"}', valid: false },
  { config: '{"disable_host_header_fallback": 1}', valid: false },
  { config: '{"tcp_reporting_duration": "15"}', valid: false },
  { config: '{"tcp_reporting_duration": 15}', valid: false },
  { config: '{"reporter": "WAYPOINT"}', valid: false },
  { config: '{"reporter": 2}', valid: false },
  { config: '{"max_metric_cache_size": 0}', valid: false },
  { config: '{"max_metric_cache_size": 1000001}', valid: false },
  { config: '{"max_peer_cache_size": 2.5}', valid: false },
  { config: '{"max_peer_cache_size": "500"}', valid: false },
  { config: '{"rotation_interval": "60s"}', valid: false },
  { config: '{"statPrefix": "istio"}', valid: false },
  { config: '{"metrics": {}}', valid: false },
  { config: '{"metrics": [1]}', valid: false },
  { config: '{"metrics": [{"dimensions": {"bad-tag": "request.host"}}]}', valid: false },
  { config: '{"metrics": [{"dimensions": {"x": 3}}]}', valid: false },
  { config: '{"metrics": [{"dimensions": {"x": ""}}]}', valid: false },
  { config: '{"metrics": [{"tags_to_remove": [1]}]}', valid: false },
  { config: '{"metrics": [{"match": "request.host == \'x\'"}]}', valid: false },
  { config: '{"metrics": [{"drop": 1}]}', valid: false },
  { config: '{"metrics": [{"extra": true}]}', valid: false },
  { config: '{"definitions": [{"name": "x"}]}', valid: false },
  { config: '{"definitions": [{"value": "1"}]}', valid: false },
  { config: '{"definitions": [{"name": "a.b", "value": "1"}]}', valid: false },
  { config: '{"definitions": [{"name": "x", "value": "1", "type": "SUMMARY"}]}', valid: false },
];

describe("configuration vs config.schema.json", () => {
  for (const { config, valid } of samples) {
    it(`${valid ? "accepts" : "refuses"} ${config}`, async () => {
      assert.equal(validate(JSON.parse(config)), valid, `schema: ${JSON.stringify(validate.errors)}`);
      const errors = await outcome(config);
      if (valid) assert.equal(errors, null);
      else assert.ok(errors && errors.length > 0, "the filter refused it too");
    });
  }

  it("loads every example of the schema and of the README", async () => {
    const readme = readFileSync(join(projectRoot, "filters", "stats", "README.md"), "utf8");
    const readmeExamples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as unknown);
    assert.ok(readmeExamples.length > 0);
    for (const example of [...schema.examples, ...readmeExamples]) {
      assert.equal(validate(example), true, JSON.stringify(example));
      assert.equal(await outcome(JSON.stringify(example)), null, JSON.stringify(example));
    }
  });
});

describe("configuration errors name the field and the problem", () => {
  const cases: Array<[Record<string, unknown> | string, RegExp]> = [
    ["{not json", /^stats: plugin configuration: not valid JSON: line 1, column 2: /],
    [{ stat_prefix: 7 }, /: stat_prefix: must be a string$/],
    [{ stat_prefix: "a-b" }, /: stat_prefix: must match \[a-zA-Z_\]\[a-zA-Z0-9_\]\*$/],
    [{ field_separator: ";.;", value_separator: ";.;" }, /: field_separator: field_separator and value_separator must be non-empty and differ$/],
    [{ max_metric_cache_size: -3 }, /: max_metric_cache_size: must be an integer from 1 to 1000000$/],
    [{ reporter: "X" }, /: reporter: must be UNSPECIFIED, SERVER_GATEWAY, CLIENT_SIDECAR or SERVER_SIDECAR$/],
    [{ rotationInterval: "1s" }, /: rotationInterval: unknown field$/],
    [{ metrics: [{}, { name: "requests" }] }, /: metrics\[1\]\.name: unknown metric "requests"$/],
    [{ metrics: [{ tags_to_remove: ["nope"] }] }, /: metrics\[0\]\.tags_to_remove\[0\]: "nope" is neither a standard label nor an added dimension$/],
    [{ metrics: [{ match: "x" }] }, /: metrics\[0\]\.match: not implemented/],
    [{ metrics: [{ dimensions: { x: "request.host + 'a'" } }] }, /: metrics\[0\]\.dimensions\.x: unsupported expression "request\.host \+ 'a'": unexpected ' ' at offset 12/],
    [{ metrics: [{ dimensions: { x: "size(request.path)" } }] }, /: metrics\[0\]\.dimensions\.x: unsupported expression "size\(request\.path\)": unexpected '\(' at offset 4/],
    [{ metrics: [{ dimensions: { x: "request.nope" } }] }, /: metrics\[0\]\.dimensions\.x: unsupported expression "request\.nope": unknown attribute$/],
    [{ metrics: [{ dimensions: { x: "request.headers" } }] }, /: unsupported expression "request\.headers": headers needs one header name/],
    [{ metrics: [{ dimensions: { x: "request.duration" } }] }, /: metrics\[0\]\.dimensions\.x: a duration or timestamp cannot be a dimension$/],
    [{ metrics: [{ dimensions: { x: "downstream_peer.color" } }] }, /: unsupported expression "downstream_peer\.color": unknown peer field/],
    [{ metrics: [{ dimensions: { x: "xds.cluster_metadata.filter_metadata['istio']" } }] }, /: unsupported expression .*: unknown attribute$/],
    [{ definitions: [{ name: "requests_total", value: "1" }] }, /: definitions\[0\]\.name: "requests_total" is a standard metric or already defined$/],
    [{ definitions: [{ name: "a", value: "1" }, { name: "a", value: "2" }] }, /: definitions\[1\]\.name: "a" is a standard metric or already defined$/],
    [{ definitions: [{ name: "a", value: "connection.mtls" }] }, /: definitions\[0\]\.value: "connection\.mtls" is not an integer expression$/],
    [{ definitions: [{ name: "a", value: "'abc'" }] }, /: definitions\[0\]\.value: "'abc'" is not an integer expression$/],
  ];
  for (const [config, expected] of cases) {
    const text = typeof config === "string" ? config : JSON.stringify(config);
    it(text, async () => {
      const all = await configureError(config);
      assert.ok(all.includes("Failed to configure base Wasm plugin"), "Envoy refuses the plugin");
      // One line from the module (the host's "wasm log <plugin>...: " prefix aside).
      const errors = all.filter((l) => l.includes("stats: plugin configuration: "));
      assert.equal(errors.length, 1, all.join("\n"));
      assert.match(errors[0]!.slice(errors[0]!.indexOf("stats: plugin configuration: ")), expected);
    });
  }
});
