import { relative } from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "../build.js";
import { buildFilterImage, defaultLayoutDir } from "../oci/filter-image.js";
import { imageVariants, type ImageVariant } from "../oci/image.js";
import { writeOciLayout } from "../oci/layout.js";
import type { Command } from "./command.js";

export const variantOption = { variant: { type: "string", default: "compat" } } as const;

export function checkVariant(v: string): ImageVariant {
  if (!(imageVariants as readonly string[]).includes(v)) throw new Error(`--variant must be ${imageVariants.join(" or ")}, not "${v}"`);
  return v as ImageVariant;
}

/** --help prints the usage (exit 0); a wrong number of arguments prints it to stderr (exit 2). */
export function usageExit(help: boolean | undefined, count: number, expected: number, usage: string): number | undefined {
  if (help) {
    console.log(usage);
    return 0;
  }
  if (count !== expected) {
    console.error(usage);
    return 2;
  }
  return undefined;
}

const usage = `usage: proxy-wasm package <filter> [--variant compat|wasm-artifact] [--tag TAG] [--out DIR]

Packages build/<filter>.wasm as an OCI image that Istio's agent can pull, written as an OCI image
layout (default build/oci/<filter>; skopeo/oras/crane read it as oci:<dir>:<tag>).
  --variant compat         one tar+gzip layer holding plugin.wasm (default; docker/buildah compatible)
  --variant wasm-artifact  two layers: runtime config + raw module (solo-io "oci" variant)
  --tag TAG                reference name inside the layout (default: latest)
The same module always gives the same manifest digest, which is printed.`;

export const command: Command = {
  name: "package",
  summary: "package build/<filter>.wasm as an OCI image (layout under build/oci/)",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { ...variantOption, tag: { type: "string", default: "latest" }, out: { type: "string" }, help: { type: "boolean" } },
    });
    const exit = usageExit(values.help, positionals.length, 1, usage);
    if (exit !== undefined) return exit;
    const filter = positionals[0]!;
    const variant = checkVariant(values.variant);
    const image = buildFilterImage(filter, variant);
    const dir = values.out ?? defaultLayoutDir(filter, variant);
    writeOciLayout(dir, image, values.tag);
    console.log(`wrote ${relative(projectRoot, dir) || dir} (${variant}, tag ${values.tag})`);
    console.log(`manifest digest ${image.manifestDigest}`);
    return 0;
  },
};
