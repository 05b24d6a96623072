import { JsonValue, base64Decode, decodeStruct, parseJson } from "proxy-wasm-as";
import { localPeerMetadata, peerMetadataHeaderValue } from "../local-metadata";

// Node metadata as istio-agent writes it (filters.md §1.2), with keys the exchange does not send.
const ISTIO_NODE = `{
  "NAME": "productpage-v1-6b746f74dc-9stvs", "NAMESPACE": "default",
  "OWNER": "kubernetes://apis/apps/v1/namespaces/default/deployments/productpage-v1",
  "WORKLOAD_NAME": "productpage-v1", "ISTIO_VERSION": "1.18.2", "MESH_ID": "cluster.local",
  "CLUSTER_ID": "Kubernetes", "APP_CONTAINERS": "productpage,sidecar-helper",
  "LABELS": {"app": "productpage", "version": "v1", "pod-template-hash": "6b746f74dc",
             "service.istio.io/canonical-name": "productpage", "service.istio.io/canonical-revision": "v1",
             "security.istio.io/tlsMode": "istio", "team": "books"},
  "PLATFORM_METADATA": {"gcp_project": "my-project", "gcp_location": "us-east1", "gcp_gke_cluster_name": "prod"},
  "INSTANCE_IPS": "10.0.0.12", "SERVICE_ACCOUNT": "bookinfo-productpage", "INTERCEPTION_MODE": "REDIRECT",
  "PROXY_CONFIG": {"concurrency": 2}
}`;

function node(json: string): JsonValue {
  return parseJson(json).value!;
}

describe("local peer metadata", () => {
  it("projects Istio node metadata onto the exchanged keys", () => {
    const warnings = new Array<string>();
    const out = localPeerMetadata(node(ISTIO_NODE), [], warnings);
    expect(warnings.length).toBe(0);
    expect(out.keys().join(",")).toBe("NAME,NAMESPACE,OWNER,WORKLOAD_NAME,ISTIO_VERSION,MESH_ID,CLUSTER_ID,APP_CONTAINERS,LABELS,PLATFORM_METADATA");
    expect(out.getString("WORKLOAD_NAME")!).toBe("productpage-v1");
    expect(out.getString("APP_CONTAINERS")!).toBe("productpage,sidecar-helper");
    const labels = out.getObject("LABELS")!;
    expect(labels.keys().join(",")).toBe("service.istio.io/canonical-name,service.istio.io/canonical-revision,app,version");
    expect(out.getObject("PLATFORM_METADATA")!.keys().join(",")).toBe("gcp_project,gcp_location,gcp_gke_cluster_name");
  });

  it("adds the configured additional labels", () => {
    const out = localPeerMetadata(node(ISTIO_NODE), ["team", "absent"], new Array<string>());
    const labels = out.getObject("LABELS")!;
    expect(labels.getString("team")!).toBe("books");
    expect(labels.has("absent")).toBe(false);
  });

  it("round-trips through the header value", () => {
    const out = localPeerMetadata(node(ISTIO_NODE), [], new Array<string>());
    const header = peerMetadataHeaderValue(out);
    const decoded = decodeStruct(base64Decode(header)!)!;
    expect(decoded.getString("NAME")!).toBe("productpage-v1-6b746f74dc-9stvs");
    expect(decoded.getObject("LABELS")!.getString("service.istio.io/canonical-revision")!).toBe("v1");
    expect(decoded.getObject("PLATFORM_METADATA")!.getString("gcp_location")!).toBe("us-east1");
    expect(decoded.length).toBe(out.length);
  });

  it("gives byte-identical headers whatever the key order", () => {
    const a = peerMetadataHeaderValue(localPeerMetadata(node('{"NAMESPACE":"ns","NAME":"n","LABELS":{"version":"v1","app":"a"}}'), [], []));
    const b = peerMetadataHeaderValue(localPeerMetadata(node('{"LABELS":{"app":"a","version":"v1"},"NAME":"n","NAMESPACE":"ns"}'), [], []));
    expect(a).toBe(b);
    expect(a.length % 4).toBe(0, "padded");
  });

  it("leaves out values of the wrong type, with a warning for each", () => {
    const warnings = new Array<string>();
    const out = localPeerMetadata(node('{"NAME": 3, "LABELS": {"app": true, "version": "v2"}, "PLATFORM_METADATA": "gcp"}'), [], warnings);
    expect(out.has("NAME")).toBe(false);
    expect(out.getObject("LABELS")!.keys().join(",")).toBe("version");
    expect(out.has("PLATFORM_METADATA")).toBe(false);
    expect(warnings.join("|")).toBe(
      "node metadata NAME is number, expected a string: not sent|" +
        "node metadata LABELS[\"app\"] is boolean, expected a string: not sent|" +
        "node metadata PLATFORM_METADATA is string, expected an object: not sent",
    );
  });

  it("sends nothing for a node without metadata", () => {
    const out = localPeerMetadata(JsonValue.newObject(), [], []);
    expect(out.length).toBe(0);
    expect(peerMetadataHeaderValue(out)).toBe("");
    expect(localPeerMetadata(node('{"LABELS": {"pod-template-hash": "x"}}'), [], []).has("LABELS")).toBe(false);
  });
});
