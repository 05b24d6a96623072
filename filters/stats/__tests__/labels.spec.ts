// The label rules of filters.md §2.2 that need no host: one describe per rule.
import {
  GRPC_RESPONSE_STATUS, REPORTER, Reporter, STANDARD_LABELS, STANDARD_LABEL_COUNT, canonicalRevision, canonicalService,
  catchAllRouteCluster, isPassthroughOrBlackHole, namespaceFromPrincipal, orUnknown, reporterForDirection,
  reporterForRootId, reporterLabel, requestProtocol, responseFlagsLabel, serviceNameFromHost, splitEndpointWorkload,
  splitOn,
} from "../labels";

describe("standard labels", () => {
  it("are Istio's 25, in Istio's order", () => {
    expect(STANDARD_LABELS.length).toBe(STANDARD_LABEL_COUNT);
    expect(STANDARD_LABELS[REPORTER]).toBe("reporter");
    expect(STANDARD_LABELS[8]).toBe("source_cluster");
    expect(STANDARD_LABELS[19]).toBe("destination_cluster");
    expect(STANDARD_LABELS[GRPC_RESPONSE_STATUS]).toBe("grpc_response_status");
  });
});

describe("empty values", () => {
  it("become unknown", () => {
    expect(orUnknown("")).toBe("unknown");
    expect(orUnknown(null)).toBe("unknown");
    expect(orUnknown("x")).toBe("x");
  });
  it("canonical service falls back to the workload name, then unknown", () => {
    expect(canonicalService("reviews", "reviews-v2")).toBe("reviews");
    expect(canonicalService("", "reviews-v2")).toBe("reviews-v2");
    expect(canonicalService(null, null)).toBe("unknown");
  });
  it("canonical revision falls back to latest", () => {
    expect(canonicalRevision("v2")).toBe("v2");
    expect(canonicalRevision("")).toBe("latest");
    expect(canonicalRevision(null)).toBe("latest");
  });
});

describe("reporter", () => {
  it("names the reporter", () => {
    expect(reporterLabel(Reporter.ClientSidecar)).toBe("source");
    expect(reporterLabel(Reporter.ServerSidecar)).toBe("destination");
    expect(reporterLabel(Reporter.ServerGateway)).toBe("waypoint");
  });
  it("from the listener direction: INBOUND is the server, OUTBOUND and UNSPECIFIED the client", () => {
    expect(reporterForDirection(1)).toBe(Reporter.ServerSidecar);
    expect(reporterForDirection(2)).toBe(Reporter.ClientSidecar);
    expect(reporterForDirection(0)).toBe(Reporter.ClientSidecar);
  });
  it("from Istio's root ids", () => {
    expect(reporterForRootId("stats_inbound")).toBe(Reporter.ServerSidecar);
    expect(reporterForRootId("stats_outbound")).toBe(Reporter.ClientSidecar);
    expect(reporterForRootId("")).toBe(-1);
    expect(reporterForRootId("stats")).toBe(-1);
  });
});

describe("request_protocol", () => {
  it("is grpc for application/grpc, +proto and +json only", () => {
    expect(requestProtocol("application/grpc")).toBe("grpc");
    expect(requestProtocol("application/grpc+proto")).toBe("grpc");
    expect(requestProtocol("application/grpc+json")).toBe("grpc");
    expect(requestProtocol("application/grpc-web")).toBe("http");
    expect(requestProtocol("text/plain")).toBe("http");
    expect(requestProtocol(null)).toBe("http");
  });
});

describe("response_flags", () => {
  it("is - without flags", () => {
    expect(responseFlagsLabel(0)).toBe("-");
  });
  it("lists the short codes in bit order", () => {
    expect(responseFlagsLabel(0x1)).toBe("LH");
    expect(responseFlagsLabel(0x20)).toBe("UF");
    expect(responseFlagsLabel(0x2 | 0x100 | 0x8000)).toBe("UH,NR,URX");
    expect(responseFlagsLabel(0x1000)).toBe("UAEX");
    expect(responseFlagsLabel(0x40000)).toBe("DPE");
    expect(responseFlagsLabel(0x2000000)).toBe("OM");
    expect(responseFlagsLabel(0x4000000)).toBe("DF");
  });
  it("appends the whole integer when bits beyond the known flags are set", () => {
    expect(responseFlagsLabel(0x8000000)).toBe("134217728");
    expect(responseFlagsLabel(0x8000001)).toBe("LH,134217729");
  });
});

describe("principals", () => {
  it("give the namespace of a SPIFFE identity", () => {
    expect(namespaceFromPrincipal("spiffe://cluster.local/ns/bookinfo/sa/default")).toBe("bookinfo");
    expect(namespaceFromPrincipal("spiffe://td/ns/x")).toBe("x");
    expect(namespaceFromPrincipal("spiffe://td/sa/x")).toBe("");
    expect(namespaceFromPrincipal(null)).toBe("");
  });
});

describe("destination service", () => {
  it("recognises Istio's passthrough and black-hole clusters", () => {
    expect(isPassthroughOrBlackHole("PassthroughCluster")).toBe(true);
    expect(isPassthroughOrBlackHole("BlackHoleCluster")).toBe(true);
    expect(isPassthroughOrBlackHole("InboundPassthroughCluster")).toBe(true);
    expect(isPassthroughOrBlackHole("InboundPassthroughClusterIpv4")).toBe(true);
    expect(isPassthroughOrBlackHole("InboundPassthroughClusterIpv6")).toBe(true);
    expect(isPassthroughOrBlackHole("outbound|80||x")).toBe(false);
  });
  it("names the catch-all routes", () => {
    expect(catchAllRouteCluster("block_all")).toBe("BlackHoleCluster");
    expect(catchAllRouteCluster("allow_any")).toBe("PassthroughCluster");
    expect(catchAllRouteCluster("default")).toBeNull();
  });
  it("takes the first label of a host as the service name", () => {
    expect(serviceNameFromHost("reviews.bookinfo.svc.cluster.local")).toBe("reviews");
    expect(serviceNameFromHost("reviews")).toBe("reviews");
  });
});

describe("endpoint metadata", () => {
  it("splits workload;namespace;service;revision;cluster", () => {
    const p = splitEndpointWorkload("ratings-v1;backend;ratings;v1;east")!;
    expect(p.length).toBe(5);
    expect(p[0]).toBe("ratings-v1");
    expect(p[4]).toBe("east");
  });
  it("accepts a missing cluster part, refuses fewer parts", () => {
    expect(splitEndpointWorkload("a;b;c;d")![4]).toBe("");
    expect(splitEndpointWorkload("a;b;c")).toBeNull();
  });
  it("splitOn handles multi-character separators and empty parts", () => {
    const p = splitOn("a;.;;.;b", ";.;");
    expect(p.length).toBe(3);
    expect(p[1]).toBe("");
    expect(p[2]).toBe("b");
  });
});
