import { PropertyLifeSpan, PropertyType, encodeDeclarePropertyArguments } from "../api/foreign";
import { hexOf } from "./helpers";

// Field numbers and enum values of Envoy's source/extensions/common/wasm/ext/declare_property.proto.
describe("declare_property arguments", () => {
  it("encodes name, readonly, type, schema and span with their field numbers", () => {
    const bytes = encodeDeclarePropertyArguments("p", PropertyType.Protobuf, PropertyLifeSpan.DownstreamRequest, "s", true);
    // 0a 01 'p' | 10 01 | 18 03 | 22 01 's' | 28 01
    expect(hexOf(bytes)).toBe("0a0170100118032201732801");
  });

  it("leaves out fields at their proto3 default", () => {
    expect(hexOf(encodeDeclarePropertyArguments("p", PropertyType.Bytes, PropertyLifeSpan.FilterChain, "", false))).toBe("0a0170");
    expect(hexOf(encodeDeclarePropertyArguments("p", PropertyType.String, PropertyLifeSpan.DownstreamConnection, "", false))).toBe("0a017018012802");
  });
});
