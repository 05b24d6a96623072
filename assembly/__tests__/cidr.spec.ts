// IP and CIDR parsing and matching (match/cidr.ts). (test/filters/retry-headers/regex.test.ts
// also compares the matcher with node:net's BlockList on generated addresses.)
import { CidrSet, IpAddress, parseCidr, parseIpRaw, parseSocketAddressRaw } from "../match/cidr";
import { utf8 } from "./helpers";

function ip(text: string): IpAddress | null {
  const bytes = utf8(text);
  const out = new IpAddress();
  return parseIpRaw(changetype<usize>(bytes), bytes.byteLength, out) ? out : null;
}

function hex(a: IpAddress): string {
  const parts = new Array<string>();
  const n = a.v6 ? 16 : 4;
  for (let i = 0; i < n; i++) {
    const b = a.bytes[i];
    parts.push((b < 16 ? "0" : "") + b.toString(16));
  }
  return parts.join("");
}

function set(ranges: string[]): CidrSet {
  const s = new CidrSet();
  for (let i = 0; i < ranges.length; i++) s.add(parseCidr(ranges[i]).range!);
  return s;
}

function inSet(s: CidrSet, address: string): bool {
  return s.containsSocketAddress(utf8(address));
}

describe("parseIpRaw", () => {
  it("parses dotted quads and rejects malformed ones", () => {
    expect(hex(ip("10.1.2.255")!)).toBe("0a0102ff");
    expect(ip("256.1.1.1")).toBeNull();
    expect(ip("1.2.3")).toBeNull();
    expect(ip("1.2.3.4.5")).toBeNull();
    expect(ip("01.2.3.4")).toBeNull(); // leading zeros, as inet_pton
    expect(ip("1..3.4")).toBeNull();
    expect(ip("")).toBeNull();
  });

  it("parses IPv6 with :: and an embedded IPv4 tail", () => {
    expect(hex(ip("::")!)).toBe("00000000000000000000000000000000");
    expect(hex(ip("::1")!)).toBe("00000000000000000000000000000001");
    expect(hex(ip("2001:db8::8:800:200c:417a")!)).toBe("20010db8000000000008080020 0c417a".replace(" ", ""));
    expect(hex(ip("fe80::")!)).toBe("fe800000000000000000000000000000");
    expect(hex(ip("::ffff:10.0.0.1")!)).toBe("00000000000000000000ffff0a000001");
    expect(hex(ip("1:2:3:4:5:6:7:8")!)).toBe("00010002000300040005000600070008");
    expect(hex(ip("1:2:3:4:5:6:7::")!)).toBe("00010002000300040005000600070000");
  });

  it("rejects malformed IPv6", () => {
    expect(ip("1:2:3:4:5:6:7:8:9")).toBeNull();
    expect(ip("1::2::3")).toBeNull();
    expect(ip(":1")).toBeNull();
    expect(ip("1:")).toBeNull();
    expect(ip("12345::")).toBeNull();
    expect(ip("1:2:3:4:5:6:7:8::")).toBeNull();
    expect(ip("::g")).toBeNull();
  });
});

describe("parseSocketAddressRaw", () => {
  it("reads Envoy's ip:port and [ipv6]:port forms, ignoring the port and a zone", () => {
    const out = new IpAddress();
    const a = utf8("10.0.0.7:51234");
    expect(parseSocketAddressRaw(changetype<usize>(a), a.byteLength, out)).toBe(true);
    expect(hex(out)).toBe("0a000007");
    const b = utf8("[fe80::1%eth0]:80");
    expect(parseSocketAddressRaw(changetype<usize>(b), b.byteLength, out)).toBe(true);
    expect(hex(out)).toBe("fe800000000000000000000000000001");
    const c = utf8("envoy://internal_client_address/");
    expect(parseSocketAddressRaw(changetype<usize>(c), c.byteLength, out)).toBe(false);
  });
});

describe("parseCidr", () => {
  it("reports what is wrong", () => {
    expect(parseCidr("10.0.0.0/33").error).toBe("prefix length \"33\" must be a number from 0 to 32");
    expect(parseCidr("::/129").error).toBe("prefix length \"129\" must be a number from 0 to 128");
    expect(parseCidr("10.0.0.0/").error).toBe("prefix length \"\" must be a number from 0 to 32");
    expect(parseCidr("example.com/8").error).toBe("\"example.com\" is not an IPv4 or IPv6 address");
  });

  it("keeps only the prefix bits, as Envoy's CidrRange", () => {
    const s = set(["10.1.2.3/8"]);
    expect(inSet(s, "10.200.0.1:1")).toBe(true);
    expect(inSet(s, "11.0.0.1:1")).toBe(false);
  });
});

describe("CidrSet", () => {
  it("matches prefixes at any bit boundary", () => {
    const s = set(["192.168.4.0/22", "2001:db8:abcd::/47"]);
    expect(inSet(s, "192.168.7.255:1")).toBe(true);
    expect(inSet(s, "192.168.8.0:1")).toBe(false);
    expect(inSet(s, "[2001:db8:abcd:1::5]:443")).toBe(true);
    expect(inSet(s, "[2001:db8:abce::5]:443")).toBe(false);
  });

  it("matches a bare address as a /32 or /128 and /0 as everything of its family", () => {
    expect(inSet(set(["127.0.0.1"]), "127.0.0.1:9")).toBe(true);
    expect(inSet(set(["127.0.0.1"]), "127.0.0.2:9")).toBe(false);
    expect(inSet(set(["::1"]), "[::1]:9")).toBe(true);
    expect(inSet(set(["0.0.0.0/0"]), "1.2.3.4:5")).toBe(true);
    expect(inSet(set(["0.0.0.0/0"]), "[::1]:5")).toBe(false);
  });

  it("matches IPv4-mapped IPv6 peers against IPv4 ranges, not the reverse", () => {
    expect(inSet(set(["10.0.0.0/8"]), "[::ffff:10.9.8.7]:1")).toBe(true);
    expect(inSet(set(["::ffff:10.0.0.0/104"]), "10.9.8.7:1")).toBe(false);
  });

  it("matches nothing for text that is not an IP address", () => {
    expect(inSet(set(["0.0.0.0/0"]), "")).toBe(false);
    expect(inSet(set(["0.0.0.0/0"]), "pipe:/tmp/sock")).toBe(false);
  });
});
