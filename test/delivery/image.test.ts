import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { outputPath } from "../../host/build.js";
import { sha256Digest } from "../../host/oci/digest.js";
import { extractWasmModule, type BlobReader } from "../../host/oci/extract.js";
import { builtModules } from "../../host/oci/filter-image.js";
import { buildWasmImage, deterministicGzip, imageBlobs, imageVariants, type Descriptor, type WasmImage } from "../../host/oci/image.js";
import { readOciLayout, writeOciLayout } from "../../host/oci/layout.js";
import { MediaType } from "../../host/oci/media-types.js";
import { readTar, writeTar } from "../../host/oci/tar.js";
import { markerOnlyModule } from "./wasm-fixtures.js";

function readerOf(image: WasmImage): BlobReader {
  const blobs = new Map(imageBlobs(image).map((b) => [b.digest, b.data]));
  return async (d: Descriptor) => {
    const data = blobs.get(d.digest);
    assert.ok(data, `blob ${d.digest} is not part of the image`);
    return data;
  };
}

const modules = builtModules();

test("every module in build/ packages in both variants, and Istio's extraction gives it back byte for byte", async () => {
  assert.ok(modules.length > 0, "build/ has no modules: run `npm run build` first");
  for (const name of modules) {
    const wasm = readFileSync(outputPath(name, "release"));
    for (const variant of imageVariants) {
      const image = buildWasmImage(wasm, { variant, rootIds: ["r"] });
      const manifest = JSON.parse(image.manifest.toString());
      assert.equal(manifest.schemaVersion, 2);
      assert.equal(manifest.mediaType, MediaType.ociManifest);
      assert.equal(manifest.config.mediaType, MediaType.ociConfig);
      assert.equal(image.manifestDigest, sha256Digest(image.manifest));
      const extracted = await extractWasmModule(image.manifest, readerOf(image), name);
      assert.equal(extracted.format, variant, `${name} ${variant}`);
      assert.ok(extracted.wasm.equals(wasm), `${name} ${variant}: extracted module differs from the build`);
    }
  }
});

test("compat: one tar+gzip layer with plugin.wasm and the variant annotation", () => {
  const wasm = markerOnlyModule();
  const image = buildWasmImage(wasm, { variant: "compat", rootIds: ["add_header"] });
  const manifest = JSON.parse(image.manifest.toString());
  assert.deepEqual(manifest.annotations, { "module.wasm.image/variant": "compat" });
  assert.equal(manifest.layers.length, 1);
  assert.equal(manifest.layers[0].mediaType, MediaType.ociLayerTarGzip);
  const gz = image.layers[0]!.data;
  assert.equal(gz[9], 0xff, "gzip OS byte is 'unknown', not the build machine's");
  assert.equal(gz.readUInt32LE(4), 0, "gzip mtime is 0");
  const tar = gunzipSync(gz);
  const entries = readTar(tar);
  assert.deepEqual(entries.map((e) => e.name), ["plugin.wasm", "runtime-config.json"]);
  assert.ok(entries[0]!.data.equals(wasm));
  assert.deepEqual(JSON.parse(entries[1]!.data.toString()), {
    type: "envoy_proxy",
    abi_version: "proxy_abi_version_0_2_1",
    config: { root_ids: ["add_header"] },
  });
  // image config: diff_ids are the digests of the *uncompressed* layers (image-spec config.md)
  assert.deepEqual(JSON.parse(image.config.data.toString()).rootfs, { type: "layers", diff_ids: [sha256Digest(tar)] });
});

test("wasm-artifact: exactly two layers, runtime config and the raw module", () => {
  const wasm = markerOnlyModule("proxy_abi_version_0_2_0");
  const image = buildWasmImage(wasm, { variant: "wasm-artifact", rootIds: ["a", "b"] });
  const manifest = JSON.parse(image.manifest.toString());
  assert.equal(manifest.annotations, undefined);
  assert.deepEqual(manifest.layers.map((l: Descriptor) => l.mediaType), [MediaType.wasmConfig, MediaType.wasmContent]);
  assert.ok(image.layers[1]!.data.equals(wasm), "the wasm layer is the module itself, uncompressed");
  assert.deepEqual(JSON.parse(image.layers[0]!.data.toString()).config.root_ids, ["a", "b"]);
  assert.equal(JSON.parse(image.layers[0]!.data.toString()).abi_version, "proxy_abi_version_0_2_0");
});

test("the same module always gives the same digests; another module or root id does not", () => {
  const wasm = markerOnlyModule();
  for (const variant of imageVariants) {
    const a = buildWasmImage(wasm, { variant, rootIds: ["r"] });
    const b = buildWasmImage(Buffer.from(wasm), { variant, rootIds: ["r"] });
    assert.equal(a.manifestDigest, b.manifestDigest);
    assert.ok(a.manifest.equals(b.manifest));
    assert.notEqual(buildWasmImage(wasm, { variant, rootIds: ["other"] }).manifestDigest, a.manifestDigest);
    assert.notEqual(buildWasmImage(markerOnlyModule("proxy_abi_version_0_1_0"), { variant, rootIds: ["r"] }).manifestDigest, a.manifestDigest);
  }
  assert.ok(deterministicGzip(Buffer.from("x")).equals(deterministicGzip(Buffer.from("x"))));
});

test("packaging refuses what Envoy or Istio would refuse", () => {
  assert.throws(() => buildWasmImage(Buffer.from("not wasm at all"), {}, "build/x.wasm"), /build\/x\.wasm: not a WebAssembly module/);
  assert.throws(() => buildWasmImage(Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), {}, "m"), /m: Missing or unknown Proxy-Wasm ABI version/);
  assert.throws(() => buildWasmImage(markerOnlyModule("proxy_abi_version_0_x_x"), {}, "m"), /Missing or unknown Proxy-Wasm ABI version/);
  assert.throws(() => buildWasmImage(markerOnlyModule(), { variant: "zip" as never }), /unknown image variant "zip"/);
});

function manifestOf(layers: { mediaType: string; data: Buffer }[], mediaType: string = MediaType.ociManifest) {
  const blobs = new Map<string, Buffer>();
  const descriptors = layers.map((l) => {
    const digest = sha256Digest(l.data);
    blobs.set(digest, l.data);
    return { mediaType: l.mediaType, digest, size: l.data.length };
  });
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, layers: descriptors }));
  return { manifest, read: (async (d: Descriptor) => blobs.get(d.digest)!) as BlobReader };
}

test("extraction follows Istio's fetcher on images we do not build", async () => {
  const wasm = markerOnlyModule();
  const tarGz = (entries: { name: string; data: Buffer }[]) => deterministicGzip(writeTar(entries));
  // Docker schema 2 (docker build of FROM scratch + COPY plugin.wasm): last layer, any directory
  const docker = manifestOf(
    [
      { mediaType: MediaType.dockerLayerTarGzip, data: tarGz([{ name: "other.txt", data: Buffer.from("x") }]) },
      { mediaType: MediaType.dockerLayerTarGzip, data: tarGz([{ name: "dir/plugin.wasm", data: wasm }]) },
    ],
    MediaType.dockerManifest,
  );
  const fromDocker = await extractWasmModule(docker.manifest, docker.read);
  assert.equal(fromDocker.format, "docker");
  assert.ok(fromDocker.wasm.equals(wasm));
  // istio imagefetcher_test.go "invalid image": one uncompressed tar layer
  const invalid = manifestOf([{ mediaType: "application/vnd.oci.image.layer.v1.tar", data: writeTar([{ name: "not-wasm.txt", data: Buffer.from("a") }]) }]);
  await assert.rejects(
    extractWasmModule(invalid.manifest, invalid.read, "reg/x:1"),
    new RegExp(
      "reg/x:1: the given image is in invalid format as an OCI image: " +
        "could not parse as compat variant: invalid media type application/vnd.oci.image.layer.v1.tar \\(expect application/vnd.oci.image.layer.v1.tar\\+gzip\\); " +
        "could not parse as oci variant: number of layers must be 2 but got 1",
    ),
  );
  const noPlugin = manifestOf([{ mediaType: MediaType.ociLayerTarGzip, data: tarGz([{ name: "plugin.txt", data: wasm }]) }]);
  await assert.rejects(extractWasmModule(noPlugin.manifest, noPlugin.read), /plugin\.wasm not found in the archive/);
  const notWasm = manifestOf([
    { mediaType: MediaType.wasmConfig, data: Buffer.from("{}") },
    { mediaType: MediaType.wasmContent, data: Buffer.from("<html>") },
  ]);
  await assert.rejects(extractWasmModule(notWasm.manifest, notWasm.read), /fetched Wasm binary is invalid/);
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }));
  await assert.rejects(extractWasmModule(index, notWasm.read), /image index/);
  await assert.rejects(extractWasmModule(Buffer.from("{"), notWasm.read), /manifest is not JSON/);
});

test("OCI image layout: written, read back with digests verified, corruption detected", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "oci-layout-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const wasm = markerOnlyModule();
  const image = buildWasmImage(wasm, { variant: "compat" });
  writeOciLayout(dir, image, "0.1.0");
  assert.deepEqual(JSON.parse(readFileSync(join(dir, "oci-layout"), "utf8")), { imageLayoutVersion: "1.0.0" });
  const layout = readOciLayout(dir, "0.1.0");
  assert.equal(layout.manifestDigest, image.manifestDigest);
  assert.ok((await extractWasmModule(layout.manifest, layout.readBlob)).wasm.equals(wasm));
  assert.throws(() => readOciLayout(dir, "nope"), /no manifest named "nope"; has: 0\.1\.0/);
  const layerFile = join(dir, "blobs", "sha256", image.layers[0]!.digest.slice(7));
  writeFileSync(layerFile, Buffer.concat([readFileSync(layerFile), Buffer.from("x")]));
  await assert.rejects(layout.readBlob(image.layers[0]!), /content has digest sha256:[0-9a-f]{64}, expected/);
});

test("skopeo (containers/image) accepts our layouts with digests preserved", (t) => {
  try {
    execFileSync("skopeo", ["--version"], { stdio: "ignore" });
  } catch {
    t.skip("skopeo not installed (apt-get install skopeo) to cross-check the OCI layout");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "oci-skopeo-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const variant of imageVariants) {
    const image = buildWasmImage(markerOnlyModule(), { variant });
    writeOciLayout(join(dir, variant), image, "v1");
    const raw = execFileSync("skopeo", ["inspect", "--raw", `oci:${join(dir, variant)}:v1`]);
    assert.ok(raw.equals(image.manifest), `${variant}: skopeo reads back another manifest`);
    execFileSync("skopeo", ["copy", "--preserve-digests", `oci:${join(dir, variant)}:v1`, `oci:${join(dir, `${variant}-copy`)}:v1`], { stdio: "ignore" });
    assert.equal(readOciLayout(join(dir, `${variant}-copy`), "v1").manifestDigest, image.manifestDigest);
  }
});
