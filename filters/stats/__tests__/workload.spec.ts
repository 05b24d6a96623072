// Workloads (one side of a request) from node metadata and endpoint metadata, and the destination
// service from cluster metadata: the label values they render.
import { JsonValue, parseJson } from "proxy-wasm-as";
import { UNKNOWN_WORKLOAD, workloadFromEndpoint, workloadFromMetadata } from "../workload";
import { NO_SERVICE, serviceFromIstioMetadata } from "../service";

function json(text: string): JsonValue {
  return parseJson(text).value!;
}

describe("workloadFromMetadata", () => {
  it("renders Istio's node metadata keys", () => {
    const w = workloadFromMetadata(json('{"WORKLOAD_NAME":"reviews-v2","NAMESPACE":"bookinfo","CLUSTER_ID":"east",' +
      '"LABELS":{"app":"reviews","version":"v2","service.istio.io/canonical-name":"reviews","service.istio.io/canonical-revision":"v2"}}'));
    expect(w.workload).toBe("reviews-v2");
    expect(w.namespace).toBe("bookinfo");
    expect(w.app).toBe("reviews");
    expect(w.version).toBe("v2");
    expect(w.canonicalService).toBe("reviews");
    expect(w.canonicalRevision).toBe("v2");
    expect(w.cluster).toBe("east");
    expect(w.metadata).not.toBeNull();
  });
  it("falls back: unknown, workload name, latest, Kubernetes recommended labels", () => {
    const w = workloadFromMetadata(json('{"WORKLOAD_NAME":"details-v1","LABELS":{"app.kubernetes.io/name":"details"}}'));
    expect(w.namespace).toBe("");
    expect(w.app).toBe("details");
    expect(w.version).toBe("unknown");
    expect(w.canonicalService).toBe("details-v1");
    expect(w.canonicalRevision).toBe("latest");
    expect(w.cluster).toBe("unknown");
  });
  it("ignores values of the wrong type", () => {
    const w = workloadFromMetadata(json('{"WORKLOAD_NAME":3,"LABELS":"app"}'));
    expect(w.workload).toBe("unknown");
    expect(w.app).toBe("unknown");
  });
  it("the unknown workload is all unknown", () => {
    expect(UNKNOWN_WORKLOAD.workload).toBe("unknown");
    expect(UNKNOWN_WORKLOAD.canonicalRevision).toBe("latest");
  });
});

describe("workloadFromEndpoint", () => {
  it("reads workload;namespace;canonical service;revision;cluster", () => {
    const w = workloadFromEndpoint("ratings-v1;backend;ratings;v1;east")!;
    expect(w.workload).toBe("ratings-v1");
    expect(w.namespace).toBe("backend");
    expect(w.canonicalService).toBe("ratings");
    expect(w.canonicalRevision).toBe("v1");
    expect(w.cluster).toBe("east");
    expect(w.app).toBe("unknown");
  });
  it("applies the fallbacks to empty parts", () => {
    const w = workloadFromEndpoint("ratings-v1;;;;")!;
    expect(w.canonicalService).toBe("ratings-v1");
    expect(w.canonicalRevision).toBe("latest");
    expect(w.cluster).toBe("unknown");
  });
  it("refuses fewer than four parts", () => {
    expect(workloadFromEndpoint("a;b")).toBeNull();
  });
});

describe("serviceFromIstioMetadata", () => {
  it("reads services[0] host, name and namespace", () => {
    const s = serviceFromIstioMetadata(json('{"services":[{"host":"r.b.svc.cluster.local","name":"r","namespace":"b"},{"host":"other"}]}'));
    expect(s.host).toBe("r.b.svc.cluster.local");
    expect(s.name).toBe("r");
    expect(s.namespace).toBe("b");
  });
  it("is NO_SERVICE without a usable services list", () => {
    expect(serviceFromIstioMetadata(null)).toBe(NO_SERVICE);
    expect(serviceFromIstioMetadata(json('{"services":[]}'))).toBe(NO_SERVICE);
    expect(serviceFromIstioMetadata(json('{"services":["x"]}'))).toBe(NO_SERVICE);
    expect(serviceFromIstioMetadata(json('{"other":1}'))).toBe(NO_SERVICE);
  });
});
