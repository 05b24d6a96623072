// Generates the WasmPlugin resource for one filter (filters.md §5.1, §5.5): the image url and its
// manifest digest, plus what the filter's descriptor says (phase, priority, match, failStrategy,
// pluginName, pluginConfig). The result is validated against the CRD (validate.ts) and, when the
// filter ships filters/<name>/config.schema.json, its pluginConfig against that schema too.
import { Ajv } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import { stringify } from "yaml";
import { projectRoot } from "../build.js";
import { filterConfigSchema, loadDescriptor } from "./descriptor.js";
import { assertValidWasmPlugin, wasmPluginApiVersion } from "./validate.js";

export interface WasmPluginOptions {
  filter: string;
  /** oci://..., https://..., file://... (a bare image reference gets oci://). */
  url: string;
  /** Hex manifest digest (OCI) or module digest (http/file); omitted when unknown. */
  sha256?: string;
  name?: string;
  /** The root namespace (istio-system) applies the plugin to every namespace (filters.md §5.1). */
  namespace?: string;
  matchLabels?: Record<string, string>;
  imagePullSecret?: string;
  imagePullPolicy?: "IfNotPresent" | "Always";
  root?: string;
}

export interface WasmPluginResource {
  apiVersion: string;
  kind: "WasmPlugin";
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

/**
 * Where `config` breaks the filter's filters/<name>/config.schema.json, as "<path>: <problem>"
 * lines with JSON paths under `at` (none when it conforms); undefined when the filter ships no
 * schema. Used for WasmPlugin pluginConfig and for the plugin configurations in envoy/*.yaml alike.
 */
export function pluginConfigProblems(filter: string, config: unknown, at: string, root = projectRoot): { file: string; problems: string[] } | undefined {
  const own = filterConfigSchema(filter, root);
  if (!own) return undefined;
  // Filter schemas are JSON Schema draft 2020-12, which the default Ajv (draft-07) cannot compile.
  const draft2020 = (own.schema as { $schema?: string }).$schema === "https://json-schema.org/draft/2020-12/schema";
  const ajv = draft2020 ? new Ajv2020({ allErrors: true, strict: false }) : new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(own.schema);
  const problems = validate(config) ? [] : (validate.errors ?? []).map((e) => `${at}${e.instancePath.replace(/\//g, ".")}: ${e.message}`);
  return { file: own.file, problems };
}

function checkPluginConfig(filter: string, pluginConfig: unknown, root: string): void {
  if (pluginConfig === undefined) return;
  const checked = pluginConfigProblems(filter, pluginConfig, "spec.pluginConfig", root);
  if (checked?.problems.length) throw new Error(`${filter}: pluginConfig does not match ${checked.file}:\n  ${checked.problems.join("\n  ")}`);
}

export function generateWasmPlugin(opts: WasmPluginOptions): WasmPluginResource {
  const root = opts.root ?? projectRoot;
  const descriptor = loadDescriptor(opts.filter, root);
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(opts.url) ? opts.url : `oci://${opts.url}`;
  // Field order follows the WasmPlugin API docs, so generated files read like Istio's examples.
  const spec: Record<string, unknown> = {
    ...(opts.matchLabels ? { selector: { matchLabels: opts.matchLabels } } : {}),
    url,
    ...(opts.sha256 ? { sha256: opts.sha256 } : {}),
    // A pinned digest makes IfNotPresent safe; without one, Istio defaults ":latest" to Always.
    imagePullPolicy: opts.imagePullPolicy ?? "IfNotPresent",
    ...(opts.imagePullSecret ? { imagePullSecret: opts.imagePullSecret } : {}),
    ...descriptor,
  };
  const resource: WasmPluginResource = {
    apiVersion: wasmPluginApiVersion,
    kind: "WasmPlugin",
    metadata: {
      name: opts.name ?? opts.filter,
      namespace: opts.namespace ?? "istio-system",
      labels: { "app.kubernetes.io/part-of": "proxy-wasm-as" },
    },
    spec,
  };
  assertValidWasmPlugin(resource, `WasmPlugin for ${opts.filter}`);
  checkPluginConfig(opts.filter, descriptor.pluginConfig, root);
  return resource;
}

export function toYaml(resources: object[], header?: string): string {
  const docs = resources.map((r) => stringify(r, { lineWidth: 0 }));
  return (header ? header.replace(/^/gm, "# ").replace(/# $/gm, "#") + "\n" : "") + docs.join("---\n");
}
