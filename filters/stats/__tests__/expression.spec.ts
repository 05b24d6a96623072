// The supported CEL subset: what parses into what, and what is refused with which reason.
import { JsonValue, NodeInfo, parseJson } from "proxy-wasm-as";
import {
  Expression, ExpressionContext, ExpressionKind, ValueType, asciiLower, jsonToAmount, parseAmount, parseExpression,
  renderJson, walkJson, xdsPath,
} from "../expression";

function json(text: string): JsonValue {
  return parseJson(text).value!;
}

function node(): NodeInfo {
  const n = new NodeInfo();
  n.id = "sidecar~1";
  n.cluster = "reviews.default";
  n.metadata = json('{"CLUSTER_ID":"east","SHARDS":4,"LABELS":{"app":"reviews"},"ON":true,"HALF":0.5}');
  return n;
}

const modern = new ExpressionContext(node(), false);
const legacy = new ExpressionContext(node(), true);

function parsed(text: string, context: ExpressionContext = modern): Expression {
  const e = parseExpression(text, context);
  if (e.error.length > 0) abort("unexpected refusal: " + e.error);
  return e;
}

/** Passes if `text` is refused with a reason containing `part` (shows the reason otherwise). */
function refused(text: string, part: string): void {
  const error = parseExpression(text, modern).error;
  if (!error.includes(part)) expect(error).toBe(part);
}

describe("literals", () => {
  it("strings, integers and booleans are constants", () => {
    const s = parsed("'v1'");
    expect(s.kind).toBe(ExpressionKind.Constant);
    expect(s.constant).toBe("v1");
    expect(parsed("\"x\"").constant).toBe("x");
    expect(parsed("42").amount).toBe(42);
    expect(parsed("42").constant).toBe("42");
    expect(parsed("'7'").amount).toBe(7);
    expect(parsed("true").constant).toBe("true");
    expect(parsed(" 'padded' ").constant).toBe("padded");
  });
  it("refuses escapes and unbalanced quotes", () => {
    refused("'a\\'b'", "quoted once");
    refused("'a", "quoted once");
    refused("1.5", "not an integer");
  });
});

describe("attributes", () => {
  it("are typed property paths", () => {
    const host = parsed("request.host");
    expect(host.kind).toBe(ExpressionKind.Attribute);
    expect(host.type).toBe(ValueType.String);
    expect(host.path.join("/")).toBe("request/host");
    expect(parsed("response.code").type).toBe(ValueType.Int);
    expect(parsed("connection.mtls").type).toBe(ValueType.Bool);
    expect(parsed("upstream.request_attempt_count").type).toBe(ValueType.Uint);
    expect(parsed("request.duration").type).toBe(ValueType.Time);
    expect(parsed("source.port").type).toBe(ValueType.Int);
    expect(parsed("plugin_name").path.join("/")).toBe("plugin_name");
    expect(parsed("connection_id").type).toBe(ValueType.Uint);
  });
  it("index header maps by lower-cased name", () => {
    expect(parsed("request.headers['X-Foo']").path.join("/")).toBe("request/headers/x-foo");
    expect(parsed("response.trailers[\"grpc-message\"]").path.join("/")).toBe("response/trailers/grpc-message");
  });
  it("read xds attributes under xds, or under their legacy names on old Envoys", () => {
    expect(parsed("xds.cluster_name").path.join("/")).toBe("xds/cluster_name");
    expect(parsed("cluster_name").path.join("/")).toBe("xds/cluster_name");
    expect(parsed("xds.cluster_name", legacy).path.join("/")).toBe("cluster_name");
    expect(parsed("xds.listener_direction").type).toBe(ValueType.Int);
    expect(xdsPath("upstream_host_metadata", legacy).join("/")).toBe("upstream_host_metadata");
    expect(xdsPath("virtual_host_name", legacy).join("/")).toBe("xds/virtual_host_name");
  });
  it("read filter state by key", () => {
    expect(parsed("filter_state['wasm.istio_operationId']").path.join("/")).toBe("filter_state/wasm.istio_operationId");
  });
  it("refuse unknown names, missing keys and extra fields", () => {
    refused("request.nope", "unknown attribute");
    refused("nope", "unknown attribute");
    refused("request", "unknown attribute");
    refused("xds", "incomplete attribute");
    refused("request.headers", "needs one header name");
    refused("request.host.x", "has no fields");
    refused("filter_state", "filter_state['<key>']");
    refused("xds.cluster_metadata.filter_metadata['istio']", "unknown attribute");
  });
  it("refuse operators and functions", () => {
    refused("request.host == 'a'", "unexpected ' ' at offset 12");
    refused("size(request.path)", "unexpected '(' at offset 4");
    refused("request.", "incomplete path");
    refused("request.headers[x]", "unexpected '['");
    refused("", "empty");
  });
});

describe("node", () => {
  it("is evaluated once, at configure time", () => {
    const e = parsed("node.metadata['CLUSTER_ID']");
    expect(e.kind).toBe(ExpressionKind.Constant);
    expect(e.constant).toBe("east");
    expect(parsed("xds.node.metadata['LABELS']['app']").constant).toBe("reviews");
    expect(parsed("node.id").constant).toBe("sidecar~1");
    expect(parsed("node.cluster").constant).toBe("reviews.default");
    expect(parsed("node.metadata['SHARDS']").amount).toBe(4);
    expect(parsed("node.metadata['ON']").constant).toBe("true");
  });
  it("is null (unknown) when missing or not a scalar", () => {
    expect(parsed("node.metadata['NOPE']").constant).toBeNull();
    expect(parsed("node.metadata['LABELS']").constant).toBeNull();
    expect(parsed("node.metadata['HALF']").constant).toBeNull();
    expect(parseExpression("node.id", new ExpressionContext(null)).constant).toBeNull();
  });
  it("refuses other fields", () => {
    refused("node.locality", "node.id, node.cluster or node.metadata");
    refused("node.metadata", "node.metadata['KEY']");
  });
});

describe("peer fields", () => {
  it("map Wasm-era and newer names to the Struct's keys", () => {
    const e = parsed("downstream_peer.cluster_id");
    expect(e.kind).toBe(ExpressionKind.Peer);
    expect(e.path[0]).toBe("downstream_peer");
    expect(e.keys.join("/")).toBe("CLUSTER_ID");
    expect(parsed("upstream_peer.workload").keys.join("/")).toBe("WORKLOAD_NAME");
    expect(parsed("upstream_peer.workload_name").keys.join("/")).toBe("WORKLOAD_NAME");
    expect(parsed("upstream_peer.service").keys.join("/")).toBe("LABELS/service.istio.io/canonical-name");
    expect(parsed("upstream_peer.labels['team']").keys.join("/")).toBe("LABELS/team");
    expect(parsed("upstream_peer.platform_metadata['gcp_project']").keys.join("/")).toBe("PLATFORM_METADATA/gcp_project");
  });
  it("refuse unknown fields and label maps without a key", () => {
    refused("downstream_peer.color", "unknown peer field");
    refused("downstream_peer", "unknown peer field");
    refused("downstream_peer.labels", "needs one key");
    refused("downstream_peer.namespace.x", "has no fields");
  });
});

describe("values", () => {
  it("render Struct scalars as label values", () => {
    expect(renderJson(json("\"a\""))).toBe("a");
    expect(renderJson(json("12"))).toBe("12");
    expect(renderJson(json("false"))).toBe("false");
    expect(renderJson(json("1.5"))).toBeNull();
    expect(renderJson(json("[1]"))).toBeNull();
    expect(renderJson(null)).toBeNull();
  });
  it("read amounts from integral numbers and decimal strings", () => {
    expect(jsonToAmount(json("12"))).toBe(12);
    expect(jsonToAmount(json("\"34\""))).toBe(34);
    expect(jsonToAmount(json("-1"))).toBe(-1);
    expect(jsonToAmount(json("\"3x\""))).toBe(-1);
    expect(parseAmount("")).toBe(-1);
    expect(parseAmount("1234567890123456789")).toBe(-1);
    expect(parseAmount("007")).toBe(7);
  });
  it("walk objects by key", () => {
    const v = json("{\"A\":{\"b\":\"c\"}}");
    expect(walkJson(v, ["A", "b"])!.asString()).toBe("c");
    expect(walkJson(v, ["A", "x"])).toBeNull();
    expect(walkJson(v, ["A", "b", "c"])).toBeNull();
  });
  it("lower-case ASCII only", () => {
    expect(asciiLower("X-Foo")).toBe("x-foo");
    expect(asciiLower("plain")).toBe("plain");
  });
});
