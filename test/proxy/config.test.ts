// Bootstrap loading and validation: Envoy's proto checks with JSON paths, protoc-gen-validate
// rules, --config-yaml merging, the supported subset, and the load-time semantic checks.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadBootstrap, parseConfigText } from "../../host/config/bootstrap.js";
import { supportedTypes } from "../../host/config/supported.js";
import { lookupType } from "../../host/envoy/protos.js";
import { bootstrap } from "../support/proxy.js";

const configs = new URL("../../../test/proxy/configs/", import.meta.url).pathname;

function load(json: unknown) {
  return loadBootstrap({ config: { json, source: "test.yaml" } });
}

function rejects(json: unknown, pattern: RegExp): void {
  assert.throws(() => load(json), (e: Error) => {
    assert.match(e.message, pattern);
    return true;
  });
}

function yaml(text: string): unknown {
  return parseConfigText(text, "inline", "yaml");
}

describe("bootstrap loading", () => {
  test("the scenario configs load with Envoy's defaults applied", () => {
    const simple = loadBootstrap({ configPath: `${configs}simple.yaml` }).model;
    const route = simple.listeners[0]!.hcm.routeConfig.virtualHosts[0]!.routes[0]!.action;
    assert.equal(route.kind, "route");
    assert.equal(route.kind === "route" && route.timeoutMs, 15000, "default route timeout");
    assert.equal(simple.clusters[0]!.type, "LOGICAL_DNS");
    assert.equal(simple.clusters[0]!.endpoints[0]!.hostname, "httpbin");
    assert.equal(simple.listeners[0]!.hcm.serverName, "envoy");
    const retry = loadBootstrap({ configPath: `${configs}simple_retry.yaml` }).model.listeners[0]!.hcm.routeConfig.virtualHosts[0]!.routes[0]!.action;
    assert.deepEqual(retry.kind === "route" && retry.retryPolicy && [retry.retryPolicy.retryOn, retry.retryPolicy.numRetries], ["5xx", 3]);
    const timeout = loadBootstrap({ configPath: `${configs}simple_change_timeout.yaml` }).model.listeners[0]!.hcm.routeConfig.virtualHosts[0]!.routes[0]!.action;
    assert.equal(timeout.kind === "route" && timeout.timeoutMs, 1000);
  });

  test("JSON files and lowerCamelCase keys are accepted, as Envoy accepts both", () => {
    const dir = mkdtempSync(join(tmpdir(), "proxy-config-"));
    const file = join(dir, "b.json");
    const b = bootstrap(8080) as { static_resources: { clusters: Array<Record<string, unknown>> } };
    b.static_resources.clusters[0]!.connectTimeout = "2s";
    delete b.static_resources.clusters[0]!.connect_timeout;
    writeFileSync(file, JSON.stringify(b));
    assert.equal(loadBootstrap({ configPath: file }).model.clusters[0]!.connectTimeoutMs, 2000);
  });

  test("no config at all: Envoy's message", () => {
    assert.throws(() => loadBootstrap({}), /At least one of --config-path or --config-yaml or Options::configProto\(\) should be non-empty/);
  });

  test("a missing file and a YAML syntax error name the file", () => {
    assert.throws(() => loadBootstrap({ configPath: "/nonexistent/envoy.yaml" }), /unable to read file: \/nonexistent\/envoy\.yaml/);
    assert.throws(() => loadBootstrap({ configYaml: "admin: [" }), /--config-yaml: unable to parse YAML/);
  });
});

describe("proto validation, as envoy --mode validate", () => {
  test("an unknown field is reported with its JSON path", () => {
    rejects(yaml("static_resources: {clusters: [{name: a, conect_timeout: 1s}]}"), /static_resources\.clusters\[0\]\.conect_timeout: Cannot find field \(in envoy\.config\.cluster\.v3\.Cluster\)/);
  });

  test("a wrong type is reported with its JSON path", () => {
    rejects(yaml("static_resources: {clusters: [{name: a, connect_timeout: 5}]}"), /static_resources\.clusters\[0\]\.connect_timeout: invalid duration 5/);
    rejects(yaml("admin: {address: {socket_address: {address: x, port_value: abc}}}"), /admin\.address\.socket_address\.port_value: expected an integer/);
  });

  test("an unknown @type is reported with its JSON path", () => {
    const b = bootstrap(80) as any;
    b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config["@type"] = "type.googleapis.com/envoy.extensions.filters.http.nope.v3.Nope";
    rejects(b, /http_filters\[0\]\.typed_config\.@type: unknown type URL "type\.googleapis\.com\/envoy\.extensions\.filters\.http\.nope\.v3\.Nope"/);
  });

  test("protoc-gen-validate rules: required names, port range, required oneofs", () => {
    rejects(yaml("static_resources: {clusters: [{type: STATIC}]}"), /static_resources\.clusters\[0\]\.name: value length must be at least 1 characters/);
    rejects(yaml("admin: {address: {socket_address: {address: x, port_value: 70000}}}"), /port_value: value must be less than or equal to 65535/);
    rejects(yaml("admin: {address: {socket_address: {address: x}}}"), /admin\.address\.socket_address: one of port_value, named_port must be set/);
  });

  test("the Wasm PluginConfig fields of current Envoy validate (failure_policy, allow_on_headers_stop_iteration)", () => {
    const dir = mkdtempSync(join(tmpdir(), "proxy-config-"));
    const wasm = join(dir, "m.wasm");
    writeFileSync(wasm, Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
    const b = bootstrap(80) as any;
    const hcm = b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    hcm.http_filters.unshift({
      name: "envoy.filters.http.wasm",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
        config: {
          name: "p",
          root_id: "r",
          failure_policy: "FAIL_OPEN",
          allow_on_headers_stop_iteration: true,
          configuration: { "@type": "type.googleapis.com/google.protobuf.Struct", value: { a: 1 } },
          vm_config: { vm_id: "v", runtime: "envoy.wasm.runtime.v8", code: { local: { filename: wasm } }, environment_variables: { key_values: { K: "1" } } },
        },
      },
    });
    const f = load(b).model.listeners[0]!.hcm.httpFilters[0]!;
    assert.equal(f.kind, "wasm");
    if (f.kind !== "wasm") return;
    assert.equal(f.plugin.failurePolicy, "FAIL_OPEN");
    assert.equal(f.plugin.allowOnHeadersStopIteration, true);
    assert.equal(Buffer.from(f.plugin.configuration).toString(), '{"a":1}', "a Struct configuration reaches the plugin as JSON");
    assert.deepEqual(f.plugin.environment, { K: "1" });
  });
});

describe("--config-yaml is merged over -c with protobuf MergeFrom semantics", () => {
  test("scalars overwrite, messages merge, repeated fields append", () => {
    const b = loadBootstrap({
      configPath: `${configs}simple.yaml`,
      configYaml: "admin: {address: {socket_address: {port_value: 9902}}}\nstatic_resources: {clusters: [{name: extra, load_assignment: {cluster_name: extra}}]}",
    });
    assert.deepEqual(b.model.admin?.address, { address: "0.0.0.0", port: 9902 }, "address kept, port overwritten");
    assert.deepEqual(b.model.clusters.map((c) => c.name), ["httpbin_service", "extra"]);
  });

  test("the override alone is a complete bootstrap (envoy --config-yaml \"$(cat simple.yaml)\")", () => {
    const text = parseConfigText(JSON.stringify(bootstrap(80)), "x", "json");
    assert.equal(loadBootstrap({ configYaml: JSON.stringify(text) }).model.listeners[0]!.name, "test");
  });
});

describe("the local proxy's supported subset", () => {
  test("valid Envoy config outside the subset is refused naming the field", () => {
    rejects(yaml("static_resources: {clusters: [{name: a, type: EDS}]}"), /static_resources\.clusters\[0\]\.type: not supported by the local proxy \(value "EDS"/);
    rejects(yaml("static_resources: {clusters: [{name: a, circuit_breakers: {}}]}"), /static_resources\.clusters\[0\]\.circuit_breakers: not supported by the local proxy/);
    rejects(yaml("layered_runtime: {}"), /^test\.yaml: layered_runtime: not supported by the local proxy/);
    rejects(bootstrap(80, { hcm: { codec_type: "HTTP2" } }), /typed_config\.codec_type: not supported by the local proxy \(value "HTTP2"/);
    rejects(bootstrap(80, { hcm: { tracing: {} } }), /typed_config\.tracing: not supported by the local proxy$/);
  });

  test("every message and field in the subset table exists in Envoy's protos", () => {
    for (const [typeName, fields] of supportedTypes()) {
      const t = lookupType(typeName);
      assert.ok(t, `${typeName} is a known type`);
      for (const f of fields) assert.ok(t.fields[f], `${typeName}.${f} exists`);
    }
  });

  test("header value command operators outside the implemented set are refused", () => {
    rejects(bootstrap(80, { route: { cluster: "upstream" }, vhost: { request_headers_to_add: [{ header: { key: "x", value: "%UPSTREAM_HOST%" } }] } }), /request_headers_to_add\[0\]\.header\.value: not supported by the local proxy \(command operator %UPSTREAM_HOST%/);
  });
});

describe("load-time semantic checks", () => {
  test("a route to an unknown cluster", () => {
    rejects(bootstrap(80, { route: { cluster: "nope" } }), /routes\[0\]\.route\.cluster: route: unknown cluster 'nope'/);
  });

  test("the router must be last and filters need typed_config", () => {
    const b = bootstrap(80) as any;
    const hcm = b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    hcm.http_filters = [{ name: "envoy.filters.http.router" }];
    rejects(b, /http_filters\[0\]: Didn't find a registered implementation for 'envoy\.filters\.http\.router' with type URL: ''/);
    hcm.http_filters = [];
    rejects(b, /the http filter chain needs the router/);
  });

  test("a missing Wasm module file fails the load naming the file", () => {
    const b = bootstrap(80) as any;
    b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters.unshift({
      name: "envoy.filters.http.wasm",
      typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm", config: { vm_config: { runtime: "envoy.wasm.runtime.v8", code: { local: { filename: "/no/such/filter.wasm" } } } } },
    });
    rejects(b, /vm_config\.code\.local\.filename: Wasm module file "\/no\/such\/filter\.wasm" does not exist/);
  });

  test("duplicate clusters, a STATIC cluster with a DNS name, LOGICAL_DNS with two endpoints", () => {
    const b = bootstrap(80) as any;
    b.static_resources.clusters.push(structuredClone(b.static_resources.clusters[0]));
    rejects(b, /static_resources\.clusters\[1\]\.name: cluster manager: duplicate cluster 'upstream'/);
    const ep = (address: string) => ({ endpoint: { address: { socket_address: { address, port_value: 80 } } } });
    rejects(bootstrap(80, { cluster: { load_assignment: { cluster_name: "u", endpoints: [{ lb_endpoints: [ep("example.com")] }] } } }), /malformed IP address: example\.com/);
    rejects(bootstrap(80, { cluster: { type: "LOGICAL_DNS", load_assignment: { cluster_name: "u", endpoints: [{ lb_endpoints: [ep("a"), ep("b")] }] } } }), /LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint/);
  });

  test("stats_tags: a tag name given twice and an unknown name without regex", () => {
    rejects({ ...bootstrap(80), stats_config: { stats_tags: [{ tag_name: "envoy.cluster_name" }] } }, /Tag name 'envoy\.cluster_name' specified twice/);
    rejects({ ...bootstrap(80), stats_config: { stats_tags: [{ tag_name: "mine" }] } }, /No regex specified for tag specifier and no default regex for name: 'mine'/);
    rejects({ ...bootstrap(80), stats_config: { stats_tags: [{ tag_name: "mine", regex: "(" }] } }, /stats_tags\[0\]\.regex: invalid regex/);
  });
});
