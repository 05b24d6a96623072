// Builds an OCI image holding one proxy-wasm module, in either layout Istio's agent accepts
// (filters.md §5.4, istio pkg/wasm/imagefetcher.go):
//   compat         one application/vnd.oci.image.layer.v1.tar+gzip layer whose tar holds plugin.wasm
//                  (and runtime-config.json), manifest annotation module.wasm.image/variant=compat
//                  (solo-io spec-compat.md; Istio tries this form first and only looks at the last layer);
//   wasm-artifact  exactly two layers: the application/vnd.module.wasm.config.v1+json runtime config
//                  and the raw application/vnd.module.wasm.content.layer.v1+wasm module (solo-io spec.md;
//                  Istio requires len(layers) == 2 and reads the wasm layer uncompressed).
// Everything is deterministic (see tar.ts, gzip below, fixed JSON key order), so one module always
// yields one manifest digest: the value WasmPlugin.spec.sha256 pins.
import { gzipSync } from "node:zlib";
import { abiMarkers } from "../wasm/abi.js";
import { readModuleInfo } from "../wasm/module-info.js";
import { sha256Digest, type Digest } from "./digest.js";
import { MediaType } from "./media-types.js";
import { writeTar } from "./tar.js";

export type ImageVariant = "compat" | "wasm-artifact";
export const imageVariants: readonly ImageVariant[] = ["compat", "wasm-artifact"];

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
}

export interface Blob extends Descriptor {
  data: Buffer;
}

export interface WasmImage {
  variant: ImageVariant;
  /** The manifest exactly as pushed and hashed. */
  manifest: Buffer;
  manifestDigest: Digest;
  config: Blob;
  layers: Blob[];
}

export interface WasmImageOptions {
  variant?: ImageVariant;
  /** Root ids the module registers (runtime config `config.root_ids`). */
  rootIds?: string[];
}

/** The file name Istio's fetcher looks for inside a compat layer. */
export const pluginFileName = "plugin.wasm";
export const runtimeConfigFileName = "runtime-config.json";
export const variantAnnotation = "module.wasm.image/variant";
const titleAnnotation = "org.opencontainers.image.title";
const wasmMagic = Buffer.from([0x00, 0x61, 0x73, 0x6d]);

function blob(mediaType: string, data: Buffer, annotations?: Record<string, string>): Blob {
  return { mediaType, digest: sha256Digest(data), size: data.length, ...(annotations ? { annotations } : {}), data };
}

export function descriptorOf(b: Descriptor): Descriptor {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size, ...(b.annotations ? { annotations: b.annotations } : {}) };
}

/**
 * gzip through node:zlib at level 9 with the header's OS byte set to 255 ("unknown", as Go's
 * gzip writer does) and mtime 0 (Node's default). The deflate stream itself is only as stable as the
 * zlib build (process.versions.zlib): digests are reproducible on one Node release line, not across
 * zlib upgrades.
 */
export function deterministicGzip(data: Uint8Array): Buffer {
  const gz = gzipSync(data, { level: 9 });
  gz[9] = 0xff;
  return gz;
}

/** Checks what Envoy and Istio check before loading, and returns the ABI marker the module exports. */
export function checkProxyWasmModule(wasm: Uint8Array, where: string): string {
  // istio pkg/wasm/cache.go isValidWasmBinary: the payload must start with the \0asm magic.
  if (wasm.length < 8 || !wasmMagic.equals(Buffer.from(wasm.subarray(0, 4)))) {
    throw new Error(`${where}: not a WebAssembly module (missing the \\0asm magic)`);
  }
  let exports: string[];
  try {
    exports = readModuleInfo(wasm).exports.filter((e) => e.kind === "function").map((e) => e.name);
  } catch (e) {
    throw new Error(`${where}: malformed WebAssembly module: ${(e as Error).message}`);
  }
  // proxy-wasm-abi.md §1.1: the host takes the first function export naming a known ABI version and
  // fails the load with "Missing or unknown Proxy-Wasm ABI version" when there is none.
  const marker = exports.find((name) => abiMarkers.some(([m]) => m === name));
  if (!marker) {
    throw new Error(`${where}: Missing or unknown Proxy-Wasm ABI version (no proxy_abi_version_* function export)`);
  }
  return marker;
}

/** solo-io spec.md "Envoy WASM Filter Specification": type envoy_proxy, ABI version, root ids. */
export function runtimeConfig(abiMarker: string, rootIds: string[]): Buffer {
  return Buffer.from(JSON.stringify({ type: "envoy_proxy", abi_version: abiMarker, config: { root_ids: rootIds } }));
}

/** An OCI image config (image-spec config.md requires architecture, os and rootfs.diff_ids). */
function imageConfig(diffIds: Digest[]): Buffer {
  return Buffer.from(
    JSON.stringify({ architecture: "wasm", os: "wasi", config: {}, rootfs: { type: "layers", diff_ids: diffIds } }),
  );
}

export function buildWasmImage(wasm: Uint8Array, opts: WasmImageOptions = {}, where = "module"): WasmImage {
  const variant = opts.variant ?? "compat";
  const marker = checkProxyWasmModule(wasm, where);
  const runtime = runtimeConfig(marker, opts.rootIds ?? []);
  const module = Buffer.from(wasm);
  let layers: Blob[];
  let diffIds: Digest[];
  let annotations: Record<string, string> | undefined;
  if (variant === "compat") {
    const tar = writeTar([
      { name: pluginFileName, data: module },
      { name: runtimeConfigFileName, data: runtime },
    ]);
    layers = [blob(MediaType.ociLayerTarGzip, deterministicGzip(tar))];
    diffIds = [sha256Digest(tar)];
    annotations = { [variantAnnotation]: "compat" };
  } else if (variant === "wasm-artifact") {
    layers = [
      blob(MediaType.wasmConfig, runtime, { [titleAnnotation]: runtimeConfigFileName }),
      blob(MediaType.wasmContent, module, { [titleAnnotation]: pluginFileName }),
    ];
    diffIds = layers.map((l) => l.digest);
  } else {
    throw new Error(`unknown image variant "${String(variant)}" (expected ${imageVariants.join(" or ")})`);
  }
  const config = blob(MediaType.ociConfig, imageConfig(diffIds));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: descriptorOf(config),
      layers: layers.map(descriptorOf),
      ...(annotations ? { annotations } : {}),
    }),
  );
  return { variant, manifest, manifestDigest: sha256Digest(manifest), config, layers };
}

/** Every blob of the image (config first), for pushing or writing a layout. */
export function imageBlobs(image: WasmImage): Blob[] {
  return [image.config, ...image.layers];
}
