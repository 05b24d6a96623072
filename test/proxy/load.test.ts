// A short concurrent load (autocannon, 20 connections, 2 s) through the local proxy: no errors, no
// non-2xx, and Envoy's counters agree with what the client saw. Throughput is measured by
// `npm run bench` (bench/proxy-throughput.ts), not asserted here.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import { bootstrap, startProxy } from "../support/proxy.js";
import { startUpstream } from "./upstream.js";

type Autocannon = (o: { url: string; connections: number; duration: number }) => Promise<{ requests: { total: number }; errors: number; timeouts: number; non2xx: number; "2xx": number }>;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

test("20 concurrent keep-alive connections for 2 s: zero errors and consistent stats", async () => {
  const up = await startUpstream((_r, res) => void res.end("ok"));
  const p = await startProxy({ config: bootstrap(up.port), concurrency: 2, logLevel: "off" });
  try {
    const r = await autocannon({ url: `${p.url()}/load`, connections: 20, duration: 2 });
    assert.equal(r.errors, 0);
    assert.equal(r.timeouts, 0);
    assert.equal(r.non2xx, 0);
    assert.ok(r["2xx"] > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stats = await p.stats();
    // autocannon stops counting at the deadline; up to one request per connection is still in flight.
    const answered = stats.get("http.test.downstream_rq_2xx")!;
    assert.ok(answered >= r["2xx"] && answered <= r["2xx"] + 20, `${answered} answered, ${r["2xx"]} seen by the client`);
    assert.equal(stats.get("cluster.upstream.upstream_rq_200"), answered);
    assert.equal(stats.get("http.test.downstream_rq_active"), 0);
    assert.equal(stats.get("cluster.upstream.upstream_rq_active"), 0);
    assert.ok((stats.get("cluster.upstream.upstream_cx_total") ?? 0) <= 40, "upstream connections are pooled and reused");
  } finally {
    await p.stop();
    await up.close();
  }
});
