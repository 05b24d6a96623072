// Validates WasmPlugin resources the way the Kubernetes API server would with Istio's CRD installed
// (envoy/istio/schema/wasmplugin-crd.yaml, the project's copy): the openAPIV3Schema through ajv, plus
// what Kubernetes adds around a structural schema:
//   - unknown fields are errors (kubectl's default --validate=strict) except under
//     x-kubernetes-preserve-unknown-fields (pluginConfig, status);
//   - x-kubernetes-list-type: map lists must not repeat a key (x-kubernetes-list-map-keys);
//   - x-kubernetes-validations CEL rules are evaluated (cel-rules.ts);
//   - format int32 is range-checked, nullable honoured; apiVersion, kind and metadata.name
//     (DNS-1123 subdomain) are checked as for any object.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { projectRoot } from "../build.js";
import { celRule } from "./cel-rules.js";

export const wasmPluginApiVersion = "extensions.istio.io/v1alpha1";
export const crdFile = join(projectRoot, "envoy", "istio", "schema", "wasmplugin-crd.yaml");

type Schema = Record<string, unknown>;

/** Kubernetes structural-schema semantics made explicit for ajv. */
function toAjvSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toAjvSchema);
  if (!node || typeof node !== "object") return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node as Schema)) {
    if (k === "description") continue;
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, toAjvSchema(s)])) : toAjvSchema(v);
  }
  if (out.type === "object" && out.properties && !out["x-kubernetes-preserve-unknown-fields"] && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

const dns1123Subdomain = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const dns1123Label = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

export function loadWasmPluginSchema(file = crdFile): Schema {
  const crd = parseAllDocuments(readFileSync(file, "utf8"))[0]!.toJS() as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
  };
  const version = crd.spec.versions.find((v) => v.name === "v1alpha1");
  if (!version) throw new Error(`${file}: no v1alpha1 version`);
  const schema = toAjvSchema(version.schema.openAPIV3Schema) as Schema;
  // Every Kubernetes object also has these; the CRD schema leaves them to the API server.
  schema.properties = {
    apiVersion: { type: "string", const: wasmPluginApiVersion },
    kind: { type: "string", const: "WasmPlugin" },
    metadata: {
      type: "object",
      required: ["name"],
      additionalProperties: false,
      properties: {
        name: { type: "string", maxLength: 253, pattern: dns1123Subdomain },
        namespace: { type: "string", maxLength: 63, pattern: dns1123Label },
        labels: { type: "object", additionalProperties: { type: "string" } },
        annotations: { type: "object", additionalProperties: { type: "string" } },
      },
    },
    ...(schema.properties as Schema),
  };
  schema.required = ["apiVersion", "kind", "metadata", ...((schema.required as string[]) ?? [])];
  return schema;
}

function listMapKeysUnique(keys: string[], data: unknown[]): string | undefined {
  const seen = new Set<string>();
  for (const item of data) {
    const key = JSON.stringify(keys.map((k) => (item as Record<string, unknown>)?.[k]));
    if (seen.has(key)) return `duplicate entries for key [${keys.map((k, i) => `${k}=${JSON.parse(key)[i]}`).join(",")}]`;
    seen.add(key);
  }
  return undefined;
}

function makeAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
  ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat("date-time", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
  for (const keyword of ["x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys"]) {
    ajv.addKeyword({ keyword });
  }
  // Keywords whose check needs a message of their own compile to a function that sets .errors.
  const withErrors = (keyword: string, check: (schema: never, parent: Schema) => (data: never) => string[]) =>
    ajv.addKeyword({
      keyword,
      errors: true,
      compile(schema: never, parent: Schema) {
        const problems = check(schema, parent);
        const validate = (data: never): boolean => {
          const messages = problems(data);
          (validate as { errors?: Partial<ErrorObject>[] }).errors = messages.map((message) => ({ keyword, message, params: {} }));
          return messages.length === 0;
        };
        return validate;
      },
    } as never);
  withErrors("x-kubernetes-list-type", (listType: string, parent) => (data: unknown[]) => {
    if (!Array.isArray(data)) return [];
    const keys = parent["x-kubernetes-list-map-keys"] as string[] | undefined;
    if (listType === "map" && keys) return [listMapKeysUnique(keys, data)].filter((m): m is string => !!m);
    if (listType === "set" && new Set(data.map((d) => JSON.stringify(d))).size !== data.length) return ["duplicate entries in a set"];
    return [];
  });
  withErrors("x-kubernetes-validations", (rules: { rule: string; message?: string }[]) => {
    const compiled = rules.map((r) => ({ fn: celRule(r.rule), message: r.message ?? `failed rule: ${r.rule}` }));
    // Kubernetes type-checks a rule against the schema before running it; a value of the wrong type
    // is already reported by the `type` keyword, so a rule that cannot apply to it is skipped.
    const holds = (fn: (self: unknown) => boolean, data: unknown): boolean => {
      try {
        return data === null || data === undefined || fn(data);
      } catch {
        return true;
      }
    };
    return (data: unknown) => compiled.filter((c) => !holds(c.fn, data)).map((c) => c.message);
  });
  return ajv;
}

/** Compiles the validator for a CRD file; throws when the CRD has a CEL rule we do not evaluate. */
export function compileWasmPluginValidator(file = crdFile): ValidateFunction {
  return makeAjv().compile(loadWasmPluginSchema(file));
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= compileWasmPluginValidator();
  return compiled;
}

/** "/spec/match/0/mode" → "spec.match[0].mode" */
function fieldPath(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), "");
}

function describe(e: ErrorObject): string {
  const at = fieldPath(e.instancePath) || "(root)";
  if (e.keyword === "additionalProperties") return `${at}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === "enum") return `${at}: ${e.message} (${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")})`;
  return `${at}: ${e.message}`;
}

/** Problems with one WasmPlugin object, each naming the field; empty when valid. */
export function wasmPluginErrors(resource: unknown): string[] {
  const validate = validator();
  if (validate(resource)) return [];
  return [...new Set((validate.errors ?? []).map(describe))];
}

/** Throws listing every problem, prefixed with `where` (file and document). */
export function assertValidWasmPlugin(resource: unknown, where: string): void {
  const errors = wasmPluginErrors(resource);
  if (errors.length) throw new Error(`${where}: invalid WasmPlugin:\n  ${errors.join("\n  ")}`);
}
