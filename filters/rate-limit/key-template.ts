// Descriptor key templates: "{header:x-user}:{path}" names the bucket a request counts against.
// Placeholders: {header:<name>}, {path} (without the query string), {method}, {host}
// (:authority), {source_address} (the client IP) and {route_name}. Anything else is literal text;
// "{" and "}" only appear in placeholders. A placeholder whose value is missing (header absent, no
// route) makes the rule not apply to the request, as Envoy's request_headers rate-limit action
// produces no descriptor when its header is absent.
// Pure code: no host imports.
import { IpAddress } from "proxy-wasm-as";
import { DescriptorHash } from "./descriptor-hash";
import { RequestView } from "./request-view";

export const enum PartKind {
  Literal,
  Header,
  Path,
  Method,
  Host,
  SourceAddress,
  RouteName,
}

export class TemplatePart {
  constructor(
    public kind: PartKind,
    /** Literal text or header name (lower-cased), UTF-8. */
    public bytes: ArrayBuffer,
  ) {}
}

export class KeyTemplate {
  parts: TemplatePart[] = [];
  /** What went wrong, "" if the template is valid. */
  error: string = "";

  /** True if some part depends on the request, so that requests map to different buckets. */
  get isVariable(): bool {
    const parts = this.parts;
    for (let i = 0; i < parts.length; i++) if (unchecked(parts[i]).kind != PartKind.Literal) return true;
    return false;
  }

  /**
   * Feeds the request's values for the template into `hash`. False if a placeholder has no value
   * for this request (the rule does not apply).
   */
  hashRequest(request: RequestView, hash: DescriptorHash): bool {
    const parts = this.parts;
    for (let i = 0, n = parts.length; i < n; i++) {
      const part = unchecked(parts[i]);
      if (part.kind == PartKind.Literal) {
        hash.addBytes(changetype<usize>(part.bytes), part.bytes.byteLength);
      } else if (part.kind == PartKind.SourceAddress) {
        const ip = request.sourceAddress();
        if (ip === null) return false;
        hashAddress(ip, hash);
      } else {
        const v = valueOf(part, request);
        if (v === null) return false;
        hash.addPart(v, part.kind == PartKind.Path ? request.pathLength() : v.byteLength);
      }
    }
    return true;
  }
}

/** The bytes a header, path, method, host or route-name placeholder stands for; null if none. */
function valueOf(part: TemplatePart, request: RequestView): ArrayBuffer | null {
  switch (part.kind) {
    case PartKind.Header: return request.header(part.bytes);
    case PartKind.Path: return request.path();
    case PartKind.Method: return request.method();
    case PartKind.Host: return request.host();
  }
  return request.routeName();
}

/**
 * The parsed address, so that equal addresses written differently ("::1", "0::1") share a bucket,
 * and an IPv4-mapped IPv6 address ("::ffff:10.0.0.1") shares the IPv4 address's bucket.
 */
function hashAddress(ip: IpAddress, hash: DescriptorHash): void {
  const b = changetype<usize>(ip.bytes);
  let mapped = ip.v6 && load<u16>(b + 10) == 0xffff;
  for (let k: usize = 0; mapped && k < 10; k++) mapped = load<u8>(b + k) == 0;
  if (ip.v6 && !mapped) hash.addBytes(b, 16);
  else hash.addBytes(mapped ? b + 12 : b, 4);
  hash.addU64(ip.v6 && !mapped ? 16 : 4);
}

/** Lower-cases ASCII letters in place (Envoy lower-cases header names); returns `bytes`. */
export function lowerAscii(bytes: ArrayBuffer): ArrayBuffer {
  const p = changetype<usize>(bytes);
  for (let i = 0, n = bytes.byteLength; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    if (c >= 0x41 && c <= 0x5a) store<u8>(p + <usize>i, c | 0x20);
  }
  return bytes;
}

/** An RFC 9110 token, which is what Envoy accepts as a header name (so no pseudo-headers). */
export function isHeaderName(name: ArrayBuffer): bool {
  const p = changetype<usize>(name);
  const n = name.byteLength;
  for (let i = 0; i < n; i++) {
    const c = <i32>load<u8>(p + <usize>i);
    const alnum = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
    // !#$%&'*+-.^_`|~
    if (!alnum && (c < 0x21 || c > 0x7e || TOKEN_SYMBOLS.indexOf(String.fromCharCode(c)) < 0)) return false;
  }
  return n > 0;
}

const TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";

function placeholderKind(name: string): i32 {
  if (name == "path") return PartKind.Path;
  if (name == "method") return PartKind.Method;
  if (name == "host") return PartKind.Host;
  if (name == "source_address") return PartKind.SourceAddress;
  if (name == "route_name") return PartKind.RouteName;
  return -1;
}

/** Parses a key template; on failure `error` says what is wrong and where. */
export function parseKeyTemplate(text: string): KeyTemplate {
  const t = new KeyTemplate();
  let literalStart = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c == 0x7d) {
      t.error = "unexpected \"}\" at offset " + i.toString() + " (braces only enclose placeholders)";
      return t;
    }
    if (c != 0x7b) {
      i++;
      continue;
    }
    const close = text.indexOf("}", i + 1);
    const nextOpen = text.indexOf("{", i + 1);
    if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
      t.error = "unclosed \"{\" at offset " + i.toString();
      return t;
    }
    if (i > literalStart) t.parts.push(new TemplatePart(PartKind.Literal, String.UTF8.encode(text.substring(literalStart, i))));
    const name = text.substring(i + 1, close);
    if (name.startsWith("header:")) {
      const header = String.UTF8.encode(name.substring(7));
      if (!isHeaderName(header)) {
        t.error = "\"{" + name + "}\" does not name a valid header";
        return t;
      }
      t.parts.push(new TemplatePart(PartKind.Header, lowerAscii(header)));
    } else {
      const kind = placeholderKind(name);
      if (kind < 0) {
        t.error = "unknown placeholder \"{" + name +
          "}\" (expected {header:<name>}, {path}, {method}, {host}, {source_address} or {route_name})";
        return t;
      }
      t.parts.push(new TemplatePart(<PartKind>kind, new ArrayBuffer(0)));
    }
    i = close + 1;
    literalStart = i;
  }
  if (literalStart < text.length) t.parts.push(new TemplatePart(PartKind.Literal, String.UTF8.encode(text.substring(literalStart))));
  return t;
}
