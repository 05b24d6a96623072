// One scenario list, several targets: the same assertions run against the local proxy
// (test/integration/) and real Envoy (test/envoy/, binary or compose.yaml). A target is an
// Envoy-like server started with one of the configs in envoy/, its httpbin cluster pointing at a
// live httpbin. A target serves every scenario of one config in list order, in one process, as a
// real Envoy does: scenarios leave state behind (counters, rate-limit buckets), so each one
// measures its own effect (deltas) and uses request paths no other scenario of its config uses.

export interface ScenarioTarget {
  /** "envoy-binary", "compose", "local-proxy" (for messages). */
  name: string;
  /** The listener (httpbin-demo), e.g. http://127.0.0.1:15001 */
  baseUrl: string;
  /** The admin interface, e.g. http://127.0.0.1:15000 */
  adminUrl: string;
  /** Counters and gauges of GET /stats (histograms left out). */
  stats(): Promise<Map<string, number>>;
}

export interface Scenario {
  name: string;
  /** The file in envoy/ the target must be running. */
  config: string;
  run(target: ScenarioTarget): Promise<void>;
}

/** Parses Envoy's /stats text (`name: value` lines); histogram lines have non-numeric values. */
export function parseStats(text: string): Map<string, number> {
  const stats = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(\S+): (-?\d+)$/.exec(line);
    if (m) stats.set(m[1]!, Number(m[2]));
  }
  return stats;
}

/** go-httpbin answers {"headers": {"Host": ["x"]}}, python httpbin {"headers": {"Host": "x"}}. */
export function echoedHeader(body: { headers?: Record<string, string | string[]> }, name: string): string | undefined {
  const entry = Object.entries(body.headers ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase());
  if (!entry) return undefined;
  return Array.isArray(entry[1]) ? entry[1][0] : entry[1];
}
