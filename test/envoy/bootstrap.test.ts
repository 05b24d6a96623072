// Runs without Envoy: the configs compose.yaml and the runner use are valid Envoy v3 (strict
// proto3 JSON through Envoy's own protos), and the local-run rewrite changes only what it must.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { buildDir, projectRoot } from "../../host/build.js";
import { encodeJson } from "../../host/envoy/protos.js";
import { addHeaderExample } from "../scenarios/httpbin-proxy.js";
import { composeModuleDir, listenerNames, rewriteForLocalRun } from "./bootstrap.js";

const load = (name: string) => parse(readFileSync(join(projectRoot, "envoy", name), "utf8")) as Record<string, unknown>;

test("envoy/add-header.yaml is a valid v3 bootstrap with the Wasm filter before the router", () => {
  const config = load(addHeaderExample.config);
  assert.ok(encodeJson("envoy.config.bootstrap.v3.Bootstrap", config).length > 0);
  const text = JSON.stringify(config);
  const wasmAt = text.indexOf('"envoy.filters.http.wasm"');
  assert.ok(wasmAt > 0 && wasmAt < text.indexOf('"envoy.filters.http.router"'));
  assert.match(text, new RegExp(`"filename":"${composeModuleDir}/add-header\\.wasm"`));
  const pluginConfig = JSON.parse(/"value":"(\{.*?\})"/.exec(text)![1]!.replace(/\\"/g, '"'));
  assert.deepEqual(pluginConfig, { header: addHeaderExample.header, value: addHeaderExample.value });
});

test("the local-run rewrite moves admin, listeners, httpbin and module paths, and nothing else", () => {
  const source = load(addHeaderExample.config);
  assert.deepEqual(listenerNames(source), ["httpbin-demo"]);
  const local = rewriteForLocalRun(source, {
    adminPort: 40001,
    listenerPorts: { "httpbin-demo": 40002 },
    endpoints: { httpbin: { address: "127.0.0.1", port: 40003 } },
    buildDir,
  });
  const text = JSON.stringify(local);
  assert.match(text, /"admin":\{"address":\{"socket_address":\{"address":"127\.0\.0\.1","port_value":40001\}/);
  assert.match(text, /"name":"httpbin-demo","address":\{"socket_address":\{"address":"127\.0\.0\.1","port_value":40002\}/);
  assert.match(text, /"socket_address":\{"address":"127\.0\.0\.1","port_value":40003\}/);
  assert.ok(text.includes(JSON.stringify(join(buildDir, "add-header.wasm"))));
  assert.ok(!text.includes('"address":"httpbin"') && !text.includes(composeModuleDir));
  assert.ok(encodeJson("envoy.config.bootstrap.v3.Bootstrap", local).length > 0, "still a valid bootstrap");
  assert.equal(JSON.stringify(source).includes("40001"), false, "the source object is not modified");
  assert.throws(() => rewriteForLocalRun(source, { adminPort: 1, listenerPorts: {}, endpoints: {}, buildDir }), /no local port given for listener "httpbin-demo"/);
});

test("compose.yaml pins its images, mounts build/ and envoy/, and runs httpbin on 8000", () => {
  const composeFile = parse(readFileSync(join(projectRoot, "compose.yaml"), "utf8")) as {
    services: Record<string, { image: string; environment?: Record<string, string>; volumes?: string[]; command?: string[]; ports?: string[] }>;
  };
  const { envoy, httpbin } = composeFile.services;
  assert.ok(envoy && httpbin);
  assert.match(envoy.image, /^envoyproxy\/envoy:v1\.3\d\.\d+$/, "a pinned release with the V8 runtime");
  assert.match(httpbin.image, /^mccutchen\/go-httpbin:v\d+\.\d+\.\d+$/);
  assert.equal(httpbin.environment?.PORT, "8000", "envoy-scenarios.md S1: go-httpbin defaults to 8080");
  assert.deepEqual(envoy.volumes, ["./envoy:/etc/envoy:ro", `./build:${composeModuleDir}:ro`]);
  const configArg = envoy.command![envoy.command!.indexOf("-c") + 1]!;
  assert.equal(configArg, "/etc/envoy/${ENVOY_CONFIG:-add-header.yaml}");
  assert.deepEqual(envoy.ports, ["${ENVOY_PUBLISH_ADMIN:-15000}:15000", "${ENVOY_PUBLISH_LISTENER:-15001}:15001"]);
  const config = load("add-header.yaml") as { admin: { address: { socket_address: { port_value: number } } } };
  assert.equal(config.admin.address.socket_address.port_value, 15000, "compose publishes the config's admin port");
  assert.equal((load("add-header.yaml").static_resources as { listeners: { address: { socket_address: { port_value: number } } }[] }).listeners[0]!.address.socket_address.port_value, 15001);
});
