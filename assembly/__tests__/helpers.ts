// Byte helpers shared by the codec specs.

export function bytesOf(values: i32[]): ArrayBuffer {
  const out = new ArrayBuffer(values.length);
  for (let i = 0; i < values.length; i++) store<u8>(changetype<usize>(out) + <usize>i, <u8>values[i]);
  return out;
}

export function hexOf(bytes: ArrayBuffer): string {
  const digits = "0123456789abcdef";
  let out = "";
  for (let i = 0; i < bytes.byteLength; i++) {
    const b = load<u8>(changetype<usize>(bytes) + <usize>i);
    out += digits.charAt(b >> 4) + digits.charAt(b & 15);
  }
  return out;
}

export function fromHex(hex: string): ArrayBuffer {
  const out = new ArrayBuffer(hex.length >> 1);
  for (let i = 0; i < out.byteLength; i++) {
    store<u8>(changetype<usize>(out) + <usize>i, <u8>I32.parseInt(hex.substr(i * 2, 2), 16));
  }
  return out;
}

export function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

/** A buffer with `size` bytes of `fill`. */
export function filled(size: i32, fill: u8): ArrayBuffer {
  const out = new ArrayBuffer(size);
  memory.fill(changetype<usize>(out), fill, <usize>size);
  return out;
}
