// OCI image layout (image-spec image-layout.md): oci-layout, index.json and blobs/sha256/<hex>.
// `proxy-wasm package` writes one, which skopeo, oras, crane and podman read as `oci:<dir>:<tag>`.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { digestHex, isDigest, verifyDigest } from "./digest.js";
import type { BlobReader } from "./extract.js";
import { imageBlobs, type Descriptor, type WasmImage } from "./image.js";
import { MediaType } from "./media-types.js";

const refNameAnnotation = "org.opencontainers.image.ref.name";

function blobPath(dir: string, digest: string): string {
  if (!isDigest(digest)) throw new Error(`${dir}: "${digest}" is not a sha256 digest`);
  return join(dir, "blobs", "sha256", digestHex(digest));
}

/** Replaces `dir` with a layout holding `image` under the reference name `tag`. */
export function writeOciLayout(dir: string, image: WasmImage, tag: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  for (const b of imageBlobs(image)) writeFileSync(blobPath(dir, b.digest), b.data);
  writeFileSync(blobPath(dir, image.manifestDigest), image.manifest);
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      {
        mediaType: MediaType.ociManifest,
        digest: image.manifestDigest,
        size: image.manifest.length,
        annotations: { [refNameAnnotation]: tag },
      },
    ],
  };
  writeFileSync(join(dir, "index.json"), JSON.stringify(index, null, 2) + "\n");
}

export interface LayoutImage {
  manifest: Buffer;
  manifestDigest: string;
  mediaType: string;
  readBlob: BlobReader;
}

/** Reads the manifest named `tag` (or the only one) from a layout, verifying every digest. */
export function readOciLayout(dir: string, tag?: string): LayoutImage {
  const indexFile = join(dir, "index.json");
  if (!existsSync(join(dir, "oci-layout"))) throw new Error(`${dir}: not an OCI image layout (no oci-layout file)`);
  const index = JSON.parse(readFileSync(indexFile, "utf8")) as { manifests?: Descriptor[] };
  const manifests = index.manifests ?? [];
  const entry = tag ? manifests.find((m) => m.annotations?.[refNameAnnotation] === tag) : manifests.length === 1 ? manifests[0] : undefined;
  if (!entry) {
    const names = manifests.map((m) => m.annotations?.[refNameAnnotation] ?? m.digest).join(", ");
    throw new Error(`${indexFile}: no manifest ${tag ? `named "${tag}"` : "(several present, name a tag)"}; has: ${names || "none"}`);
  }
  const read = (d: Descriptor): Buffer => {
    const data = readFileSync(blobPath(dir, d.digest));
    verifyDigest(data, d.digest, `${dir} blob ${d.digest}`);
    if (data.length !== d.size) throw new Error(`${dir} blob ${d.digest}: size ${data.length}, descriptor says ${d.size}`);
    return data;
  };
  return {
    manifest: read(entry),
    manifestDigest: entry.digest,
    mediaType: entry.mediaType,
    readBlob: async (d) => read(d),
  };
}
