import { parseArgs } from "node:util";
import { registryClientFor, registryOptionSpec, registryOptionsUsage } from "../oci/client-options.js";
import { digestHex, type Digest } from "../oci/digest.js";
import { buildFilterImage } from "../oci/filter-image.js";
import { formatImageReference, parseImageReference } from "../oci/reference.js";
import type { Command } from "./command.js";
import { checkVariant, usageExit, variantOption } from "./package.js";

const usage = `usage: proxy-wasm push <filter> <ref> [--variant compat|wasm-artifact] [registry options]

Pushes build/<filter>.wasm as an OCI image to <ref> (registry/repository:tag, oci:// allowed) with
the OCI distribution API, and prints the manifest digest's hex: the WasmPlugin's spec.sha256.
${registryOptionsUsage}`;

export const command: Command = {
  name: "push",
  summary: "push a filter's OCI image to a registry; prints the digest for WasmPlugin sha256",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...variantOption, ...registryOptionSpec, help: { type: "boolean" } },
    });
    const exit = usageExit(values.help, positionals.length, 2, usage);
    if (exit !== undefined) return exit;
    const [filter, refText] = positionals as [string, string];
    const image = buildFilterImage(filter, checkVariant(values.variant));
    const ref = parseImageReference(refText);
    const client = registryClientFor(ref, values);
    try {
      const result = await client.pushImage(ref, image);
      console.error(
        `pushed ${formatImageReference({ ...ref, digest: result.digest })} (${image.variant}; ` +
          `${result.uploaded} blob(s) uploaded, ${result.existing} already present)`,
      );
      console.log(digestHex(result.digest as Digest));
    } finally {
      await client.close();
    }
    return 0;
  },
};
