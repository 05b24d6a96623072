// Pushes images to Debian's docker-registry (CNCF distribution) on loopback and pulls them back
// with plain HTTP requests, independent of our client: the acceptance test of `proxy-wasm push`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { outputPath } from "../../host/build.js";
import { sha256Digest } from "../../host/oci/digest.js";
import { extractWasmModule } from "../../host/oci/extract.js";
import { builtModules } from "../../host/oci/filter-image.js";
import { buildWasmImage, imageVariants, type Descriptor } from "../../host/oci/image.js";
import { MediaType } from "../../host/oci/media-types.js";
import { parseImageReference } from "../../host/oci/reference.js";
import { RegistryClient, RegistryError } from "../../host/oci/registry.js";
import { opensslUnavailable, registryUnavailable, startRegistry, testUser, type RunningRegistry } from "../support/registry.js";
import { markerOnlyModule } from "./wasm-fixtures.js";

const unavailable = registryUnavailable();
const creds = { username: testUser.username, password: testUser.password, source: "test credentials" };

/** GET over plain HTTP, checking what a pulling client checks. */
async function pull(registry: RunningRegistry, repository: string, tag: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, { headers: { accept: MediaType.ociManifest, ...headers } });
  assert.equal(res.status, 200, `GET manifest ${repository}:${tag}`);
  const manifest = Buffer.from(await res.arrayBuffer());
  assert.equal(res.headers.get("content-type"), MediaType.ociManifest);
  assert.equal(res.headers.get("docker-content-digest"), sha256Digest(manifest));
  const read = async (d: Descriptor) => {
    const blob = await fetch(`${registry.url}/v2/${repository}/blobs/${d.digest}`, { headers });
    assert.equal(blob.status, 200, `GET blob ${d.digest}`);
    const data = Buffer.from(await blob.arrayBuffer());
    assert.equal(sha256Digest(data), d.digest, "blob content matches its digest");
    return data;
  };
  return { manifest, digest: sha256Digest(manifest), read };
}

describe("docker-registry without auth", { skip: unavailable }, () => {
  let registry: RunningRegistry;
  before(async () => {
    registry = await startRegistry();
  });
  after(() => registry?.stop());

  test("every module in build/ is pushed in both variants and pulled back byte-identical", async () => {
    const modules = builtModules();
    assert.ok(modules.length > 0, "build/ has no modules: run `npm run build` first");
    const client = new RegistryClient(registry.host, { insecure: true });
    try {
      for (const name of modules) {
        const wasm = readFileSync(outputPath(name, "release"));
        for (const variant of imageVariants) {
          const image = buildWasmImage(wasm, { variant, rootIds: [name] });
          const ref = parseImageReference(`${registry.host}/proxy-wasm-as/${name}:${variant}`);
          const pushed = await client.pushImage(ref, image);
          assert.equal(pushed.digest, image.manifestDigest, `${name} ${variant}: registry digest is the local one`);
          const pulled = await pull(registry, ref.repository, variant);
          assert.equal(pulled.digest, pushed.digest);
          assert.ok(pulled.manifest.equals(image.manifest));
          const { wasm: extracted, format } = await extractWasmModule(pulled.manifest, pulled.read, `${name}:${variant}`);
          assert.equal(format, variant);
          assert.ok(extracted.equals(wasm), `${name} ${variant}: extracted plugin.wasm is not the build`);
        }
      }
    } finally {
      await client.close();
    }
  });

  test("pushing again uploads nothing and gives the same digest; our client pulls with verification", async () => {
    const client = new RegistryClient(registry.host, { insecure: true });
    try {
      const image = buildWasmImage(markerOnlyModule(), { variant: "compat" });
      const ref = parseImageReference(`${registry.host}/again/x:1`);
      const first = await client.pushImage(ref, image);
      const second = await client.pushImage(ref, image);
      assert.deepEqual([first.uploaded, first.existing], [2, 0]);
      assert.deepEqual([second.uploaded, second.existing, second.digest], [0, 2, first.digest]);
      const pinned = parseImageReference(`${registry.host}/again/x@${first.digest}`);
      const got = await client.getManifest(pinned);
      assert.equal(got.digest, first.digest);
      assert.ok((await extractWasmModule(got.manifest, client.blobReader("again/x"))).wasm.equals(markerOnlyModule()));
    } finally {
      await client.close();
    }
  });

  test("registry errors come back with status and error codes", async () => {
    const client = new RegistryClient(registry.host, { insecure: true });
    try {
      await assert.rejects(client.getManifest(parseImageReference(`${registry.host}/nothing/here:1`)), (e: Error) => {
        assert.ok(e instanceof RegistryError);
        assert.equal(e.status, 404);
        assert.ok(e.codes.includes("NAME_UNKNOWN") || e.codes.includes("MANIFEST_UNKNOWN"), e.message);
        assert.match(e.message, /GET manifest 127\.0\.0\.1:\d+\/nothing\/here:1: HTTP 404/);
        return true;
      });
      // a manifest whose layer was never uploaded
      const image = buildWasmImage(markerOnlyModule(), { variant: "wasm-artifact" });
      await client.pushBlob("orphan/x", image.config);
      await assert.rejects(client.putManifest("orphan/x", "1", MediaType.ociManifest, image.manifest), (e: Error) => {
        assert.ok(e instanceof RegistryError && e.status === 400, e.message);
        assert.ok(e.codes.includes("MANIFEST_BLOB_UNKNOWN"), e.message);
        return true;
      });
    } finally {
      await client.close();
    }
  });

  test("without --insecure a plain-HTTP registry is refused with a hint, as Istio does", async () => {
    const client = new RegistryClient(registry.host);
    try {
      await assert.rejects(client.blobExists("x/y", sha256Digest(Buffer.alloc(0))), /did not answer HTTPS .*pass --insecure .*WASM_INSECURE_REGISTRIES/);
    } finally {
      await client.close();
    }
  });
});

describe("docker-registry with htpasswd basic auth", { skip: unavailable }, () => {
  let registry: RunningRegistry;
  before(async () => {
    registry = await startRegistry({ auth: "basic" });
  });
  after(() => registry?.stop());

  test("push and pull with the right credentials; clear errors without or with wrong ones", async () => {
    const image = buildWasmImage(markerOnlyModule(), { variant: "compat" });
    const ref = parseImageReference(`${registry.host}/private/x:1`);
    const anonymous = new RegistryClient(registry.host, { insecure: true });
    const wrong = new RegistryClient(registry.host, { insecure: true, credentials: { ...creds, password: "nope", source: "--password" } });
    const right = new RegistryClient(registry.host, { insecure: true, credentials: creds });
    try {
      await assert.rejects(anonymous.pushImage(ref, image), /requires basic auth and no credentials were given/);
      await assert.rejects(wrong.pushImage(ref, image), (e: Error) => e instanceof RegistryError && e.status === 401 && /credentials from --password were not accepted/.test(e.message));
      assert.equal((await right.pushImage(ref, image)).digest, image.manifestDigest);
      const basic = `Basic ${Buffer.from(`${testUser.username}:${testUser.password}`).toString("base64")}`;
      const pulled = await pull(registry, "private/x", "1", { authorization: basic });
      assert.ok((await extractWasmModule(pulled.manifest, pulled.read)).wasm.equals(markerOnlyModule()));
    } finally {
      await Promise.all([anonymous.close(), wrong.close(), right.close()]);
    }
  });
});

describe("docker-registry with token auth", { skip: unavailable ?? opensslUnavailable() }, () => {
  let registry: RunningRegistry & { tokenRequests?: { scope: string | null; service: string | null; authorized: boolean }[] };
  before(async () => {
    registry = await startRegistry({ auth: "token" });
  });
  after(() => registry?.stop());

  test("the Bearer challenge is answered with a token for the repository scope", async () => {
    const image = buildWasmImage(markerOnlyModule(), { variant: "wasm-artifact" });
    const ref = parseImageReference(`${registry.host}/team/filter:2`);
    const client = new RegistryClient(registry.host, { insecure: true, credentials: creds });
    const anonymous = new RegistryClient(registry.host, { insecure: true });
    try {
      assert.equal((await client.pushImage(ref, image)).digest, image.manifestDigest);
      const got = await client.getManifest(ref);
      assert.ok((await extractWasmModule(got.manifest, client.blobReader(ref.repository))).wasm.equals(markerOnlyModule()));
      const scopes = registry.tokenRequests!.map((r) => r.scope);
      assert.deepEqual([...new Set(scopes)], ["repository:team/filter:pull,push", "repository:team/filter:pull"]);
      assert.ok(registry.tokenRequests!.every((r) => r.service === "proxy-wasm-test-registry" && r.authorized));
      await assert.rejects(anonymous.getManifest(ref), /token server http:\/\/127\.0\.0\.1:\d+\/token refused anonymous access for repository:team\/filter:pull: HTTP 401/);
    } finally {
      await Promise.all([client.close(), anonymous.close()]);
    }
  });
});
