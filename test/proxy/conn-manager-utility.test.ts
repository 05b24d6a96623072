// ConnectionManagerUtility's request mutations (Envoy conn_manager_utility.cc, filters.md §3.2):
// XFF handling, the internal/external decision, cleanInternalHeaders, x-forwarded-proto, :scheme,
// x-request-id, TE and Referer sanitizing.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { HcmModel } from "../../host/config/model.js";
import { HeaderMap } from "../../host/http/header-map.js";
import { httpDate } from "../../host/proxy/date-provider.js";
import { internalAddressMatcher, lastAddressFromXff, mutateRequestHeaders, mutateResponseHeaders } from "../../host/proxy/conn-manager-utility.js";

function hcm(over: Partial<HcmModel> = {}): HcmModel {
  return {
    statPrefix: "t",
    useRemoteAddress: false,
    xffNumTrustedHops: 0,
    skipXffAppend: false,
    generateRequestId: true,
    preserveExternalRequestId: false,
    alwaysSetRequestIdInResponse: false,
    serverName: "envoy",
    serverHeaderTransformation: "OVERWRITE",
    routeConfig: { name: "", virtualHosts: [], internalOnlyHeaders: [], headers: { requestHeadersToAdd: [], requestHeadersToRemove: [], responseHeadersToAdd: [], responseHeadersToRemove: [] } },
    httpFilters: [],
    ...over,
  };
}

const rfc1918 = { unixSockets: false, cidrRanges: [] };

function mutate(headers: Array<[string, string]>, config: HcmModel, remote = "10.0.0.5") {
  const h = new HeaderMap([[":authority", "host"], [":path", "/"], [":method", "GET"], ...headers]);
  const r = mutateRequestHeaders(h, { remote, localInfoAddress: "192.0.2.1" }, config, internalAddressMatcher(config.internalAddress), config.routeConfig.internalOnlyHeaders, () => "new-id");
  return { h, ...r };
}

describe("x-forwarded-for and the trusted client address", () => {
  test("lastAddressFromXff skips trusted hops from the right and knows a single address", () => {
    const h = new HeaderMap([["x-forwarded-for", "1.1.1.1, 2.2.2.2 ,3.3.3.3"]]);
    assert.deepEqual(lastAddressFromXff(h, 0), { address: "3.3.3.3", singleAddress: false });
    assert.deepEqual(lastAddressFromXff(h, 1), { address: "2.2.2.2", singleAddress: false });
    assert.deepEqual(lastAddressFromXff(h, 3), { singleAddress: false });
    assert.deepEqual(lastAddressFromXff(new HeaderMap([["x-forwarded-for", "9.9.9.9"]]), 0), { address: "9.9.9.9", singleAddress: true });
    assert.deepEqual(lastAddressFromXff(new HeaderMap([["x-forwarded-for", "not-an-ip"]]), 0), { singleAddress: false });
  });

  test("use_remote_address appends the peer (a loopback peer as the local address) and overwrites x-forwarded-proto", () => {
    const r = mutate([["x-forwarded-for", "1.2.3.4"], ["x-forwarded-proto", "https"]], hcm({ useRemoteAddress: true }));
    assert.equal(r.h.get("x-forwarded-for"), "1.2.3.4, 10.0.0.5");
    assert.equal(r.h.get("x-forwarded-proto"), "http");
    assert.equal(r.finalRemoteAddress, "10.0.0.5");
    assert.equal(mutate([], hcm({ useRemoteAddress: true }), "127.0.0.1").h.get("x-forwarded-for"), "192.0.2.1");
    const trusted = mutate([["x-forwarded-for", "1.2.3.4"], ["x-forwarded-proto", "https"]], hcm({ useRemoteAddress: true, xffNumTrustedHops: 1 }));
    assert.equal(trusted.finalRemoteAddress, "1.2.3.4");
    assert.equal(trusted.h.get("x-forwarded-proto"), "https", "a trusted hop's x-forwarded-proto is kept");
    assert.equal(trusted.h.get(":scheme"), "https");
    assert.equal(mutate([], hcm({ useRemoteAddress: true, skipXffAppend: true })).h.get("x-forwarded-for"), undefined);
  });

  test("without use_remote_address the XFF address is trusted and nothing is appended", () => {
    const r = mutate([["x-forwarded-for", "8.8.8.8"]], hcm());
    assert.equal(r.h.get("x-forwarded-for"), "8.8.8.8");
    assert.equal(r.finalRemoteAddress, "8.8.8.8");
    assert.equal(r.edgeRequest, false);
  });
});

describe("internal vs external (filters.md §3.2)", () => {
  test("no internal_address_config: nothing is internal (Envoy ≥ 1.33), so control headers are cleaned", () => {
    const r = mutate([["x-envoy-retry-on", "5xx"], ["x-envoy-max-retries", "3"], ["x-envoy-attempt-count", "7"]], hcm({ useRemoteAddress: true }));
    assert.equal(r.internalRequest, false);
    assert.equal(r.edgeRequest, true);
    assert.equal(r.h.get("x-envoy-retry-on"), undefined);
    assert.equal(r.h.get("x-envoy-max-retries"), undefined);
    assert.equal(r.h.get("x-envoy-attempt-count"), "7", "x-envoy-attempt-count is not sanitized");
    assert.equal(r.h.get("x-envoy-external-address"), "10.0.0.5");
  });

  test("internal_address_config without ranges means RFC1918; a single internal XFF address makes the request internal", () => {
    const r = mutate([["x-envoy-retry-on", "5xx"]], hcm({ useRemoteAddress: true, internalAddress: rfc1918 }));
    assert.equal(r.internalRequest, true);
    assert.equal(r.h.get("x-envoy-internal"), "true");
    assert.equal(r.h.get("x-envoy-retry-on"), "5xx");
    assert.equal(mutate([], hcm({ useRemoteAddress: true, internalAddress: rfc1918 }), "8.8.8.8").internalRequest, false);
    assert.equal(mutate([["x-forwarded-for", "10.1.1.1"]], hcm({ internalAddress: rfc1918 })).internalRequest, true);
    assert.equal(mutate([["x-forwarded-for", "10.1.1.1,10.2.2.2"]], hcm({ internalAddress: rfc1918 })).internalRequest, false, "two XFF hops");
    assert.equal(mutate([], hcm({ internalAddress: rfc1918 })).internalRequest, false, "no XFF without use_remote_address is external");
  });

  test("cidr_ranges decide; a client's x-envoy-internal is never trusted", () => {
    const config = hcm({ useRemoteAddress: true, internalAddress: { unixSockets: false, cidrRanges: [{ prefix: "192.168.0.0", length: 16 }] } });
    assert.equal(mutate([], config, "192.168.3.4").internalRequest, true);
    const ext = mutate([["x-envoy-internal", "true"]], config, "10.0.0.1");
    assert.equal(ext.internalRequest, false);
    assert.equal(ext.h.get("x-envoy-internal"), undefined);
  });

  test("edge requests also lose decorator and downstream-service headers; route internal_only_headers are dropped", () => {
    const config = hcm({ useRemoteAddress: true });
    config.routeConfig.internalOnlyHeaders.push("x-secret");
    const r = mutate([["x-envoy-decorator-operation", "op"], ["x-secret", "s"], ["x-envoy-downstream-service-node", "n"]], config);
    assert.equal(r.h.get("x-envoy-decorator-operation"), undefined);
    assert.equal(r.h.get("x-envoy-downstream-service-node"), undefined);
    assert.equal(r.h.get("x-secret"), undefined);
  });
});

describe("other request and response mutations", () => {
  test("x-request-id is generated when absent or on an edge request unless preserved", () => {
    assert.equal(mutate([], hcm()).h.get("x-request-id"), "new-id");
    assert.equal(mutate([["x-request-id", "mine"]], hcm()).h.get("x-request-id"), "mine");
    assert.equal(mutate([["x-request-id", "mine"]], hcm({ useRemoteAddress: true })).h.get("x-request-id"), "new-id");
    assert.equal(mutate([["x-request-id", "mine"]], hcm({ useRemoteAddress: true, preserveExternalRequestId: true })).h.get("x-request-id"), "mine");
    assert.equal(mutate([], hcm({ generateRequestId: false })).h.get("x-request-id"), undefined);
  });

  test("hop-by-hop headers go, TE keeps only trailers, a relative or repeated Referer is dropped", () => {
    const r = mutate([["connection", "keep-alive"], ["keep-alive", "5"], ["te", "gzip, trailers"], ["referer", "/relative"]], hcm());
    assert.equal(r.h.get("connection"), undefined);
    assert.equal(r.h.get("keep-alive"), undefined);
    assert.equal(r.h.get("te"), "trailers");
    assert.equal(r.h.get("referer"), undefined);
    assert.equal(mutate([["te", "gzip"], ["referer", "http://a.example/x"]], hcm()).h.get("te"), undefined);
    assert.equal(mutate([["referer", "http://a.example/x"]], hcm()).h.get("referer"), "http://a.example/x");
  });

  test("responses: date added if absent, server per server_header_transformation, hop-by-hop removed", () => {
    const res = new HeaderMap([[":status", "200"], ["server", "up"], ["transfer-encoding", "chunked"], ["date", "keep"]]);
    mutateResponseHeaders(res, null, hcm());
    assert.equal(res.get("server"), "envoy");
    assert.equal(res.get("date"), "keep");
    assert.equal(res.get("transfer-encoding"), undefined);
    const pass = new HeaderMap([[":status", "200"], ["server", "up"]]);
    mutateResponseHeaders(pass, null, hcm({ serverHeaderTransformation: "APPEND_IF_ABSENT" }));
    assert.equal(pass.get("server"), "up");
    assert.match(pass.get("date") ?? "", /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/);
  });

  // Envoy's TlsCachingDateProviderImpl: one formatted date, refreshed every 500 ms.
  test("the date is Envoy's format, reused for 500 ms, then refreshed (and refreshed when the clock steps back)", () => {
    const t = Date.UTC(2026, 10, 1, 9, 5, 7, 900);
    assert.equal(httpDate(t), "Sun, 01 Nov 2026 09:05:07 GMT");
    assert.equal(httpDate(t + 499), "Sun, 01 Nov 2026 09:05:07 GMT");
    assert.equal(httpDate(t + 500), "Sun, 01 Nov 2026 09:05:08 GMT");
    assert.equal(httpDate(t - 60_000), "Sun, 01 Nov 2026 09:04:07 GMT");
  });
});
