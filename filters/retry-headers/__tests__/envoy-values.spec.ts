// How the router reads its headers (envoy-values.ts), mirrored from Envoy: StringUtil::splitToken
// with trimming, absl::SimpleAtoi, Grpc::Common::hasGrpcContentType.
import { isGrpcContentType, isToken, lowerAscii, parseUnsigned, splitList } from "../envoy-values";

describe("splitList", () => {
  it("splits on commas, trims ASCII whitespace and drops empty items", () => {
    const items = splitList(" 5xx, ,reset ,\tconnect-failure,");
    expect(items.length).toBe(3);
    expect(items[0]).toBe("5xx");
    expect(items[1]).toBe("reset");
    expect(items[2]).toBe("connect-failure");
    expect(splitList("").length).toBe(0);
    expect(splitList(" , ").length).toBe(0);
  });
});

describe("parseUnsigned", () => {
  it("accepts what absl::SimpleAtoi accepts for an unsigned integer", () => {
    expect(parseUnsigned("3")).toBe(3);
    expect(parseUnsigned(" 42 ")).toBe(42);
    expect(parseUnsigned("+7")).toBe(7);
    expect(parseUnsigned("0")).toBe(0);
    expect(parseUnsigned("18446744073709551615")).toBe(i64.MAX_VALUE);
  });

  it("rejects signs, fractions, junk and overflow", () => {
    expect(parseUnsigned("")).toBe(-1);
    expect(parseUnsigned("+")).toBe(-1);
    expect(parseUnsigned("-1")).toBe(-1);
    expect(parseUnsigned("1.5")).toBe(-1);
    expect(parseUnsigned("1e3")).toBe(-1);
    expect(parseUnsigned("12abc")).toBe(-1);
    expect(parseUnsigned("1 2")).toBe(-1);
    expect(parseUnsigned("18446744073709551616")).toBe(-1);
  });
});

describe("isGrpcContentType", () => {
  it("recognizes application/grpc alone or with +suffix or ;parameters, as Envoy's router", () => {
    expect(isGrpcContentType(String.UTF8.encode("application/grpc"))).toBe(true);
    expect(isGrpcContentType(String.UTF8.encode("application/grpc+proto"))).toBe(true);
    expect(isGrpcContentType(String.UTF8.encode("application/grpc;charset=utf-8"))).toBe(true);
    expect(isGrpcContentType(String.UTF8.encode("application/grpc-web"))).toBe(false);
    expect(isGrpcContentType(String.UTF8.encode("application/grp"))).toBe(false);
    expect(isGrpcContentType(String.UTF8.encode("application/json"))).toBe(false);
    expect(isGrpcContentType(null)).toBe(false);
  });
});

describe("header names", () => {
  it("accepts RFC 9110 tokens and lower-cases ASCII only", () => {
    expect(isToken("x-envoy-retry-on")).toBe(true);
    expect(isToken("Idempotency-Key")).toBe(true);
    expect(isToken("bad header")).toBe(false);
    expect(isToken("a:b")).toBe(false);
    expect(isToken("")).toBe(false);
    expect(lowerAscii("Idempotency-KEY")).toBe("idempotency-key");
    expect(lowerAscii("already")).toBe("already");
  });
});
