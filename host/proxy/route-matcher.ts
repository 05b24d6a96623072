// Envoy's route table lookup (source/common/router/config_impl.cc): the virtual host is chosen by
// the :authority header (exact domain, then the longest "*suffix", then the longest "prefix*",
// then "*"), and its routes are tried in order: path specifier, case sensitivity, header matchers.
import type {
  HeaderMatcherModel,
  RouteConfigModel,
  RouteMatchModel,
  RouteModel,
  StringMatcherModel,
  VirtualHostModel,
} from "../config/model.js";
import type { HeaderMap } from "../http/header-map.js";

export interface RouteMatch {
  vhost: VirtualHostModel;
  route: RouteModel;
}

export function matchString(m: StringMatcherModel, value: string): boolean {
  if (m.kind === "safe_regex") return m.regex.test(value);
  const v = m.ignoreCase ? value.toLowerCase() : value;
  const want = m.ignoreCase ? m.value.toLowerCase() : m.value;
  switch (m.kind) {
    case "exact":
      return v === want;
    case "prefix":
      return v.startsWith(want);
    case "suffix":
      return v.endsWith(want);
    case "contains":
      return v.includes(want);
  }
}

/** Envoy HeaderUtility::matchHeaders for one matcher (multiple values are comma-joined). */
function matchHeader(m: HeaderMatcherModel, headers: HeaderMap): boolean {
  const values = headers.getAll(m.name);
  let value: string | undefined = values.length ? values.join(",") : undefined;
  if (value === undefined && m.treatMissingAsEmpty) value = "";
  let matched: boolean;
  if (m.match.kind === "present") matched = (value !== undefined) === m.match.present;
  else matched = value !== undefined && matchString(m.match.matcher, value);
  // invert_match never turns a missing header into a match for value matchers.
  if (value === undefined && m.match.kind !== "present") return false;
  return matched !== m.invert;
}

function matchPath(m: RouteMatchModel, path: string): boolean {
  const p = m.path;
  if (p.kind === "safe_regex") return p.regex.test(stripQuery(path));
  if (p.kind === "prefix") return m.caseSensitive ? path.startsWith(p.value) : path.toLowerCase().startsWith(p.value.toLowerCase());
  const noQuery = stripQuery(path);
  return m.caseSensitive ? noQuery === p.value : noQuery.toLowerCase() === p.value.toLowerCase();
}

function stripQuery(path: string): string {
  const q = path.search(/[?#]/);
  return q < 0 ? path : path.slice(0, q);
}

export class RouteMatcher {
  private readonly exact = new Map<string, VirtualHostModel>();
  private readonly suffixes: Array<[string, VirtualHostModel]> = [];
  private readonly prefixes: Array<[string, VirtualHostModel]> = [];
  private wildcard: VirtualHostModel | undefined;

  constructor(readonly config: RouteConfigModel) {
    for (const vh of config.virtualHosts) {
      for (const d of vh.domains.map((x) => x.toLowerCase())) {
        if (d === "*") this.wildcard = vh;
        else if (d.startsWith("*")) this.suffixes.push([d.slice(1), vh]);
        else if (d.endsWith("*")) this.prefixes.push([d.slice(0, -1), vh]);
        else this.exact.set(d, vh);
      }
    }
    // Longest wildcard first, as Envoy's wildcard maps are ordered by length.
    this.suffixes.sort((a, b) => b[0].length - a[0].length);
    this.prefixes.sort((a, b) => b[0].length - a[0].length);
  }

  virtualHost(authority: string): VirtualHostModel | undefined {
    const host = authority.toLowerCase();
    const exact = this.exact.get(host);
    if (exact) return exact;
    // A wildcard must match at least one character (Envoy: "*" alone is the catch-all).
    for (const [s, vh] of this.suffixes) if (host.length > s.length && host.endsWith(s)) return vh;
    for (const [p, vh] of this.prefixes) if (host.length > p.length && host.startsWith(p)) return vh;
    return this.wildcard;
  }

  /** The route for a request, or undefined (Envoy answers 404 route_not_found). */
  route(headers: HeaderMap): RouteMatch | undefined {
    const vhost = this.virtualHost(headers.get(":authority") ?? "");
    if (!vhost) return undefined;
    const path = headers.get(":path") ?? "";
    for (const route of vhost.routes) {
      if (matchPath(route.match, path) && route.match.headers.every((h) => matchHeader(h, headers))) return { vhost, route };
    }
    return undefined;
  }
}
