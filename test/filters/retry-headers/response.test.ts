// The response side (issue 7): the number of upstream attempts (upstream.request_attempt_count)
// exposed to the client and recorded in a histogram; internal response headers stripped.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FilterHeadersStatus, type DecoderFilterCallbacks, type StreamDecoderFilter } from "../../../host/http/filter.js";
import type { Emulator } from "../../../host/emulator/index.js";
import { toObject, withFilter } from "./harness.js";

/** A request answered by the upstream after `attempts` attempts (the router sets the count per attempt). */
function respondAfter(emu: Emulator, attempts: number, headers: Record<string, string> = {}): Record<string, string> {
  const s = emu.newStream();
  s.sendRequestHeaders({ ":method": "GET", ":path": "/", ":authority": "a" }, { endStream: true });
  s.streamInfo.upstream.requestAttemptCount = attempts;
  s.respond({ status: 503, headers });
  s.complete();
  return toObject(s.downstream.headers);
}

/** A filter between the plugin and the router that answers locally, as Envoy's filters can. */
class LocalReplyFilter implements StreamDecoderFilter {
  private callbacks!: DecoderFilterCallbacks;
  setDecoderFilterCallbacks(callbacks: DecoderFilterCallbacks): void {
    this.callbacks = callbacks;
  }
  decodeHeaders(): FilterHeadersStatus {
    this.callbacks.sendLocalReply({ status: 429, body: "slow down", grpcStatus: null, details: "test_local_reply" });
    return FilterHeadersStatus.StopIteration;
  }
  decodeData() {
    return 0;
  }
  decodeTrailers() {
    return 0;
  }
  onDestroy(): void {}
}

describe("retry-headers response", () => {
  test("x-envoy-attempt-count carries upstream.request_attempt_count, and the histogram records it", () =>
    withFilter({}, ({ emu }) => {
      assert.equal(respondAfter(emu, 3)["x-envoy-attempt-count"], "3");
      assert.equal(respondAfter(emu, 1)["x-envoy-attempt-count"], "1");
      assert.equal(respondAfter(emu, 21)["x-envoy-attempt-count"], "21");
      const h = emu.histogram("retry_headers_upstream_attempts");
      assert.ok(h, "histogram defined");
      assert.equal(h.count, 3);
      assert.equal(h.sum, 25);
    }));

  test("a count the router already added (include_attempt_count_in_response) is left alone", () =>
    withFilter({}, ({ emu }) => {
      assert.equal(respondAfter(emu, 2, { "x-envoy-attempt-count": "2" })["x-envoy-attempt-count"], "2");
    }));

  test("attempt_count_header renames it; expose_attempt_count: false leaves it out but still records", () =>
    withFilter({ attempt_count_header: "X-Retry-Attempts" }, ({ emu }) => {
      const got = respondAfter(emu, 2);
      assert.equal(got["x-retry-attempts"], "2");
      assert.equal(got["x-envoy-attempt-count"], undefined);
    }).then(() =>
      withFilter({ expose_attempt_count: false }, ({ emu }) => {
        assert.equal(respondAfter(emu, 2)["x-envoy-attempt-count"], undefined);
        assert.equal(emu.histogram("retry_headers_upstream_attempts")?.count, 1);
      }),
    ));

  test("no upstream attempt (a local reply before the router): no header, nothing recorded, as Envoy", () =>
    withFilter({}, ({ emu }) => {
      const s = emu.newStream({ extraFilters: { after: [new LocalReplyFilter()] } });
      s.sendRequestHeaders({ ":method": "GET", ":path": "/", ":authority": "a" }, { endStream: true });
      s.complete();
      assert.equal(s.downstream.headers?.get(":status"), "429");
      assert.equal(s.downstream.headers?.get("x-envoy-attempt-count"), undefined);
      assert.equal(emu.histogram("retry_headers_upstream_attempts")?.count ?? 0, 0);
    }));

  test("strip_response_headers removes names and name prefixes, then the attempt count is added", () =>
    withFilter({ strip_response_headers: ["x-envoy-upstream-service-time", "x-envoy-*", "Server"] }, ({ emu }) => {
      const got = respondAfter(emu, 3, {
        "x-envoy-upstream-service-time": "12",
        "x-envoy-decorator-operation": "op",
        "x-envoy-attempt-count": "3",
        server: "envoy",
        "x-envoyish": "kept",
        "content-type": "text/plain",
      });
      assert.equal(got["x-envoy-upstream-service-time"], undefined);
      assert.equal(got["x-envoy-decorator-operation"], undefined);
      assert.equal(got.server, undefined);
      assert.equal(got["x-envoyish"], "kept");
      assert.equal(got["content-type"], "text/plain");
      assert.equal(got["x-envoy-attempt-count"], "3");
    }));
});
