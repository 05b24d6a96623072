// Protocol Buffers wire format reader and writer (https://protobuf.dev/programming-guides/encoding/),
// for the protobuf-valued properties (xds.node, metadata, ...), Istio's peer-metadata Struct and raw
// gRPC messages. No schema, no reflection: callers switch on field numbers. The reader never aborts
// on malformed input: it records the first error with its offset and returns zeros afterwards.
// Pure code: no host imports.
import { putUtf8 } from "./utf8";

export enum WireType {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  StartGroup = 3,
  EndGroup = 4,
  Fixed32 = 5,
}

/** Reads fields from [start, end) of a buffer; sub-messages are views, not copies. */
export class ProtoReader {
  pos: i32;
  /** Field number and wire type of the last tag read by next(). */
  field: u32 = 0;
  wireType: WireType = WireType.Varint;
  /** Empty until something is malformed; then the first problem and where it was found. */
  error: string = "";

  constructor(public buffer: ArrayBuffer, public start: i32 = 0, public end: i32 = -1) {
    if (end < 0 || end > buffer.byteLength) this.end = buffer.byteLength;
    if (start < 0 || start > this.end) this.start = this.end;
    this.pos = this.start;
  }

  get ok(): bool {
    return this.error.length == 0;
  }

  private fail(message: string): void {
    if (this.error.length == 0) this.error = message + " at offset " + this.pos.toString();
    this.pos = this.end;
  }

  /** Reads the next tag; false at the end of the message or after an error. */
  next(): bool {
    if (this.pos >= this.end || this.error.length != 0) return false;
    const tag = this.readVarint();
    if (this.error.length != 0) return false;
    const field = <u32>(tag >> 3);
    const wire = <u32>(tag & 7);
    if (field == 0 || tag >> 32 != 0) {
      this.fail("invalid field number");
      return false;
    }
    if (wire > 5) {
      this.fail("invalid wire type " + wire.toString());
      return false;
    }
    this.field = field;
    this.wireType = <WireType>wire;
    return true;
  }

  readVarint(): u64 {
    let result: u64 = 0;
    const base = changetype<usize>(this.buffer);
    for (let shift: u64 = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) {
        this.fail("truncated varint");
        return 0;
      }
      const b = <u64>load<u8>(base + <usize>this.pos);
      this.pos++;
      if (shift == 63 && b > 1) {
        this.fail("varint overflows 64 bits");
        return 0;
      }
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) == 0) return result;
    }
    this.fail("varint longer than 10 bytes");
    return 0;
  }

  readUint32(): u32 { return <u32>this.readVarint(); }
  readInt32(): i32 { return <i32>this.readVarint(); }
  readUint64(): u64 { return this.readVarint(); }
  readInt64(): i64 { return <i64>this.readVarint(); }
  readBool(): bool { return this.readVarint() != 0; }
  readEnum(): i32 { return <i32>this.readVarint(); }
  readSint32(): i32 {
    const v = <u32>this.readVarint();
    return <i32>(v >>> 1) ^ -(<i32>(v & 1));
  }
  readSint64(): i64 {
    const v = this.readVarint();
    return <i64>(v >>> 1) ^ -(<i64>(v & 1));
  }

  readFixed32(): u32 {
    if (this.end - this.pos < 4) {
      this.fail("truncated fixed32");
      return 0;
    }
    const v = load<u32>(changetype<usize>(this.buffer) + <usize>this.pos);
    this.pos += 4;
    return v;
  }

  readFixed64(): u64 {
    if (this.end - this.pos < 8) {
      this.fail("truncated fixed64");
      return 0;
    }
    const v = load<u64>(changetype<usize>(this.buffer) + <usize>this.pos);
    this.pos += 8;
    return v;
  }

  readFloat(): f32 { return reinterpret<f32>(this.readFixed32()); }
  readDouble(): f64 { return reinterpret<f64>(this.readFixed64()); }

  /** Length of a length-delimited field, checked against the end; -1 on error. */
  private readLength(): i32 {
    const n = this.readVarint();
    if (this.error.length != 0) return -1;
    if (n > <u64>(this.end - this.pos)) {
      this.fail("length " + n.toString() + " runs past the end of the message");
      return -1;
    }
    return <i32>n;
  }

  readBytes(): ArrayBuffer {
    const n = this.readLength();
    if (n < 0) return new ArrayBuffer(0);
    const start = this.pos;
    this.pos += n;
    return this.buffer.slice(start, start + n);
  }

  readString(): string {
    const n = this.readLength();
    if (n < 0) return "";
    const start = this.pos;
    this.pos += n;
    return String.UTF8.decodeUnsafe(changetype<usize>(this.buffer) + <usize>start, <usize>n);
  }

  /**
   * Reader over an embedded message (no copy). Check `ok` on this reader afterwards: a bad length
   * is reported here, problems inside the sub-message on the returned reader.
   */
  readMessage(): ProtoReader {
    const n = this.readLength();
    if (n < 0) return new ProtoReader(this.buffer, this.end, this.end);
    const start = this.pos;
    this.pos += n;
    return new ProtoReader(this.buffer, start, start + n);
  }

  /** Skips the value of the field whose tag next() just read. */
  skip(): void {
    switch (this.wireType) {
      case WireType.Varint: this.readVarint(); break;
      case WireType.Fixed64: this.readFixed64(); break;
      case WireType.Fixed32: this.readFixed32(); break;
      case WireType.LengthDelimited: {
        const n = this.readLength();
        if (n >= 0) this.pos += n;
        break;
      }
      case WireType.StartGroup: this.skipGroup(this.field); break;
      default: this.fail("unexpected end-group tag");
    }
  }

  private skipGroup(field: u32): void {
    while (this.next()) {
      if (this.wireType == WireType.EndGroup) {
        if (this.field != field) this.fail("mismatched end-group tag");
        return;
      }
      this.skip();
    }
    this.fail("unterminated group");
  }
}

/** Appends fields to a growing (garbage-collected) buffer; finish() returns the encoded message. */
export class ProtoWriter {
  private buffer: ArrayBuffer = new ArrayBuffer(64);
  private size: i32 = 0;

  /** Makes room for `extra` more bytes; returns where they go. Valid until the next call. */
  private ensure(extra: i32): usize {
    const need = this.size + extra;
    const capacity = this.buffer.byteLength;
    if (need > capacity) {
      let grown = capacity << 1;
      while (grown < need) grown <<= 1;
      const next = new ArrayBuffer(grown);
      memory.copy(changetype<usize>(next), changetype<usize>(this.buffer), <usize>this.size);
      this.buffer = next;
    }
    return changetype<usize>(this.buffer) + <usize>this.size;
  }

  get length(): i32 {
    return this.size;
  }

  writeVarint(value: u64): ProtoWriter {
    const start = this.ensure(10);
    let p = start;
    let v = value;
    while (v >= 0x80) {
      store<u8>(p++, <u8>(v | 0x80));
      v >>= 7;
    }
    store<u8>(p++, <u8>v);
    this.size += <i32>(p - start);
    return this;
  }

  writeTag(field: u32, wireType: WireType): ProtoWriter {
    return this.writeVarint((<u64>field << 3) | <u64>wireType);
  }

  private writeRaw(ptr: usize, size: i32): void {
    memory.copy(this.ensure(size), ptr, <usize>size);
    this.size += size;
  }

  // Field writers. Proto3 omits default values; these always write, callers decide.
  uint64(field: u32, value: u64): ProtoWriter {
    return this.writeTag(field, WireType.Varint).writeVarint(value);
  }
  int64(field: u32, value: i64): ProtoWriter {
    return this.uint64(field, <u64>value);
  }
  uint32(field: u32, value: u32): ProtoWriter {
    return this.uint64(field, <u64>value);
  }
  /** int32 and enums: negative values take 10 bytes, as protobuf specifies. */
  int32(field: u32, value: i32): ProtoWriter {
    return this.uint64(field, <u64><i64>value);
  }
  bool(field: u32, value: bool): ProtoWriter {
    return this.uint64(field, value ? 1 : 0);
  }
  sint64(field: u32, value: i64): ProtoWriter {
    return this.uint64(field, <u64>((value << 1) ^ (value >> 63)));
  }
  fixed32(field: u32, value: u32): ProtoWriter {
    this.writeTag(field, WireType.Fixed32);
    store<u32>(this.ensure(4), value);
    this.size += 4;
    return this;
  }
  fixed64(field: u32, value: u64): ProtoWriter {
    this.writeTag(field, WireType.Fixed64);
    store<u64>(this.ensure(8), value);
    this.size += 8;
    return this;
  }
  double(field: u32, value: f64): ProtoWriter {
    return this.fixed64(field, reinterpret<u64>(value));
  }
  float(field: u32, value: f32): ProtoWriter {
    return this.fixed32(field, reinterpret<u32>(value));
  }
  bytes(field: u32, value: ArrayBuffer): ProtoWriter {
    this.writeTag(field, WireType.LengthDelimited).writeVarint(<u64>value.byteLength);
    this.writeRaw(changetype<usize>(value), value.byteLength);
    return this;
  }
  string(field: u32, value: string): ProtoWriter {
    const size = String.UTF8.byteLength(value);
    this.writeTag(field, WireType.LengthDelimited).writeVarint(<u64>size);
    putUtf8(value, this.ensure(size));
    this.size += size;
    return this;
  }
  /** Embeds another writer's content as a sub-message. */
  message(field: u32, value: ProtoWriter): ProtoWriter {
    this.writeTag(field, WireType.LengthDelimited).writeVarint(<u64>value.size);
    this.writeRaw(changetype<usize>(value.buffer), value.size);
    return this;
  }

  finish(): ArrayBuffer {
    return this.buffer.slice(0, this.size);
  }
}
