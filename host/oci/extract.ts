// Takes the Wasm module out of a pulled image the way Istio's agent does, so that a test (or a user)
// can tell whether an image would load under Istio without running Istio. Mirrors
// istio pkg/wasm/imagefetcher.go PrepareFetch/binaryFetcher and cache.go (filters.md §5.3, §5.4):
//   1. a Docker schema 2 manifest: the last layer must be a docker rootfs tar.gzip holding plugin.wasm;
//   2. otherwise the compat variant: the last layer must be an OCI tar+gzip holding plugin.wasm
//      (any directory; the first entry whose base name is plugin.wasm wins);
//   3. otherwise the oci (artifact) variant: exactly two layers, one of them the raw wasm layer;
//   then the payload must start with the \0asm magic.
import { posix } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Descriptor } from "./image.js";
import { pluginFileName } from "./image.js";
import { MediaType } from "./media-types.js";
import { readTar } from "./tar.js";

export type ExtractedFormat = "docker" | "compat" | "wasm-artifact";

export interface ImageManifest {
  schemaVersion?: number;
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  annotations?: Record<string, string>;
}

/** Fetches (and verifies) one blob of the image. */
export type BlobReader = (descriptor: Descriptor) => Promise<Buffer>;

export function parseManifest(bytes: Uint8Array, where: string): ImageManifest {
  let m: unknown;
  try {
    m = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (e) {
    throw new Error(`${where}: manifest is not JSON: ${(e as Error).message}`);
  }
  if (!m || typeof m !== "object" || Array.isArray(m)) throw new Error(`${where}: manifest is not a JSON object`);
  const manifest = m as ImageManifest;
  if (manifest.mediaType === MediaType.ociIndex || manifest.mediaType === MediaType.dockerManifestList) {
    throw new Error(`${where}: is an image index (${manifest.mediaType}); a Wasm image is a single manifest`);
  }
  if (!Array.isArray(manifest.layers)) throw new Error(`${where}: manifest has no "layers" array`);
  manifest.layers.forEach((l, i) => {
    if (!l || typeof l.mediaType !== "string" || typeof l.digest !== "string" || typeof l.size !== "number") {
      throw new Error(`${where}: manifest layers[${i}] needs mediaType, digest and size`);
    }
  });
  return manifest;
}

function pluginFromTarGzip(layer: Buffer): Buffer {
  let tar: Buffer;
  try {
    tar = gunzipSync(layer);
  } catch (e) {
    throw new Error(`failed to parse layer as tar.gz: ${(e as Error).message}`);
  }
  const entry = readTar(tar).find((f) => posix.basename(f.name) === pluginFileName);
  if (!entry) throw new Error(`${pluginFileName} not found in the archive`);
  return entry.data;
}

async function fromLastTarLayer(layers: Descriptor[], expected: string, read: BlobReader): Promise<Buffer> {
  const last = layers[layers.length - 1];
  if (!last) throw new Error("number of layers must be greater than zero");
  if (last.mediaType !== expected) throw new Error(`invalid media type ${last.mediaType} (expect ${expected})`);
  return pluginFromTarGzip(await read(last));
}

async function fromArtifactLayers(layers: Descriptor[], read: BlobReader): Promise<Buffer> {
  if (layers.length !== 2) throw new Error(`number of layers must be 2 but got ${layers.length}`);
  const layer = layers.find((l) => l.mediaType === MediaType.wasmContent);
  if (!layer) throw new Error(`could not find the layer of type ${MediaType.wasmContent}`);
  return read(layer);
}

export async function extractWasmModule(
  manifestBytes: Uint8Array,
  read: BlobReader,
  where = "image",
): Promise<{ wasm: Buffer; format: ExtractedFormat }> {
  const manifest = parseManifest(manifestBytes, where);
  const layers = manifest.layers!;
  let wasm: Buffer;
  let format: ExtractedFormat;
  if (manifest.mediaType === MediaType.dockerManifest) {
    format = "docker";
    try {
      wasm = await fromLastTarLayer(layers, MediaType.dockerLayerTarGzip, read);
    } catch (e) {
      throw new Error(`${where}: could not extract Wasm file from the image as Docker container: ${(e as Error).message}`);
    }
  } else {
    try {
      wasm = await fromLastTarLayer(layers, MediaType.ociLayerTarGzip, read);
      format = "compat";
    } catch (compatError) {
      try {
        wasm = await fromArtifactLayers(layers, read);
        format = "wasm-artifact";
      } catch (ociError) {
        throw new Error(
          `${where}: the given image is in invalid format as an OCI image: ` +
            `could not parse as compat variant: ${(compatError as Error).message}; ` +
            `could not parse as oci variant: ${(ociError as Error).message}`,
        );
      }
    }
  }
  if (wasm.length < 4 || wasm.readUInt32BE(0) !== 0x0061736d) {
    throw new Error(`${where}: fetched Wasm binary is invalid (no \\0asm magic)`);
  }
  return { wasm, format };
}
