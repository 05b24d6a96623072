// Media types of the OCI image spec, Docker's schema 2, and the solo-io Wasm image spec, as Istio's
// fetcher compares them (pkg/wasm/imagefetcher.go; filters.md §5.4).
export const MediaType = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayerTarGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerLayerTarGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  /** solo-io "oci" variant: runtime configuration layer. */
  wasmConfig: "application/vnd.module.wasm.config.v1+json",
  /** solo-io "oci" variant: the raw, uncompressed module. */
  wasmContent: "application/vnd.module.wasm.content.layer.v1+wasm",
} as const;

/** What a client may ask for when pulling a single-image manifest. */
export const manifestAccept = [MediaType.ociManifest, MediaType.dockerManifest].join(", ");
