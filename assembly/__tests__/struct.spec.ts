// google.protobuf.Struct / Value / ListValue mapped onto JsonValue.
import { JsonValue, parseJson } from "../codec/json";
import { decodeListValue, decodeStruct, decodeValue, encodeListValue, encodeStruct, encodeValue, lastStructError } from "../codec/struct";
import { decodeFilterMetadata, decodeNode } from "../codec/node";
import { ProtoWriter } from "../codec/protobuf";
import { fromHex, hexOf } from "./helpers";

function json(text: string): JsonValue {
  return parseJson(text).value!;
}

describe("encodeStruct", () => {
  it("writes fields as map entries {1: key, 2: Value}", () => {
    // {"a": "b"}: 0a 08 | 0a 01 61 | 12 03 1a 01 62
    expect(hexOf(encodeStruct(json("{\"a\":\"b\"}"))!)).toBe("0a080a016112031a0162");
  });

  it("writes every kind of Value", () => {
    expect(hexOf(encodeValue(JsonValue.nullValue()))).toBe("0800");
    expect(hexOf(encodeValue(JsonValue.fromNumber(1.5)))).toBe("11000000000000f83f");
    expect(hexOf(encodeValue(JsonValue.fromString("x")))).toBe("1a0178");
    expect(hexOf(encodeValue(JsonValue.fromBool(true)))).toBe("2001");
    expect(hexOf(encodeValue(json("{}")))).toBe("2a00");
    expect(hexOf(encodeValue(json("[]")))).toBe("3200");
    expect(hexOf(encodeListValue(json("[true]"))!)).toBe("0a022001");
  });

  it("is deterministic: keys sorted whatever the insertion order", () => {
    const a = encodeStruct(json("{\"b\":1,\"a\":{\"y\":2,\"x\":3}}"))!;
    const b = encodeStruct(json("{\"a\":{\"x\":3,\"y\":2},\"b\":1}"))!;
    expect(hexOf(a)).toBe(hexOf(b));
  });

  it("refuses non-objects", () => {
    expect(encodeStruct(json("[1]"))).toBeNull();
    expect(encodeListValue(json("{}"))).toBeNull();
  });
});

describe("decodeStruct", () => {
  it("round-trips nested values", () => {
    const text = "{\"LABELS\":{\"app\":\"ratings\",\"version\":\"v1\"},\"NAME\":\"ratings-v1-abc\",\"PLATFORM_METADATA\":{},\"flag\":true,\"list\":[1,\"two\",null,[false]],\"n\":-0.5}";
    const back = decodeStruct(encodeStruct(json(text))!)!;
    expect(back.stringify()).toBe(text);
  });

  it("reads an empty buffer as an empty object", () => {
    expect(decodeStruct(new ArrayBuffer(0))!.length).toBe(0);
  });

  it("reads a Value without a kind as null, and takes the last kind of a oneof", () => {
    expect(decodeValue(new ArrayBuffer(0))!.isNull()).toBe(true);
    expect(decodeValue(fromHex("1a0178" + "2001"))!.asBool()).toBe(true);
  });

  it("skips unknown fields", () => {
    // field 9 varint before the entry
    expect(decodeStruct(fromHex("4801" + "0a080a016112031a0162"))!.getString("a")).toBe("b");
  });

  it("rejects wrong wire types and truncation with a reason", () => {
    expect(decodeStruct(fromHex("0801"))).toBeNull();
    expect(lastStructError()).toBe("Struct.fields has wire type 0, expected 2");
    expect(decodeStruct(fromHex("0a080a0161"))).toBeNull();
    expect(lastStructError()).toBe("Struct: length 8 runs past the end of the message at offset 2");
    expect(decodeValue(fromHex("1101"))).toBeNull();
    expect(lastStructError()).toBe("Value: truncated fixed64 at offset 1");
    expect(decodeListValue(fromHex("0a02"))).toBeNull();
    expect(decodeStruct(fromHex("0a080a0161120331"))).toBeNull();
    expect(decodeStruct(encodeStruct(json("{\"a\":1}"))!)).not.toBeNull();
    expect(lastStructError()).toBe("");
  });

  it("limits nesting depth", () => {
    let w = new ProtoWriter();
    for (let i = 0; i < 150; i++) {
      // Value{list_value: ListValue{values: [previous]}}
      const list = new ProtoWriter().message(1, w);
      w = new ProtoWriter().message(6, list);
    }
    expect(decodeValue(w.finish())).toBeNull();
    expect(lastStructError()).toBe("ListValue nested deeper than 100 levels");
  });
});

describe("decodeNode", () => {
  it("reads id, cluster and the metadata Struct of envoy.config.core.v3.Node", () => {
    const metadata = new ProtoWriter();
    const struct = encodeStruct(json("{\"NAMESPACE\":\"default\"}"))!;
    const node = new ProtoWriter()
      .string(1, "sidecar~10.0.0.1~pod.default~default.svc.cluster.local")
      .string(2, "reviews")
      .bytes(3, struct)
      .string(6, "envoy");
    const info = decodeNode(node.finish())!;
    expect(info.id).toBe("sidecar~10.0.0.1~pod.default~default.svc.cluster.local");
    expect(info.cluster).toBe("reviews");
    expect(info.metadata.getString("NAMESPACE")).toBe("default");
    expect(metadata.length).toBe(0);
  });

  it("gives empty fields for an empty node and null for a malformed one", () => {
    const info = decodeNode(new ArrayBuffer(0))!;
    expect(info.id).toBe("");
    expect(info.metadata.length).toBe(0);
    expect(decodeNode(fromHex("0a05"))).toBeNull();
  });
});

describe("decodeFilterMetadata", () => {
  it("finds the Struct of one filter in envoy.config.core.v3.Metadata", () => {
    const entry = (name: string, struct: ArrayBuffer): ProtoWriter => new ProtoWriter().string(1, name).bytes(2, struct);
    const metadata = new ProtoWriter()
      .message(1, entry("envoy.lb", encodeStruct(json("{\"canary\":true}"))!))
      .message(1, entry("istio", encodeStruct(json("{\"services\":[{\"name\":\"r\"}]}"))!))
      .finish();
    expect(decodeFilterMetadata(metadata, "istio")!.stringify()).toBe("{\"services\":[{\"name\":\"r\"}]}");
    expect(decodeFilterMetadata(metadata, "envoy.lb")!.getBool("canary")).toBe(true);
    expect(decodeFilterMetadata(metadata, "missing")).toBeNull();
  });
});
