// The CEL rules (x-kubernetes-validations) of Istio's WasmPlugin CRD, written out in TypeScript.
// We do not embed a CEL interpreter: each rule text the CRD states maps to a function with the same
// meaning, and an unknown rule text is an error when the schema is loaded, so a newer CRD copy
// cannot have rules that are silently skipped.
//
// `has(self.f)` is true when the field is present (the API server has already pruned unknown
// fields and defaulted nothing here). `isURL`/`url().getScheme()` are Kubernetes' CEL URL library,
// which parses with Go's net/url ParseRequestURI; goRequestUriScheme below follows that parser.

type Rule = (self: unknown) => boolean;

const has = (obj: unknown, field: string): boolean =>
  !!obj && typeof obj === "object" && Object.prototype.hasOwnProperty.call(obj, field) && (obj as Record<string, unknown>)[field] !== undefined;

/**
 * Go net/url.ParseRequestURI: the scheme is [A-Za-z][A-Za-z0-9+.-]* before the first ":" (a
 * character outside that set first means no scheme); with no scheme the URI must be an absolute
 * path; with a scheme, the rest may be opaque. Returns the lower-cased scheme ("" for a path), or
 * undefined when Go reports an error. Authority details (ports, IPv6 literals) are checked only
 * for a numeric port, the common mistake.
 */
export function goRequestUriScheme(s: string): string | undefined {
  if (/[\x00-\x1f\x7f]/.test(s)) return undefined; // "net/url: invalid control character in URL"
  let scheme = "";
  let rest = s;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/[A-Za-z]/.test(c)) continue;
    if (/[0-9+.-]/.test(c) && i > 0) continue;
    if (c === ":") {
      if (i === 0) return undefined; // "missing protocol scheme"
      scheme = s.slice(0, i).toLowerCase();
      rest = s.slice(i + 1);
    }
    break;
  }
  if (!scheme && !rest.startsWith("/")) return undefined; // "invalid URI for request"
  if (rest.startsWith("//")) {
    const authority = rest.slice(2).split(/[/?]/, 1)[0]!;
    const hostPort = authority.slice(authority.lastIndexOf("@") + 1);
    const colon = hostPort.lastIndexOf(":");
    const port = hostPort.startsWith("[") ? hostPort.slice(hostPort.indexOf("]") + 1) : colon >= 0 ? hostPort.slice(colon) : "";
    if (port && !/^:[0-9]*$/.test(port)) return undefined; // "invalid port"
  }
  return scheme;
}

const allowedUrlSchemes = ["", "http", "https", "oci", "file"];

const rules: Record<string, Rule> = {
  '!self.contains("*")': (self) => typeof self === "string" && !self.includes("*"),
  'self.all(key, !key.contains("*"))': (self) => Object.keys(self as object).every((k) => !k.includes("*")),
  "self.all(key, key.size() != 0)": (self) => Object.keys(self as object).every((k) => k.length !== 0),
  "self.size() == 0": (self) => typeof self === "string" && self.length === 0,
  'isURL(self) ? (url(self).getScheme() in ["", "http", "https", "oci", "file"]) : (isURL("http://" + self) && url("http://" + self).getScheme() in ["", "http", "https", "oci", "file"])':
    (self) => {
      const s = String(self);
      const direct = goRequestUriScheme(s);
      if (direct !== undefined) return allowedUrlSchemes.includes(direct);
      const prefixed = goRequestUriScheme(`http://${s}`);
      return prefixed !== undefined && allowedUrlSchemes.includes(prefixed);
    },
  '(has(self.valueFrom) ? self.valueFrom : "") != "HOST" || !has(self.value)': (self) =>
    (has(self, "valueFrom") ? (self as { valueFrom: unknown }).valueFrom : "") !== "HOST" || !has(self, "value"),
  "(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1": (self) =>
    ["selector", "targetRef", "targetRefs"].filter((f) => has(self, f)).length <= 1,
};

/** Rule texts are compared with whitespace collapsed, since YAML folds long rules differently. */
function normalize(rule: string): string {
  return rule.replace(/\s+/g, " ").replace(/\( /g, "(").replace(/ \)/g, ")").trim();
}

const byNormalizedText = new Map(Object.entries(rules).map(([text, fn]) => [normalize(text), fn]));

export function celRule(rule: string): Rule {
  const fn = byNormalizedText.get(normalize(rule));
  if (!fn) throw new Error(`CRD rule not implemented in host/istio/cel-rules.ts: ${rule}`);
  return fn;
}
