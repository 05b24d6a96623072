// Protobuf wire format reader and writer (https://protobuf.dev/programming-guides/encoding/).
import { ProtoReader, ProtoWriter, WireType } from "../codec/protobuf";
import { fromHex, hexOf } from "./helpers";

describe("ProtoWriter", () => {
  it("writes varints like the protobuf documentation", () => {
    expect(hexOf(new ProtoWriter().uint32(1, 150).finish())).toBe("089601");
    expect(hexOf(new ProtoWriter().uint64(1, 0).finish())).toBe("0800");
    expect(hexOf(new ProtoWriter().uint64(2, u64.MAX_VALUE).finish())).toBe("10ffffffffffffffffff01");
  });

  it("writes negative int32 as ten bytes and sint64 as zigzag", () => {
    expect(hexOf(new ProtoWriter().int32(1, -1).finish())).toBe("08ffffffffffffffffff01");
    expect(hexOf(new ProtoWriter().sint64(1, -1).finish())).toBe("0801");
    expect(hexOf(new ProtoWriter().sint64(1, 1).finish())).toBe("0802");
  });

  it("writes strings, bytes, fixed and floating values", () => {
    expect(hexOf(new ProtoWriter().string(2, "testing").finish())).toBe("120774657374696e67");
    expect(hexOf(new ProtoWriter().fixed32(3, 1).finish())).toBe("1d01000000");
    expect(hexOf(new ProtoWriter().double(4, 1.5).finish())).toBe("21000000000000f83f");
    expect(hexOf(new ProtoWriter().bytes(5, fromHex("00ff")).finish())).toBe("2a0200ff");
    expect(hexOf(new ProtoWriter().string(1, "é").finish())).toBe("0a02c3a9");
  });

  it("embeds messages with their length", () => {
    const inner = new ProtoWriter().uint32(1, 150);
    expect(hexOf(new ProtoWriter().message(3, inner).finish())).toBe("1a03089601");
  });

  it("grows past its initial buffer", () => {
    const w = new ProtoWriter();
    for (let i = 0; i < 100; i++) w.string(1, "0123456789");
    expect(w.length).toBe(1200);
    expect(w.finish().byteLength).toBe(1200);
  });
});

describe("ProtoReader", () => {
  it("reads fields back", () => {
    const w = new ProtoWriter().uint32(1, 150).string(2, "hi").double(3, -2.5).fixed32(4, 7).sint64(5, -3).bool(6, true);
    const r = new ProtoReader(w.finish());
    expect(r.next()).toBe(true);
    expect(r.field).toBe(1);
    expect(r.wireType).toBe(WireType.Varint);
    expect(r.readUint32()).toBe(150);
    r.next();
    expect(r.readString()).toBe("hi");
    r.next();
    expect(r.readDouble()).toBe(-2.5);
    r.next();
    expect(r.readFixed32()).toBe(7);
    r.next();
    expect(r.readSint64()).toBe(-3);
    r.next();
    expect(r.readBool()).toBe(true);
    expect(r.next()).toBe(false);
    expect(r.ok).toBe(true);
  });

  it("reads embedded messages as views", () => {
    const r = new ProtoReader(fromHex("1a03089601" + "2001"));
    r.next();
    const sub = r.readMessage();
    expect(sub.next()).toBe(true);
    expect(sub.readUint32()).toBe(150);
    expect(sub.next()).toBe(false);
    expect(r.next()).toBe(true);
    expect(r.field).toBe(4);
  });

  it("skips every wire type, including groups", () => {
    // f1 varint, f2 fixed64, f3 bytes, f4 group { f1 varint }, f5 fixed32, then f6 = 1
    const r = new ProtoReader(fromHex("0896012101000000000000001a0161" + "230801" + "24" + "2d01000000" + "3001"));
    let last: u32 = 0;
    while (r.next()) {
      if (r.field == 6) last = r.readUint32();
      else r.skip();
    }
    expect(r.ok).toBe(true);
    expect(last).toBe(1);
  });

  it("reports truncated and malformed input with its offset", () => {
    let r = new ProtoReader(fromHex("0896"));
    r.next();
    r.readVarint();
    expect(r.error).toBe("truncated varint at offset 2");

    r = new ProtoReader(fromHex("0a05616263"));
    r.next();
    r.readString();
    expect(r.error).toBe("length 5 runs past the end of the message at offset 2");

    r = new ProtoReader(fromHex("0f"));
    expect(r.next()).toBe(false);
    expect(r.error).toBe("invalid wire type 7 at offset 1");

    r = new ProtoReader(fromHex("0001"));
    expect(r.next()).toBe(false);
    expect(r.error).toBe("invalid field number at offset 1");

    r = new ProtoReader(fromHex("08ffffffffffffffffff7f"));
    r.next();
    r.readVarint();
    expect(r.ok).toBe(false);

    r = new ProtoReader(fromHex("0d0100"));
    r.next();
    r.readFixed32();
    expect(r.error).toBe("truncated fixed32 at offset 1");

    r = new ProtoReader(fromHex("2308"));
    r.next();
    r.skip();
    expect(r.ok).toBe(false);
  });

  it("returns zeros after an error and stops iterating", () => {
    const r = new ProtoReader(fromHex("0a09"));
    r.next();
    expect(r.readBytes().byteLength).toBe(0);
    expect(r.next()).toBe(false);
  });

  it("reads a sub-range of a buffer", () => {
    const r = new ProtoReader(fromHex("ff0801ff"), 1, 3);
    expect(r.next()).toBe(true);
    expect(r.readUint32()).toBe(1);
    expect(r.next()).toBe(false);
    expect(r.ok).toBe(true);
  });
});
