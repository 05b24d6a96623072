// Runs without Envoy: what the real-Envoy runs start from. The binary run's rewrite of a config
// changes only what it must, and compose.yaml runs the shipped configs the way docs/deploy.md
// says (each config selectable, the container laid out like the repository root).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { buildDir, projectRoot } from "../../host/build.js";
import { BOOTSTRAP_TYPE } from "../../host/config/bootstrap.js";
import { encodeJson } from "../../host/envoy/protos.js";
import { scenariosByConfig } from "../scenarios/index.js";
import { shippedConfig, shippedConfigNames } from "../scenarios/shipped.js";
import { listenerNames, rewriteForLocalRun } from "./bootstrap.js";

test("the local-run rewrite moves admin, listeners, httpbin and module paths, and nothing else", () => {
  const source = shippedConfig("envoy.yaml");
  assert.deepEqual(listenerNames(source), ["httpbin-demo"]);
  const local = rewriteForLocalRun(source, {
    adminPort: 40001,
    listenerPorts: { "httpbin-demo": 40002 },
    endpoints: { "127.0.0.1": { address: "127.0.0.1", port: 40003 } },
    root: projectRoot,
  });
  const text = JSON.stringify(local);
  assert.match(text, /"admin":\{"address":\{"socket_address":\{"address":"127\.0\.0\.1","port_value":40001\}/);
  assert.match(text, /"name":"httpbin-demo","traffic_direction":"OUTBOUND","address":\{"socket_address":\{"address":"127\.0\.0\.1","port_value":40002\}/);
  assert.match(text, /"socket_address":\{"address":"127\.0\.0\.1","port_value":40003\}/);
  for (const name of ["metadata-exchange", "rate-limit", "retry-headers", "stats"]) {
    assert.ok(text.includes(JSON.stringify(join(buildDir, `${name}.wasm`))), `${name}: relative to the repository root`);
  }
  assert.ok(!text.includes('"port_value":8000') && !text.includes('"port_value":15000') && !text.includes('"port_value":15001'));
  const { admin: _a, static_resources: _s, ...rest } = local;
  const { admin: _b, static_resources: _t, ...sourceRest } = source;
  assert.deepEqual(rest, sourceRest, "node and stats_config untouched");
  assert.ok(encodeJson(BOOTSTRAP_TYPE, local).length > 0, "still a valid bootstrap");
  assert.equal(JSON.stringify(source).includes("40001"), false, "the source object is not modified");
  assert.throws(() => rewriteForLocalRun(source, { adminPort: 1, listenerPorts: {}, endpoints: {}, root: projectRoot }), /no local port given for listener "httpbin-demo"/);
});

interface ComposeService {
  image: string;
  environment?: Record<string, string>;
  volumes?: string[];
  command?: string[];
  ports?: string[];
  network_mode?: string;
  working_dir?: string;
}

test("compose.yaml runs envoy/envoy.yaml by default, any shipped config with ENVOY_CONFIG, against go-httpbin on 8000", () => {
  const composeFile = parse(readFileSync(join(projectRoot, "compose.yaml"), "utf8")) as { services: Record<string, ComposeService> };
  const { envoy, httpbin } = composeFile.services;
  assert.ok(envoy && httpbin);
  assert.match(envoy.image, /^envoyproxy\/envoy:v1\.3\d\.\d+$/, "a pinned release with the V8 runtime");
  assert.match(httpbin.image, /^mccutchen\/go-httpbin:v\d+\.\d+\.\d+$/);
  assert.equal(httpbin.environment?.PORT, "8000", "envoy-scenarios.md S1: go-httpbin defaults to 8080");
  // Envoy shares httpbin's network namespace: the configs' 127.0.0.1:8000 is go-httpbin there too.
  assert.equal(envoy.network_mode, "service:httpbin");
  assert.deepEqual(httpbin.ports, ["${ENVOY_PUBLISH_ADMIN:-15000}:15000", "${ENVOY_PUBLISH_LISTENER:-15001}:15001"]);
  // The container's working directory mirrors the repository root: -c envoy/<config>, build/<module>.wasm.
  assert.equal(envoy.working_dir, "/etc/proxy-wasm-as");
  assert.deepEqual(envoy.volumes, ["./envoy:/etc/proxy-wasm-as/envoy:ro", "./build:/etc/proxy-wasm-as/build:ro"]);
  const args = envoy.command!;
  assert.equal(args[args.indexOf("-c") + 1], "envoy/${ENVOY_CONFIG:-envoy.yaml}");
  assert.deepEqual(args.slice(args.indexOf("--concurrency"), args.indexOf("--concurrency") + 2), ["--concurrency", "2"]);
  // Every selectable config listens where compose publishes, and has scenarios for test:envoy.
  const byConfig = scenariosByConfig();
  for (const config of shippedConfigNames()) {
    const c = shippedConfig(config) as { admin: { address: { socket_address: { address: string; port_value: number } } }; static_resources: { listeners: { address: { socket_address: { address: string; port_value: number } } }[] } };
    assert.deepEqual(c.admin.address.socket_address, { address: "0.0.0.0", port_value: 15000 }, `${config}: admin`);
    assert.deepEqual(c.static_resources.listeners.map((l) => l.address.socket_address), [{ address: "0.0.0.0", port_value: 15001 }], `${config}: listener`);
    assert.ok(byConfig.get(config)?.length, `${config} has scenarios`);
  }
});
