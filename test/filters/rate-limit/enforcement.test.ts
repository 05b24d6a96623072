// What a limited request gets, as Envoy's local_ratelimit filter answers it (filters.md §4.1,
// local_ratelimit.cc): a local reply with the configured status, details and body
// "local_rate_limited", x-envoy-ratelimited, retry-after from the bucket, response_headers_to_add;
// gRPC requests get a grpc-status; shadow mode lets the request through with a request header.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bucket, counters, loadRateLimit, request } from "./rl-kit.js";

describe("enforcement", () => {
  it("answers 429 local_rate_limited with x-envoy-ratelimited and retry-after", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(1, 1, "10s") });
    assert.equal(request(emu).status, 200);
    emu.advance(2500);
    const limited = request(emu);
    assert.equal(limited.status, 429);
    assert.equal(limited.body, "local_rate_limited");
    assert.equal(limited.stream.localReply?.details, "local_rate_limited");
    assert.equal(limited.stream.streamInfo.responseCodeDetails, "local_rate_limited");
    assert.equal(limited.headers["x-envoy-ratelimited"], "true");
    assert.equal(limited.headers["retry-after"], "8", "7.5 s until the next token, rounded up");
    assert.equal(limited.upstream, null, "never reaches the upstream");
    assert.equal(limited.headers["x-ratelimit-limit"], undefined, "rate-limit headers are off by default");
  });

  it("uses the configured status and extra response headers, and can leave out x-envoy-ratelimited", async () => {
    const { emu } = await loadRateLimit({
      token_bucket: bucket(1),
      status: 503,
      disable_x_envoy_ratelimited_header: true,
      response_headers_to_add: [{ key: "x-local-rate-limit", value: "true" }, { key: "X-Team", value: "edge" }],
    });
    request(emu);
    const limited = request(emu);
    assert.equal(limited.status, 503);
    assert.equal(limited.headers["x-local-rate-limit"], "true");
    assert.equal(limited.headers["x-team"], "edge");
    assert.equal(limited.headers["x-envoy-ratelimited"], undefined);
    assert.equal(limited.headers["retry-after"], "1");
  });

  it("answers gRPC requests with grpc-status 14 UNAVAILABLE, or 8 RESOURCE_EXHAUSTED if configured", async () => {
    const grpc = { "content-type": "application/grpc", ":method": "POST", ":path": "/pkg.Service/Method" };
    for (const [config, code] of [[{}, 14], [{ rate_limited_as_resource_exhausted: true }, 8]] as const) {
      const { emu } = await loadRateLimit({ token_bucket: bucket(1), ...config });
      request(emu, grpc);
      const limited = request(emu, grpc);
      assert.equal(limited.stream.localReply?.grpcStatus, code);
      assert.equal(limited.headers["grpc-status"], String(code));
      assert.equal(limited.headers["grpc-message"], "local_rate_limited");
      assert.equal(limited.status, 200, "Envoy sends gRPC local replies as trailers-only 200 responses");
      assert.equal(limited.headers["x-envoy-ratelimited"], "true");
    }
  });

  it("treats application/grpc+proto as gRPC but not application/grpc-web", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(1) });
    request(emu);
    assert.equal(request(emu, { "content-type": "application/grpc+proto" }).stream.localReply?.grpcStatus, 14);
    const web = request(emu, { "content-type": "application/grpc-web" });
    assert.equal(web.status, 429);
    assert.equal(web.stream.localReply?.grpcStatus ?? -1, -1);
  });

  it("lets limited requests through in shadow mode, marked with a request header", async () => {
    const { emu } = await loadRateLimit({ token_bucket: bucket(1), shadow_mode: true, enable_x_ratelimit_headers: "DRAFT_VERSION_03" });
    const first = request(emu);
    assert.equal(first.upstream?.["x-local-rate-limit-shadow"], undefined, "within the limit: unmarked");
    const second = request(emu);
    assert.equal(second.status, 200);
    assert.equal(second.upstream?.["x-local-rate-limit-shadow"], "true");
    assert.equal(second.headers["x-ratelimit-remaining"], "0", "the response still tells the client");
    assert.equal(second.headers["retry-after"], undefined);
    assert.deepEqual(counters(emu), { enabled: 2, ok: 1, rate_limited: 1, enforced: 0, cas_exhausted: 0, descriptor_overflow: 0 });
  });

  it("adds the configured request headers in shadow mode", async () => {
    const { emu } = await loadRateLimit({
      token_bucket: bucket(1),
      shadow_mode: true,
      request_headers_to_add_when_not_enforced: [{ key: "x-would-be-limited", value: "yes" }],
    });
    request(emu);
    const second = request(emu);
    assert.equal(second.upstream?.["x-would-be-limited"], "yes");
    assert.equal(second.upstream?.["x-local-rate-limit-shadow"], undefined, "the list replaces the default header");
  });
});
