// The filter suite the benchmarks load, in chain order, with configurations that let every request
// through. Kept apart from proxy-throughput.ts so that the per-request harnesses (lifecycle.ts and
// the callgrind driver) do not load the proxy and autocannon: their startup must repeat exactly.
export const filterSuite: Array<{ name: string; configuration: Record<string, unknown> }> = [
  { name: "metadata-exchange", configuration: {} },
  { name: "stats", configuration: {} },
  { name: "retry-headers", configuration: {} },
  // A bucket far larger than the load can drain, so the limiter runs on every request but never rejects.
  { name: "rate-limit", configuration: { token_bucket: { max_tokens: 100000000, tokens_per_fill: 100000000, fill_interval: "1s" } } },
];
