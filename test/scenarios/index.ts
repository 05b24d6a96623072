// The one list of scenarios both targets run: test/integration/ with the local proxy,
// test/envoy/ with real Envoy. Grouped by the config in envoy/ they need, in the order they run
// on one target; every shipped config has its list (test/proxy/shared-scenarios.test.ts checks).
import { addHeaderBothWays, idempotentRetries, metadataExchangeInbound, perClientLimit, statsInbound, trustedRetryHeaders } from "./filters.js";
import { envoyDefaults } from "./httpbin-proxy.js";
import { suiteScenarios } from "./suite.js";
import type { Scenario } from "./target.js";

export const scenarios: Scenario[] = [
  ...envoyDefaults("envoy.yaml"),
  ...suiteScenarios,
  ...envoyDefaults("add-header.yaml"),
  addHeaderBothWays,
  ...envoyDefaults("metadata-exchange.yaml"),
  metadataExchangeInbound,
  ...envoyDefaults("stats.yaml"),
  statsInbound,
  ...envoyDefaults("rate-limit.yaml"),
  perClientLimit("rate-limit.yaml"),
  ...envoyDefaults("retry-headers.yaml"),
  idempotentRetries("retry-headers.yaml"),
  trustedRetryHeaders,
];

/** Config file name → its scenarios in order. */
export function scenariosByConfig(list: Scenario[] = scenarios): Map<string, Scenario[]> {
  const byConfig = new Map<string, Scenario[]>();
  for (const s of list) byConfig.set(s.config, [...(byConfig.get(s.config) ?? []), s]);
  return byConfig;
}
