// Rule matching, key templates and the client address, against a request made of fixed values.
import { IpAddress, parseIpRaw } from "proxy-wasm-as";
import { DescriptorHash } from "../descriptor-hash";
import { KeyTemplate, PartKind, isHeaderName, lowerAscii, parseKeyTemplate } from "../key-template";
import { HeaderMatchKind, HeaderMatcher, RequestMatcher } from "../matcher";
import { RequestView } from "../request-view";
import { addressFromXff } from "../xff";

function bytes(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

function ip(text: string): IpAddress {
  const a = new IpAddress();
  const b = bytes(text);
  if (!parseIpRaw(changetype<usize>(b), b.byteLength, a)) abort("bad test address " + text);
  return a;
}

class FakeRequest implements RequestView {
  names: string[] = [];
  values: string[] = [];
  pathText: string | null = "/api/items?page=2";
  methodText: string | null = "GET";
  hostText: string | null = "Api.Example.com:8080";
  source: IpAddress | null = ip("10.1.2.3");
  route: string | null = "api-route";

  with(name: string, value: string): FakeRequest {
    this.names.push(name);
    this.values.push(value);
    return this;
  }
  header(name: ArrayBuffer): ArrayBuffer | null {
    const n = String.UTF8.decode(name);
    for (let i = 0; i < this.names.length; i++) if (this.names[i] == n) return bytes(this.values[i]);
    return null;
  }
  path(): ArrayBuffer | null {
    const p = this.pathText;
    return p === null ? null : bytes(p);
  }
  pathLength(): i32 {
    const p = this.pathText;
    if (p === null) return 0;
    const q = p.indexOf("?");
    return q < 0 ? p.length : q;
  }
  method(): ArrayBuffer | null {
    const m = this.methodText;
    return m === null ? null : bytes(m);
  }
  host(): ArrayBuffer | null {
    const h = this.hostText;
    return h === null ? null : bytes(h);
  }
  sourceAddress(): IpAddress | null {
    return this.source;
  }
  routeName(): ArrayBuffer | null {
    const r = this.route;
    return r === null ? null : bytes(r);
  }
}

function hashOf(template: string, request: RequestView): u64 {
  const t = parseKeyTemplate(template);
  if (t.error.length > 0) abort("template error: " + t.error);
  const h = new DescriptorHash();
  return t.hashRequest(request, h) ? h.owner : 0;
}

function headerMatcher(name: string, kind: HeaderMatchKind, value: string, present: bool, invert: bool): HeaderMatcher {
  const m = new HeaderMatcher();
  m.name = bytes(name);
  m.kind = kind;
  m.value = bytes(value);
  m.present = present;
  m.invert = invert;
  return m;
}

describe("key templates", () => {
  it("parses placeholders and literal text", () => {
    const t = parseKeyTemplate("user:{header:X-User}/{path}|{method}|{host}|{source_address}|{route_name}");
    expect(t.error).toBe("");
    expect(t.parts.length).toBe(12);
    expect(t.parts[0].kind).toBe(PartKind.Literal);
    expect(t.parts[1].kind).toBe(PartKind.Header);
    expect(String.UTF8.decode(t.parts[1].bytes)).toBe("x-user", "header names are lower-cased");
    expect(t.parts[3].kind).toBe(PartKind.Path);
    expect(t.parts[11].kind).toBe(PartKind.RouteName);
    expect(t.isVariable).toBe(true);
    expect(parseKeyTemplate("fixed").isVariable).toBe(false);
    expect(new KeyTemplate().isVariable).toBe(false);
  });

  it("says what is wrong with a bad template", () => {
    expect(parseKeyTemplate("{user}").error).toBe(
      "unknown placeholder \"{user}\" (expected {header:<name>}, {path}, {method}, {host}, {source_address} or {route_name})");
    expect(parseKeyTemplate("a{path").error).toBe("unclosed \"{\" at offset 1");
    expect(parseKeyTemplate("a{pa{th}").error).toBe("unclosed \"{\" at offset 1");
    expect(parseKeyTemplate("a}").error).toBe("unexpected \"}\" at offset 1 (braces only enclose placeholders)");
    expect(parseKeyTemplate("{header:}").error).toBe("\"{header:}\" does not name a valid header");
    expect(parseKeyTemplate("{header::path}").error).toBe("\"{header::path}\" does not name a valid header");
  });

  it("maps equal values to one bucket and different values to different buckets", () => {
    const alice = new FakeRequest().with("x-user", "alice");
    const alice2 = new FakeRequest().with("x-user", "alice");
    const bob = new FakeRequest().with("x-user", "bob");
    expect(hashOf("{header:x-user}", alice)).toBe(hashOf("{header:x-user}", alice2));
    expect(hashOf("{header:x-user}", alice)).not.toBe(hashOf("{header:x-user}", bob));
    // The query string is not part of {path}.
    const other = new FakeRequest();
    other.pathText = "/api/items?page=3";
    expect(hashOf("{path}", new FakeRequest())).toBe(hashOf("{path}", other));
  });

  it("keeps adjacent values apart", () => {
    const a = new FakeRequest().with("a", "x").with("b", "yz");
    const b = new FakeRequest().with("a", "xy").with("b", "z");
    expect(hashOf("{header:a}{header:b}", a)).not.toBe(hashOf("{header:a}{header:b}", b));
  });

  it("does not apply when a placeholder has no value", () => {
    expect(hashOf("{header:x-user}", new FakeRequest())).toBe(0);
    const noRoute = new FakeRequest();
    noRoute.route = null;
    expect(hashOf("{route_name}", noRoute)).toBe(0);
    const noSource = new FakeRequest();
    noSource.source = null;
    expect(hashOf("{source_address}", noSource)).toBe(0);
  });

  it("keys an address by its value, whatever its spelling", () => {
    const a = new FakeRequest();
    a.source = ip("2001:db8::1");
    const b = new FakeRequest();
    b.source = ip("2001:0db8:0:0::0001");
    expect(hashOf("{source_address}", a)).toBe(hashOf("{source_address}", b));
    const v4 = new FakeRequest();
    v4.source = ip("10.0.0.1");
    const mapped = new FakeRequest();
    mapped.source = ip("::ffff:10.0.0.1");
    expect(hashOf("{source_address}", v4)).toBe(hashOf("{source_address}", mapped));
    expect(hashOf("{source_address}", v4)).not.toBe(hashOf("{source_address}", a));
  });

  it("checks header names like Envoy and lower-cases them in place", () => {
    expect(isHeaderName(bytes("x-user_id.v2"))).toBe(true);
    expect(isHeaderName(bytes(":path"))).toBe(false);
    expect(isHeaderName(bytes("bad header"))).toBe(false);
    expect(isHeaderName(bytes(""))).toBe(false);
    expect(String.UTF8.decode(lowerAscii(bytes("X-Mixed-Case")))).toBe("x-mixed-case");
  });
});

describe("request matchers", () => {
  it("matches everything when empty", () => {
    expect(new RequestMatcher().matches(new FakeRequest())).toBe(true);
  });

  it("matches the path without its query string", () => {
    const m = new RequestMatcher();
    m.path = bytes("/api/items");
    expect(m.matches(new FakeRequest())).toBe(true);
    m.path = bytes("/api");
    expect(m.matches(new FakeRequest())).toBe(false);
    const p = new RequestMatcher();
    p.prefix = bytes("/api/");
    expect(p.matches(new FakeRequest())).toBe(true);
    p.prefix = bytes("/api/items?page");
    expect(p.matches(new FakeRequest())).toBe(false);
  });

  it("matches methods, hosts (any case, with or without port) and route names", () => {
    const m = new RequestMatcher();
    m.methods = [bytes("POST"), bytes("GET")];
    expect(m.matches(new FakeRequest())).toBe(true);
    m.methods = [bytes("POST")];
    expect(m.matches(new FakeRequest())).toBe(false);
    const h = new RequestMatcher();
    h.hosts = [bytes("api.example.com")];
    expect(h.matches(new FakeRequest())).toBe(true);
    h.hosts = [bytes("api.example.com:8080")];
    expect(h.matches(new FakeRequest())).toBe(true);
    h.hosts = [bytes("example.com")];
    expect(h.matches(new FakeRequest())).toBe(false);
    const r = new RequestMatcher();
    r.routeNames = [bytes("api-route")];
    expect(r.matches(new FakeRequest())).toBe(true);
    const noRoute = new FakeRequest();
    noRoute.route = null;
    expect(r.matches(noRoute)).toBe(false);
  });

  it("matches headers as Envoy's HeaderMatcher does", () => {
    const req = new FakeRequest().with("x-tier", "free-trial");
    expect(headerMatcher("x-tier", HeaderMatchKind.Exact, "free-trial", true, false).matches(req)).toBe(true);
    expect(headerMatcher("x-tier", HeaderMatchKind.Exact, "free", true, false).matches(req)).toBe(false);
    expect(headerMatcher("x-tier", HeaderMatchKind.Prefix, "free", true, false).matches(req)).toBe(true);
    expect(headerMatcher("x-tier", HeaderMatchKind.Prefix, "free", true, true).matches(req)).toBe(false);
    expect(headerMatcher("x-tier", HeaderMatchKind.Present, "", true, false).matches(req)).toBe(true);
    expect(headerMatcher("x-tier", HeaderMatchKind.Present, "", false, false).matches(req)).toBe(false);
    // Absent header: only present_match false (or inverted present_match true) holds.
    const none = new FakeRequest();
    expect(headerMatcher("x-tier", HeaderMatchKind.Exact, "free", true, false).matches(none)).toBe(false);
    expect(headerMatcher("x-tier", HeaderMatchKind.Exact, "free", true, true).matches(none)).toBe(false);
    expect(headerMatcher("x-tier", HeaderMatchKind.Present, "", false, false).matches(none)).toBe(true);
    expect(headerMatcher("x-tier", HeaderMatchKind.Present, "", true, true).matches(none)).toBe(true);
    expect(headerMatcher("x-tier", HeaderMatchKind.Present, "", true, false).matches(none)).toBe(false);
  });
});

function xff(header: string, skip: u32): string {
  const out = new IpAddress();
  const b = bytes(header);
  if (!addressFromXff(b, skip, out)) return "none";
  if (out.v6) return "v6";
  return out.bytes[0].toString() + "." + out.bytes[1].toString() + "." + out.bytes[2].toString() + "." + out.bytes[3].toString();
}

describe("x-forwarded-for", () => {
  it("takes the entry that many hops from the right (Envoy's xff_num_trusted_hops)", () => {
    const header = "203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.1";
    expect(xff(header, 0)).toBe("192.0.2.1");
    expect(xff(header, 2)).toBe("203.0.113.10");
    expect(xff(header, 3)).toBe("203.0.113.128");
    expect(xff(header, 4)).toBe("none", "fewer entries than trusted hops");
    expect(xff("10.0.0.1", 0)).toBe("10.0.0.1");
    expect(xff("2001:db8::1 ,10.0.0.1", 1)).toBe("v6");
  });

  it("finds no address in a malformed entry", () => {
    expect(xff("unknown, 10.0.0.1", 1)).toBe("none");
    expect(xff("10.0.0.1,", 0)).toBe("none");
    expect(xff("", 0)).toBe("none");
    expect(xff("10.0.0.1:80", 0)).toBe("none", "XFF entries carry no port");
  });
});
