// FNV-1a (64-bit) over the parts of a descriptor. A bucket slot stores this hash, not the
// descriptor text, so slots have a fixed size whatever the header values are, and no descriptor
// string is ever built per request. Each variable part is followed by its length, so that
// "{header:a}{header:b}" with a="x", b="yz" and with a="xy", b="z" hash differently.
// Pure code: no host imports.
import { FREE_OWNER } from "./bucket-slot";

const FNV_OFFSET_BASIS: u64 = 0xcbf29ce484222325;
const FNV_PRIME: u64 = 0x100000001b3;

export class DescriptorHash {
  value: u64 = FNV_OFFSET_BASIS;

  reset(): DescriptorHash {
    this.value = FNV_OFFSET_BASIS;
    return this;
  }

  addBytes(ptr: usize, length: i32): void {
    let h = this.value;
    for (let i = 0; i < length; i++) h = (h ^ <u64>load<u8>(ptr + <usize>i)) * FNV_PRIME;
    this.value = h;
  }

  addU64(v: u64): void {
    let h = this.value;
    for (let i: u64 = 0; i < 64; i += 8) h = (h ^ ((v >> i) & 0xff)) * FNV_PRIME;
    this.value = h;
  }

  /** A variable part: its bytes, then its length. */
  addPart(bytes: ArrayBuffer, length: i32): void {
    this.addBytes(changetype<usize>(bytes), length);
    this.addU64(<u64>length);
  }

  /** The owner id for bucket slots: never FREE_OWNER. */
  get owner(): u64 {
    const v = this.value;
    return v == FREE_OWNER ? 1 : v;
  }
}
