// IP addresses and CIDR ranges (IPv4 and IPv6), for allow lists on `source.address` and similar
// attributes. Ranges are parsed once (at configure); a lookup parses Envoy's "ip:port" /
// "[ipv6]:port" text straight from its bytes into a fixed 16-byte buffer, so it allocates nothing.
// Like Envoy's CidrRange, a range keeps only its prefix bits ("10.1.2.3/8" is 10.0.0.0/8), and an
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) also matches IPv4 ranges, as the same peer appears
// as either form depending on the listener socket. Pure code: no host imports.

/** An address in 16 bytes: IPv4 in the first 4, with `v6` false. */
export class IpAddress {
  bytes: StaticArray<u8> = new StaticArray<u8>(16);
  v6: bool = false;
}

function digitAt(ptr: usize, i: i32): i32 {
  const c = <i32>load<u8>(ptr + <usize>i);
  return c >= 0x30 && c <= 0x39 ? c - 0x30 : -1;
}

function hexAt(ptr: usize, i: i32): i32 {
  const c = <i32>load<u8>(ptr + <usize>i);
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** Dotted-quad IPv4 (no leading zeros, as inet_pton) into out[at..at+4]; false if malformed. */
function parseIpv4(ptr: usize, len: i32, out: StaticArray<u8>, at: i32): bool {
  let i = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= len || load<u8>(ptr + <usize>i) != 0x2e) return false;
      i++;
    }
    const start = i;
    let value = 0;
    while (i < len && digitAt(ptr, i) >= 0) {
      value = value * 10 + digitAt(ptr, i);
      i++;
      if (i - start > 3) return false;
    }
    if (i == start || value > 255 || (i - start > 1 && digitAt(ptr, start) == 0)) return false;
    unchecked((out[at + part] = <u8>value));
  }
  return i == len;
}

/** RFC 4291 text form (with "::" and an optional trailing dotted quad) into out; false if malformed. */
function parseIpv6(ptr: usize, len: i32, out: StaticArray<u8>): bool {
  for (let k = 0; k < 16; k++) unchecked((out[k] = 0));
  let i = 0;
  let filled = 0; // bytes written
  let gap = -1; // byte offset where "::" stands
  if (len >= 2 && load<u8>(ptr) == 0x3a && load<u8>(ptr + 1) == 0x3a) {
    gap = 0;
    i = 2;
    if (i == len) return true;
  } else if (len > 0 && load<u8>(ptr) == 0x3a) {
    return false;
  }
  while (i < len) {
    if (filled >= 16) return false;
    // A dotted quad may end the address, in place of the last two groups.
    let dot = -1;
    for (let k = i; k < len && k < i + 16; k++) {
      const c = load<u8>(ptr + <usize>k);
      if (c == 0x2e) {
        dot = k;
        break;
      }
      if (c == 0x3a) break;
    }
    if (dot >= 0) {
      if (filled > 12 || !parseIpv4(ptr + <usize>i, len - i, out, filled)) return false;
      filled += 4;
      i = len;
      break;
    }
    const start = i;
    let value = 0;
    while (i < len && hexAt(ptr, i) >= 0) {
      value = (value << 4) | hexAt(ptr, i);
      i++;
      if (i - start > 4) return false;
    }
    if (i == start) return false;
    unchecked((out[filled] = <u8>(value >> 8)));
    unchecked((out[filled + 1] = <u8>value));
    filled += 2;
    if (i == len) break;
    if (load<u8>(ptr + <usize>i) != 0x3a) return false;
    i++;
    if (i < len && load<u8>(ptr + <usize>i) == 0x3a) {
      if (gap >= 0) return false;
      gap = filled;
      i++;
    } else if (i == len) {
      return false; // trailing single colon
    }
  }
  if (gap < 0) return filled == 16;
  if (filled == 16) return false; // "::" must stand for at least one group
  const tail = filled - gap;
  for (let k = tail - 1; k >= 0; k--) {
    unchecked((out[16 - tail + k] = out[gap + k]));
  }
  for (let k = gap; k < 16 - tail; k++) unchecked((out[k] = 0));
  return true;
}

/** Parses an IPv4 or IPv6 address (no brackets, no port, no zone) at [ptr, ptr+len) into `out`. */
export function parseIpRaw(ptr: usize, len: i32, out: IpAddress): bool {
  let colon = false;
  for (let k = 0; k < len; k++) {
    if (load<u8>(ptr + <usize>k) == 0x3a) {
      colon = true;
      break;
    }
  }
  out.v6 = colon;
  return colon ? parseIpv6(ptr, len, out.bytes) : parseIpv4(ptr, len, out.bytes, 0);
}

/**
 * Parses the address part of Envoy's socket address text — "1.2.3.4:80", "[::1]:80", or a bare
 * address — ignoring the port and an IPv6 zone ("%eth0"). False if it is not an IP address.
 */
export function parseSocketAddressRaw(ptr: usize, len: i32, out: IpAddress): bool {
  if (len <= 0) return false;
  let start = 0;
  let end = len;
  if (load<u8>(ptr) == 0x5b) {
    let close = -1;
    for (let k = 1; k < len; k++) {
      if (load<u8>(ptr + <usize>k) == 0x5d) {
        close = k;
        break;
      }
    }
    if (close < 0) return false;
    start = 1;
    end = close;
  } else {
    let colons = 0;
    let last = -1;
    for (let k = 0; k < len; k++) {
      if (load<u8>(ptr + <usize>k) == 0x3a) {
        colons++;
        last = k;
      }
    }
    if (colons == 1) end = last; // IPv4 with a port; several colons: a bare IPv6 address
  }
  for (let k = start; k < end; k++) {
    if (load<u8>(ptr + <usize>k) == 0x25) {
      end = k;
      break;
    }
  }
  return parseIpRaw(ptr + <usize>start, end - start, out);
}

/** One range: the network's leading `prefixLength` bits. */
export class CidrRange {
  constructor(public readonly network: IpAddress, public readonly prefixLength: i32) {}

  /** True if `address` is in the range (an IPv4-mapped IPv6 address counts as IPv4). */
  contains(address: IpAddress): bool {
    const net = this.network;
    let offset = 0;
    if (address.v6 != net.v6) {
      if (net.v6 || !isIpv4Mapped(address)) return false;
      offset = 12;
    }
    const bits = this.prefixLength;
    const whole = bits >> 3;
    for (let k = 0; k < whole; k++) {
      if (unchecked(address.bytes[offset + k]) != unchecked(net.bytes[k])) return false;
    }
    const rest = bits & 7;
    if (rest == 0) return true;
    const mask = <u8>(<u32>0xff << <u32>(8 - rest));
    return (unchecked(address.bytes[offset + whole]) & mask) == unchecked(net.bytes[whole]);
  }
}

function isIpv4Mapped(a: IpAddress): bool {
  for (let k = 0; k < 10; k++) if (unchecked(a.bytes[k]) != 0) return false;
  return unchecked(a.bytes[10]) == 0xff && unchecked(a.bytes[11]) == 0xff;
}

/** Outcome of parseCidr: the range, or what is wrong with the text. */
export class CidrParseResult {
  range: CidrRange | null = null;
  error: string = "";
  get ok(): bool {
    return this.range !== null;
  }
}

/** "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). */
export function parseCidr(text: string): CidrParseResult {
  const result = new CidrParseResult();
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.substring(0, slash);
  const bytes = String.UTF8.encode(addressText);
  const address = new IpAddress();
  if (!parseIpRaw(changetype<usize>(bytes), bytes.byteLength, address)) {
    result.error = "\"" + addressText + "\" is not an IPv4 or IPv6 address";
    return result;
  }
  const maxBits = address.v6 ? 128 : 32;
  let bits = maxBits;
  if (slash >= 0) {
    const lengthText = text.substring(slash + 1);
    bits = 0;
    let valid = lengthText.length > 0 && lengthText.length <= 3;
    for (let k = 0; k < lengthText.length && valid; k++) {
      const c = lengthText.charCodeAt(k);
      if (c < 0x30 || c > 0x39) valid = false;
      else bits = bits * 10 + (c - 0x30);
    }
    if (!valid || bits > maxBits) {
      result.error = "prefix length \"" + lengthText + "\" must be a number from 0 to " + maxBits.toString();
      return result;
    }
  }
  // Keep only the prefix bits, as Envoy's CidrRange does.
  for (let k = 0; k < 16; k++) {
    const keep = bits - k * 8;
    if (keep >= 8) continue;
    const mask: u8 = keep <= 0 ? 0 : <u8>(<u32>0xff << <u32>(8 - keep));
    unchecked((address.bytes[k] &= mask));
  }
  result.range = new CidrRange(address, bits);
  return result;
}

/** A list of ranges with a reusable lookup buffer. */
export class CidrSet {
  ranges: CidrRange[] = [];
  private scratch: IpAddress = new IpAddress();

  add(range: CidrRange): void {
    this.ranges.push(range);
  }

  get size(): i32 {
    return this.ranges.length;
  }

  containsAddress(address: IpAddress): bool {
    const ranges = this.ranges;
    for (let i = 0, n = ranges.length; i < n; i++) if (unchecked(ranges[i]).contains(address)) return true;
    return false;
  }

  /** True if the socket address text at [ptr, ptr+len) is an IP in one of the ranges. */
  containsSocketAddressRaw(ptr: usize, len: i32): bool {
    return parseSocketAddressRaw(ptr, len, this.scratch) && this.containsAddress(this.scratch);
  }

  /** containsSocketAddressRaw on bytes such as the `source.address` property value. */
  containsSocketAddress(bytes: ArrayBuffer): bool {
    return this.containsSocketAddressRaw(changetype<usize>(bytes), bytes.byteLength);
  }
}
