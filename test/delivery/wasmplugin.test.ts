import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseAllDocuments } from "yaml";
import { goRequestUriScheme } from "../../host/istio/cel-rules.js";
import { deployableFilters, suiteDefaults } from "../../host/istio/descriptor.js";
import { extraStatTagRegex, istioOperatorOverlay, istioStandardLabels, istiodHelmValues, telemetryDisablingBuiltinMetrics } from "../../host/istio/mesh.js";
import { shippedDir, shippedManifests } from "../../host/istio/shipped.js";
import { compileWasmPluginValidator, crdFile, wasmPluginErrors } from "../../host/istio/validate.js";
import { generateWasmPlugin, type WasmPluginResource } from "../../host/istio/wasmplugin.js";

const sha = "0123456789abcdef".repeat(4);

function valid(): WasmPluginResource {
  return generateWasmPlugin({ filter: "stats", url: "oci://127.0.0.1:5000/proxy-wasm-as/stats:1", sha256: sha });
}

test("a generated WasmPlugin carries the filters.md §5.5 defaults and validates", () => {
  for (const filter of deployableFilters()) {
    const plugin = generateWasmPlugin({
      filter,
      url: `ghcr.io/org/${filter}:1.0`,
      sha256: sha,
      matchLabels: { istio: "ingressgateway" },
      imagePullSecret: "regcred",
      namespace: "apps",
    });
    assert.deepEqual(wasmPluginErrors(plugin), [], filter);
    assert.equal(plugin.spec.url, `oci://ghcr.io/org/${filter}:1.0`, "a bare reference gets oci://");
    assert.equal(plugin.spec.sha256, sha);
    assert.equal(plugin.metadata.namespace, "apps");
  }
  const mx = generateWasmPlugin({ filter: "metadata-exchange", url: "oci://r/mx:1" }).spec;
  assert.deepEqual([mx.phase, mx.priority, mx.match, mx.pluginName, mx.failStrategy], ["AUTHN", 1000, [{ mode: "CLIENT_AND_SERVER" }], "metadata_exchange", "FAIL_OPEN"]);
  assert.equal(generateWasmPlugin({ filter: "stats", url: "oci://r/s:1" }).spec.phase, "STATS");
  assert.deepEqual(generateWasmPlugin({ filter: "retry-headers", url: "oci://r/s:1" }).spec.match, [{ mode: "CLIENT" }]);
  assert.equal(generateWasmPlugin({ filter: "rate-limit", url: "oci://r/s:1" }).spec.phase, "AUTHZ");
  assert.deepEqual(Object.keys(suiteDefaults).sort(), ["metadata-exchange", "rate-limit", "retry-headers", "stats"]);
});

test("the CRD's CEL rules and Kubernetes' structural checks reject what the API server would", () => {
  const cases: [string, (p: WasmPluginResource) => void, RegExp][] = [
    ["selector and targetRefs", (p) => ((p.spec.selector = { matchLabels: { app: "a" } }), (p.spec.targetRefs = [{ kind: "Gateway", group: "gateway.networking.k8s.io", name: "g" }])), /^spec: only one of targetRefs or selector can be set$/],
    ["selector and targetRef", (p) => ((p.spec.selector = {}), (p.spec.targetRef = { kind: "Gateway", name: "g" })), /only one of targetRefs or selector/],
    ["wildcard label value", (p) => (p.spec.selector = { matchLabels: { app: "web*" } }), /^spec\.selector\.matchLabels\.app: wildcard not allowed in label value match$/],
    ["wildcard label key", (p) => (p.spec.selector = { matchLabels: { "a*": "b" } }), /^spec\.selector\.matchLabels: wildcard not allowed in label key match$/],
    ["empty label key", (p) => (p.spec.selector = { matchLabels: { "": "b" } }), /^spec\.selector\.matchLabels: key must not be empty$/],
    ["cross-namespace targetRef", (p) => (p.spec.targetRefs = [{ kind: "Gateway", name: "g", namespace: "other" }]), /^spec\.targetRefs\[0\]\.namespace: cross namespace referencing is not currently supported$/],
    ["url scheme", (p) => (p.spec.url = "ftp://host/x.wasm"), /^spec\.url: url must have schema one of \[http, https, file, oci\]$/],
    ["registry:port without oci://", (p) => (p.spec.url = "localhost:5000/x:1"), /^spec\.url: url must have schema/],
    ["HOST env with value", (p) => (p.spec.vmConfig = { env: [{ name: "POD", valueFrom: "HOST", value: "x" }] }), /^spec\.vmConfig\.env\[0\]: value may only be set when valueFrom is INLINE$/],
    ["sha256 format", (p) => (p.spec.sha256 = "SHA256:" + sha), /^spec\.sha256: must match pattern/],
    ["phase enum", (p) => (p.spec.phase = "AUTHORIZATION"), /^spec\.phase: must be equal to one of the allowed values \(UNSPECIFIED_PHASE, AUTHN, AUTHZ, STATS\)$/],
    ["failStrategy enum", (p) => (p.spec.failStrategy = "FAIL_CLOSED"), /^spec\.failStrategy: must be equal to one of the allowed values/],
    ["priority int32", (p) => (p.spec.priority = 2 ** 31), /^spec\.priority: must match format "int32"$/],
    ["duplicate port", (p) => (p.spec.match = [{ mode: "SERVER", ports: [{ number: 8080 }, { number: 8080 }] }]), /^spec\.match\[0\]\.ports: duplicate entries for key \[number=8080\]$/],
    ["port range", (p) => (p.spec.match = [{ ports: [{ number: 0 }] }]), /^spec\.match\[0\]\.ports\[0\]\.number: must be >= 1$/],
    ["unknown field", (p) => (p.spec.rootID = "x"), /^spec: unknown field "rootID"$/],
    ["missing url", (p) => delete p.spec.url, /^spec: must have required property 'url'$/],
    ["metadata.name", (p) => (p.metadata.name = "Stats_Filter"), /^metadata\.name: must match pattern/],
    ["kind", (p) => ((p as { kind: string }).kind = "EnvoyFilter"), /^kind: must be equal to constant$/],
    ["too many targetRefs", (p) => (p.spec.targetRefs = Array.from({ length: 17 }, (_, i) => ({ kind: "Service", group: "", name: `s${i}` }))), /^spec\.targetRefs: must NOT have more than 16 items$/],
  ];
  for (const [name, mutate, expected] of cases) {
    const plugin = valid();
    mutate(plugin);
    const errors = wasmPluginErrors(plugin);
    assert.ok(errors.some((e) => expected.test(e)), `${name}: got ${JSON.stringify(errors)}`);
  }
  // what the API server accepts: pluginConfig keeps unknown fields, priority may be null, bare hosts get http://
  const ok = valid();
  Object.assign(ok.spec, { pluginConfig: { any: { nested: [1, "x"] } }, priority: null, url: "ghcr.io/org/x:1", targetRefs: [{ kind: "Gateway", group: "gateway.networking.k8s.io", name: "gw" }] });
  assert.deepEqual(wasmPluginErrors(ok), []);
});

test("url schemes follow Go's ParseRequestURI, as Kubernetes' CEL isURL does", () => {
  assert.equal(goRequestUriScheme("oci://ghcr.io/a:1"), "oci");
  assert.equal(goRequestUriScheme("FILE:///opt/a.wasm"), "file");
  assert.equal(goRequestUriScheme("/opt/a.wasm"), "");
  assert.equal(goRequestUriScheme("ghcr.io/a:1"), undefined, "no scheme and not a path");
  assert.equal(goRequestUriScheme("localhost:5000/a"), "localhost", "an opaque URL with scheme localhost");
  assert.equal(goRequestUriScheme("127.0.0.1:5000/a"), undefined, "a digit cannot start a scheme");
  assert.equal(goRequestUriScheme("http://h:port/x"), undefined, "invalid port");
  assert.equal(goRequestUriScheme(":x"), undefined);
});

test("a CRD copy with a rule we do not evaluate is refused, not half-checked", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "crd-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const changed = readFileSync(crdFile, "utf8").replace("rule: '!self.contains(\"*\")'", "rule: 'self.size() < 64'");
  assert.notEqual(changed, readFileSync(crdFile, "utf8"));
  writeFileSync(join(dir, "crd.yaml"), changed);
  assert.throws(() => compileWasmPluginValidator(join(dir, "crd.yaml")), /CRD rule not implemented in host\/istio\/cel-rules\.ts: self\.size\(\) < 64/);
});

test("the shipped manifests in envoy/istio validate and match what the descriptors generate", () => {
  const expected = shippedManifests();
  const onDisk = readdirSync(shippedDir).filter((f) => f.endsWith(".yaml")).sort();
  assert.deepEqual(onDisk, [...expected.keys()].sort(), "envoy/istio/*.yaml are the generated set");
  let plugins = 0;
  for (const file of onDisk) {
    const text = readFileSync(join(shippedDir, file), "utf8");
    for (const doc of parseAllDocuments(text)) {
      const resource = doc.toJS() as { kind: string };
      if (resource.kind !== "WasmPlugin") continue;
      plugins++;
      assert.deepEqual(wasmPluginErrors(resource), [], `envoy/istio/${file}`);
    }
    assert.equal(text, expected.get(file), `envoy/istio/${file} is out of date: run \`npm run build:ts && node dist/host/istio/shipped.js\``);
  }
  assert.equal(plugins, deployableFilters().length, "one WasmPlugin per filter");
});

test("WasmPlugins are shipped for the four suite filters and the add-header example, not for SDK demos", (t) => {
  assert.deepEqual(deployableFilters(), ["add-header", "metadata-exchange", "rate-limit", "retry-headers", "stats"]);
  // A new filter directly under filters/ is deployable by the layout; another example is not.
  const root = mkdtempSync(join(tmpdir(), "deployable-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, "package.json"), JSON.stringify({ version: "1.0.0" }));
  for (const dir of ["filters/header-guard", "filters/examples/add-header", "filters/examples/proxy-runtime-demo"]) {
    mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, dir, "index.ts"), "");
  }
  assert.deepEqual(deployableFilters(root), ["add-header", "header-guard", "metadata-exchange", "rate-limit", "retry-headers", "stats"]);
  assert.ok(!shippedManifests(root).has("proxy-runtime-demo.yaml"));
  const demo = generateWasmPlugin({ filter: "proxy-runtime-demo", url: "oci://r/demo:1", root });
  assert.deepEqual(wasmPluginErrors(demo), [], "an example's WasmPlugin can still be generated on request");
});

test("beside the plugins: extraStatTags for the 25 labels, Telemetry off for built-in metrics, MX coexistence", () => {
  assert.equal(istioStandardLabels.length, 25);
  assert.equal(new Set(istioStandardLabels).size, 25);
  // what Istio renders into the bootstrap for an extra stat tag, and what the stats filter's names need
  const regex = new RegExp(extraStatTagRegex("response_code"));
  const name = "wasmcustom.reporter=.=destination;.;response_code=.=200;.;istio_requests_total";
  assert.deepEqual(regex.exec(name)?.slice(1), ["response_code=.=200;.;", "200"]);
  const operator = istioOperatorOverlay() as { spec: { meshConfig: { defaultConfig: { extraStatTags: string[] } }; values: { pilot: { env: Record<string, string> } } } };
  assert.deepEqual(operator.spec.meshConfig.defaultConfig.extraStatTags, [...istioStandardLabels]);
  assert.equal(operator.spec.values.pilot.env.PILOT_ENABLE_METADATA_EXCHANGE, "false");
  const helm = istiodHelmValues() as { meshConfig: unknown; pilot: unknown };
  assert.deepEqual(helm.meshConfig, operator.spec.meshConfig);
  assert.deepEqual(helm.pilot, operator.spec.values.pilot);
  const telemetry = telemetryDisablingBuiltinMetrics() as { metadata: { namespace: string }; spec: { metrics: { providers: { name: string }[]; overrides: { match: { metric: string }; disabled: boolean }[] }[] } };
  assert.equal(telemetry.metadata.namespace, "istio-system", "root namespace: applies mesh-wide");
  assert.deepEqual(telemetry.spec.metrics[0]!.providers, [{ name: "prometheus" }]);
  assert.deepEqual(telemetry.spec.metrics[0]!.overrides.map((o) => [o.match.metric, o.disabled]), [["ALL_METRICS", true]]);
});

test("a filter's wasmplugin.json overrides the defaults; its config.schema.json checks pluginConfig", (t) => {
  const root = mkdtempSync(join(tmpdir(), "descriptor-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, "package.json"), JSON.stringify({ version: "9.9.9" }));
  const dir = join(root, "filters", "header-guard");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "index.ts"), "");
  const write = (descriptor: object, schema?: object) => {
    writeFileSync(join(dir, "wasmplugin.json"), JSON.stringify(descriptor));
    if (schema) writeFileSync(join(dir, "config.schema.json"), JSON.stringify(schema));
  };
  const schema = { type: "object", properties: { header: { type: "string" } }, required: ["header"], additionalProperties: false };
  write({ pluginName: "guard", phase: "AUTHZ", priority: 10, pluginConfig: { header: "x-guard" } }, schema);
  const plugin = generateWasmPlugin({ filter: "header-guard", url: "oci://r/g:1", root });
  assert.deepEqual([plugin.spec.pluginName, plugin.spec.phase, plugin.spec.priority, plugin.spec.pluginConfig], ["guard", "AUTHZ", 10, { header: "x-guard" }]);
  assert.equal(plugin.spec.failStrategy, "FAIL_CLOSE", "unlisted fields keep the defaults of filters outside the suite");
  assert.ok(shippedManifests(root).get("header-guard.yaml")!.includes("url: oci://registry.example.com/proxy-wasm-as/header-guard:9.9.9"));
  write({ pluginConfig: { header: 42 } });
  assert.throws(() => generateWasmPlugin({ filter: "header-guard", url: "oci://r/g:1", root }), /header-guard: pluginConfig does not match .*config\.schema\.json:\n  spec\.pluginConfig\.header: must be string/);
  write({ phase: "LATE" });
  assert.throws(() => generateWasmPlugin({ filter: "header-guard", url: "oci://r/g:1", root }), /WasmPlugin for header-guard: invalid WasmPlugin:\n  spec\.phase: must be equal to one of the allowed values/);
  write({ url: "oci://elsewhere/x:1" });
  assert.throws(() => generateWasmPlugin({ filter: "header-guard", url: "oci://r/g:1", root }), /wasmplugin\.json: "url" is set from the pushed image/);
  writeFileSync(join(dir, "wasmplugin.json"), "{");
  assert.throws(() => generateWasmPlugin({ filter: "header-guard", url: "oci://r/g:1", root }), /wasmplugin\.json: not valid JSON/);
});
