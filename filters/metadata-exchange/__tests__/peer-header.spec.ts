import { JsonValue, base64Encode, encodeStruct } from "proxy-wasm-as";
import { decodePeerMetadata, peerMetadataProblem } from "../peer-header";

function ascii(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

/** A Struct whose size is not a multiple of 3, so that its base64 form has padding. */
function structBytes(): ArrayBuffer {
  const obj = JsonValue.newObject();
  obj.set("NAME", JsonValue.fromString("reviews-v2-5b64f47978-2xjhx"));
  obj.set("NAMESPACE", JsonValue.fromString("bookinfo"));
  const bytes = encodeStruct(obj)!;
  expect(bytes.byteLength % 3).not.toBe(0, "sample size");
  return bytes;
}

function sameBytes(a: ArrayBuffer, b: ArrayBuffer): bool {
  return a.byteLength == b.byteLength && memory.compare(changetype<usize>(a), changetype<usize>(b), a.byteLength) == 0;
}

describe("peer metadata header", () => {
  it("gives the Struct bytes of a padded value", () => {
    const bytes = structBytes();
    const out = decodePeerMetadata(ascii(base64Encode(bytes)));
    expect(out).not.toBeNull();
    expect(sameBytes(out!, bytes)).toBe(true);
    expect(peerMetadataProblem()).toBe("");
  });

  it("accepts a value without padding", () => {
    const bytes = structBytes();
    let text = base64Encode(bytes);
    expect(text.endsWith("=")).toBe(true, "the sample needs padding to strip");
    while (text.endsWith("=")) text = text.slice(0, text.length - 1);
    expect(sameBytes(decodePeerMetadata(ascii(text))!, bytes)).toBe(true);
  });

  it("rejects what is not base64", () => {
    expect(decodePeerMetadata(ascii("not base64!"))).toBeNull();
    expect(decodePeerMetadata(ascii("CgQKAk5B\u00e9"))).toBeNull();
    expect(decodePeerMetadata(ascii("A"))).toBeNull();
    expect(peerMetadataProblem()).toBe("not base64");
  });

  it("rejects base64 of something that is not a Struct", () => {
    // "hello" as bytes: field 13 with wire type 0, then a truncated varint.
    expect(decodePeerMetadata(ascii("aGVsbG8="))).toBeNull();
    // Struct.fields with wire type 0 instead of a length-delimited entry.
    expect(decodePeerMetadata(ascii("CAE="))).toBeNull();
    expect(peerMetadataProblem()).toBe("not a google.protobuf.Struct: Struct.fields has wire type 0, expected 2");
  });
});
