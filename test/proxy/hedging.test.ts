// Hedging on per-try timeouts (x-envoy-hedge-on-per-try-timeout, Envoy router.cc
// onSoftPerTryTimeout / resetOtherUpstreams): a per-try timeout does not reset the attempt, a retry
// starts beside it, the first good response wins and the other attempt is reset; a bad response
// waits for the attempts still in flight; the expected-timeout hint is the global timeout.
// The connection manager deems loopback clients internal here so their x-envoy-* headers reach the
// router (the retry-headers filter, issue 7, sets the same headers from a rule).
import assert from "node:assert/strict";
import type http from "node:http";
import { after, describe, test } from "node:test";
import { bootstrap, startProxy, type StartedProxy } from "../support/proxy.js";
import { startUpstream, type TestUpstream } from "./upstream.js";

const running: Array<StartedProxy | TestUpstream> = [];
after(async () => {
  for (const r of running.reverse()) await ("stop" in r ? r.stop() : r.close());
});

/** Answers attempt n after delays[n-1] ms with statuses[n-1] and body "attempt n". */
async function start(delays: number[], statuses: number[] = delays.map(() => 200)) {
  const up = await startUpstream((_req, res: http.ServerResponse, attempt) => {
    setTimeout(() => {
      if (res.destroyed) return;
      res.statusCode = statuses[attempt - 1] ?? 200;
      res.end(`attempt ${attempt}`);
    }, delays[attempt - 1] ?? 0);
  });
  running.push(up);
  const p = await startProxy({
    config: bootstrap(up.port, {
      hcm: { use_remote_address: true, internal_address_config: { cidr_ranges: [{ address_prefix: "127.0.0.0", prefix_len: 8 }] } },
      vhost: { include_attempt_count_in_response: true },
    }),
  });
  running.push(p);
  return { up, p };
}

const retryHeaders = (hedge: "true" | "false" | undefined) => ({
  "x-envoy-retry-on": "5xx",
  "x-envoy-max-retries": "1",
  "x-envoy-upstream-rq-per-try-timeout-ms": "100",
  ...(hedge ? { "x-envoy-hedge-on-per-try-timeout": hedge } : {}),
});

const stat = async (p: StartedProxy, name: string) => (await p.stats()).get(`cluster.upstream.${name}`) ?? 0;

describe("router: hedging on per-try timeout", () => {
  test("the timed-out attempt keeps running and wins if it answers first; the retry is reset", async () => {
    const { up, p } = await start([200, 1000]);
    const res = await fetch(p.url(), { headers: retryHeaders("true") });
    assert.equal(await res.text(), "attempt 1");
    assert.equal(res.headers.get("x-envoy-attempt-count"), "2");
    assert.equal(up.received.length, 2, "a second attempt was started beside the first");
    assert.equal(await stat(p, "upstream_rq_per_try_timeout"), 0, "a soft timeout is not counted as a per-try timeout");
    assert.equal(await stat(p, "upstream_rq_retry"), 1);
  });

  test("without hedging the same per-try timeout resets the first attempt and the retry answers", async () => {
    const { up, p } = await start([200, 10]);
    const res = await fetch(p.url(), { headers: retryHeaders("false") });
    assert.equal(await res.text(), "attempt 2");
    assert.equal(up.received.length, 2);
    assert.equal(await stat(p, "upstream_rq_per_try_timeout"), 1);
  });

  test("the retry wins when it answers first", async () => {
    const { p } = await start([1000, 10]);
    const res = await fetch(p.url(), { headers: retryHeaders("true") });
    assert.equal(await res.text(), "attempt 2");
  });

  test("a bad response from one attempt waits for the attempt still in flight", async () => {
    const { p } = await start([200, 400], [503, 200]);
    const res = await fetch(p.url(), { headers: retryHeaders("true") });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "attempt 2");
  });

  test("with hedging the expected-timeout hint is the global timeout, not the per-try one", async () => {
    const { up, p } = await start([0, 0]);
    await (await fetch(p.url(), { headers: retryHeaders("true") })).text();
    assert.equal(up.header(0, "x-envoy-expected-rq-timeout-ms"), "15000");
    await (await fetch(p.url(), { headers: retryHeaders(undefined) })).text();
    assert.equal(up.header(1, "x-envoy-expected-rq-timeout-ms"), "100");
    assert.equal(up.header(0, "x-envoy-hedge-on-per-try-timeout"), undefined, "consumed by the router");
  });
});
