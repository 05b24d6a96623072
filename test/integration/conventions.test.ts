// What the shipped configs promise beyond being valid Envoy: the conventions docs/deploy.md
// documents (module paths, httpbin, fixture names), the suite's chain and Istio-shaped node in
// envoy/envoy.yaml (filters.md §1.5, §2.6), stats tags equal to the ones Istio renders for the
// extraStatTags we ship, and plugin configurations that each filter's schema accepts.
import assert from "node:assert/strict";
import { isAbsolute } from "node:path";
import { test } from "node:test";
import { findModules } from "../../host/build.js";
import { extraStatTagRegex, istioStandardLabels } from "../../host/istio/mesh.js";
import { pluginConfigProblems } from "../../host/istio/wasmplugin.js";
import { shippedConfig, shippedConfigNames, type Json } from "../scenarios/shipped.js";
import { listeners, wasmFilters, wasmModules } from "./config-parts.js";

const filterModules = new Set(findModules().filter((m) => !m.testOnly).map((m) => m.name));

test("every config loads its modules from build/<filter>.wasm, relative to the repository root", () => {
  for (const config of shippedConfigNames()) {
    const filters = wasmFilters(shippedConfig(config));
    assert.ok(filters.length > 0, `${config}: loads at least one Wasm filter`);
    for (const f of filters) {
      assert.ok(!isAbsolute(f.filename) && f.filename === `build/${f.module}.wasm`, `${config}: ${f.filename} is not build/<name>.wasm`);
      assert.ok(filterModules.has(f.module), `${config}: ${f.module} is not a filter under filters/`);
      assert.ok(f.rootId, `${config}: ${f.filterName} has a root_id`);
    }
  }
});

test("every config keeps the book's fixture: httpbin-demo -> httpbin_service -> 127.0.0.1:8000 (Host: httpbin)", () => {
  for (const config of shippedConfigNames()) {
    const c = shippedConfig(config) as { static_resources: { clusters: Json[] } };
    assert.deepEqual(listeners(c).map((l) => l.name), ["httpbin-demo"], config);
    assert.equal(listeners(c)[0]!.chain.at(-1)?.filterName, "envoy.filters.http.router", `${config}: the router is last`);
    const [cluster, ...others] = c.static_resources.clusters;
    assert.equal(others.length, 0, config);
    assert.equal(cluster!.name, "httpbin_service", config);
    const endpoint = JSON.stringify((cluster!.load_assignment as Json).endpoints);
    assert.match(endpoint, /"hostname":"httpbin","address":\{"socket_address":\{"address":"127\.0\.0\.1","port_value":8000\}\}/, config);
    assert.match(JSON.stringify(c), /"route":\{"auto_host_rewrite":true,"cluster":"httpbin_service"\}/, config);
  }
});

test("every plugin configuration matches its filter's config.schema.json", () => {
  let checked = 0;
  for (const config of shippedConfigNames()) {
    for (const f of wasmFilters(shippedConfig(config))) {
      if (f.configuration === undefined) continue;
      const result = pluginConfigProblems(f.module, JSON.parse(f.configuration), `${config} ${f.filterName} configuration`);
      if (!result) continue;
      assert.deepEqual(result.problems, [], `${config}: ${f.module} configuration vs ${result.file}`);
      checked++;
    }
  }
  assert.ok(checked >= 6, `only ${checked} configurations checked`);
});

test("envoy/envoy.yaml chains metadata-exchange -> rate-limit -> retry-headers -> stats -> router on an OUTBOUND listener", () => {
  const [listener] = listeners(shippedConfig("envoy.yaml"));
  assert.deepEqual(
    listener!.chain.map((e) => e.wasm?.module ?? e.filterName),
    ["metadata-exchange", "rate-limit", "retry-headers", "stats", "envoy.filters.http.router"],
  );
  // filters.md §1.5: an edge proxy is OUTBOUND, as Istio marks gateway listeners.
  assert.equal(listener!.trafficDirection, "OUTBOUND");
});

test("configs with the stats filter carry an Istio-shaped node and the stats tags Istio renders for extraStatTags", () => {
  const withStats = shippedConfigNames().filter((c) => wasmModules(shippedConfig(c)).includes("stats"));
  assert.deepEqual(withStats, ["envoy.yaml", "stats.yaml"]);
  for (const config of withStats) {
    const c = shippedConfig(config) as { node: { id: string; cluster: string; metadata: Json }; stats_config: { stats_tags: { tag_name: string; regex: string }[] } };
    // filters.md §2.6 item 2 and §1.2: what istio-agent writes.
    for (const key of ["NAME", "NAMESPACE", "WORKLOAD_NAME", "OWNER", "CLUSTER_ID", "MESH_ID", "ISTIO_VERSION"]) {
      assert.equal(typeof c.node.metadata[key], "string", `${config}: node.metadata.${key}`);
    }
    const labels = c.node.metadata.LABELS as Record<string, string>;
    for (const label of ["app", "version", "service.istio.io/canonical-name", "service.istio.io/canonical-revision"]) {
      assert.equal(typeof labels[label], "string", `${config}: node.metadata.LABELS["${label}"]`);
    }
    assert.match(c.node.id, /^(sidecar|router)~[\d.]+~[\w.-]+~[\w.-]+$/, `${config}: node.id as Istio builds it`);
    // §2.6 item 3: one tag per standard label, exactly as Istio renders extraStatTags (mesh.ts),
    // in the filter's order, then Istio's internal tags.
    const tags = c.stats_config.stats_tags;
    assert.deepEqual(
      tags.slice(0, istioStandardLabels.length),
      istioStandardLabels.map((label) => ({ tag_name: label, regex: extraStatTagRegex(label) })),
      config,
    );
    assert.deepEqual(tags.slice(istioStandardLabels.length).map((t) => t.tag_name), ["cache", "wasm_filter", "component", "tag"], config);
  }
});
