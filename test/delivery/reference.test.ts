import assert from "node:assert/strict";
import { test } from "node:test";
import { formatImageReference, manifestReference, parseImageReference, registryApiHost } from "../../host/oci/reference.js";

const digest = `sha256:${"ab".repeat(32)}`;

test("image references are split like Docker and go-containerregistry do", () => {
  assert.deepEqual(parseImageReference("oci://127.0.0.1:5000/proxy-wasm-as/stats:0.1.0"), {
    registry: "127.0.0.1:5000",
    repository: "proxy-wasm-as/stats",
    tag: "0.1.0",
  });
  assert.deepEqual(parseImageReference("ghcr.io/org/filter"), { registry: "ghcr.io", repository: "org/filter", tag: "latest" });
  assert.deepEqual(parseImageReference("localhost/x:v1"), { registry: "localhost", repository: "x", tag: "v1" });
  // no "." or ":" in the first component: Docker Hub, and one-component names live under library/
  assert.deepEqual(parseImageReference("envoyproxy/envoy:v1.34.1"), { registry: "docker.io", repository: "envoyproxy/envoy", tag: "v1.34.1" });
  assert.deepEqual(parseImageReference("busybox"), { registry: "docker.io", repository: "library/busybox", tag: "latest" });
  const pinned = parseImageReference(`reg.example.com:443/a/b@${digest}`);
  assert.deepEqual(pinned, { registry: "reg.example.com:443", repository: "a/b", digest });
  assert.equal(manifestReference(pinned), digest);
  assert.equal(formatImageReference(parseImageReference(`r.io/a:t@${digest}`)), `r.io/a:t@${digest}`);
  assert.equal(registryApiHost("docker.io"), "registry-1.docker.io");
});

test("bad references name the part that is wrong", () => {
  assert.throws(() => parseImageReference("https://ghcr.io/a/b"), /only oci:\/\//);
  assert.throws(() => parseImageReference("ghcr.io/Org/b"), /repository component "Org"/);
  assert.throws(() => parseImageReference("ghcr.io/a:bad tag"), /tag "bad tag"/);
  assert.throws(() => parseImageReference("ghcr.io/a@sha256:123"), /digest "sha256:123"/);
  assert.throws(() => parseImageReference("ghcr.io/"), /repository/);
});
