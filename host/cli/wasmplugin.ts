import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { registryClientFor, registryOptionSpec, registryOptionsUsage } from "../oci/client-options.js";
import { digestHex, type Digest } from "../oci/digest.js";
import { buildFilterImage } from "../oci/filter-image.js";
import { formatImageReference, parseImageReference } from "../oci/reference.js";
import { generateWasmPlugin, toYaml } from "../istio/wasmplugin.js";
import type { Command } from "./command.js";
import { checkVariant, usageExit, variantOption } from "./package.js";

const usage = `usage: proxy-wasm wasmplugin <filter> <ref> [options]

Writes an Istio WasmPlugin (extensions.istio.io/v1alpha1) for <filter> pulling oci://<ref>, with
spec.sha256 pinned to the image's manifest digest and phase/priority/match/failStrategy/pluginName/
pluginConfig from the filter's descriptor (filters/<filter>/wasmplugin.json, else the suite defaults).
The digest is, in order: --sha256; the @sha256: of <ref>; the registry's (--resolve); else the digest
of the image \`proxy-wasm push\` builds from build/<filter>.wasm (images are reproducible).
  --variant V               image variant for the local digest (compat | wasm-artifact)
  --sha256 HEX              use this digest
  --resolve                 read the digest from the registry (registry options below apply)
  --namespace NS            default istio-system (the root namespace: every namespace)
  --name NAME               default <filter>
  --selector KEY=VALUE      workload selector matchLabels (repeatable)
  --image-pull-secret NAME  docker-registry Secret in the plugin's namespace
  -o, --output FILE         write there instead of standard output
${registryOptionsUsage}`;

function parseSelector(items: string[]): Record<string, string> | undefined {
  if (!items.length) return undefined;
  const labels: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new Error(`--selector "${item}": expected KEY=VALUE`);
    labels[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return labels;
}

export const command: Command = {
  name: "wasmplugin",
  summary: "write the Istio WasmPlugin for a filter's image, pinned to its digest",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...variantOption,
        ...registryOptionSpec,
        sha256: { type: "string" },
        resolve: { type: "boolean" },
        namespace: { type: "string" },
        name: { type: "string" },
        selector: { type: "string", multiple: true, default: [] },
        "image-pull-secret": { type: "string" },
        output: { type: "string", short: "o" },
        help: { type: "boolean" },
      },
    });
    const exit = usageExit(values.help, positionals.length, 2, usage);
    if (exit !== undefined) return exit;
    const [filter, refText] = positionals as [string, string];
    const ref = parseImageReference(refText);
    if (values.sha256 && ref.digest && digestHex(ref.digest as Digest) !== values.sha256) {
      throw new Error(`--sha256 ${values.sha256} differs from the digest in ${refText}`);
    }
    let sha256 = values.sha256 ?? (ref.digest ? digestHex(ref.digest as Digest) : undefined);
    if (!sha256 && values.resolve) {
      const client = registryClientFor(ref, values);
      try {
        sha256 = digestHex((await client.getManifest(ref)).digest as Digest);
      } finally {
        await client.close();
      }
      const local = digestHex(buildFilterImage(filter, checkVariant(values.variant)).manifestDigest);
      if (local !== sha256) console.error(`note: ${formatImageReference(ref)} is not the image of the current build/${filter}.wasm (${values.variant})`);
    }
    sha256 ??= digestHex(buildFilterImage(filter, checkVariant(values.variant)).manifestDigest);
    const matchLabels = parseSelector(values.selector);
    const plugin = generateWasmPlugin({
      filter,
      // A digest in the url must equal spec.sha256 (filters.md §5.1); both come from the same place.
      url: `oci://${formatImageReference(ref)}`,
      sha256,
      ...(values.namespace ? { namespace: values.namespace } : {}),
      ...(values.name ? { name: values.name } : {}),
      ...(values["image-pull-secret"] ? { imagePullSecret: values["image-pull-secret"] } : {}),
      ...(matchLabels ? { matchLabels } : {}),
    });
    const yaml = toYaml([plugin]);
    if (values.output) writeFileSync(values.output, yaml);
    else process.stdout.write(yaml);
    return 0;
  },
};
