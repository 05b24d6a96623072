// Registry auth and error handling against small local servers that speak the challenge protocols
// (the real docker-registry tests are in registry.test.ts; these cover identity tokens, credential
// helpers, TLS and the failures a real registry will not produce on demand).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { test } from "node:test";
import { credentialsFromDockerConfig, parseChallenge, resolveCredentials } from "../../host/oci/auth.js";
import { buildWasmImage } from "../../host/oci/image.js";
import { MediaType } from "../../host/oci/media-types.js";
import { parseImageReference } from "../../host/oci/reference.js";
import { RegistryClient, RegistryError } from "../../host/oci/registry.js";
import { opensslUnavailable } from "../support/registry.js";
import { markerOnlyModule } from "./wasm-fixtures.js";

test("WWW-Authenticate challenges are parsed with quoted commas and escapes", () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), {
    scheme: "bearer",
    params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull,push" },
  });
  assert.deepEqual(parseChallenge('Basic realm="say \\"hi\\""'), { scheme: "basic", params: { realm: 'say "hi"' } });
  assert.deepEqual(parseChallenge("Bearer realm=https://x/t, service=s"), { scheme: "bearer", params: { realm: "https://x/t", service: "s" } });
  assert.throws(() => parseChallenge('Bearer realm="open'), /unterminated quoted string/);
  assert.throws(() => parseChallenge("Bearer =x"), /expected name=value/);
});

function tempDir(t: { after(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("credentials: flags, then environment, then docker config.json", (t) => {
  const dir = tempDir(t, "docker-config-");
  const file = join(dir, "config.json");
  writeFileSync(
    file,
    JSON.stringify({
      auths: {
        "https://index.docker.io/v1/": { auth: Buffer.from("hub-user:hub:pass").toString("base64") },
        "registry.example:5000": { username: "u", password: "p" },
        "https://token.example/v2/": { identitytoken: "refresh-me" },
        "broken.example": { auth: Buffer.from("no-colon").toString("base64") },
      },
    }),
  );
  assert.deepEqual(credentialsFromDockerConfig(file, "docker.io"), { username: "hub-user", password: "hub:pass", source: `${file} auths["https://index.docker.io/v1/"]` });
  assert.equal(credentialsFromDockerConfig(file, "registry.example:5000")?.password, "p");
  assert.equal(credentialsFromDockerConfig(file, "token.example")?.identityToken, "refresh-me");
  assert.equal(credentialsFromDockerConfig(file, "elsewhere.example"), undefined);
  assert.throws(() => credentialsFromDockerConfig(file, "broken.example"), /auths\["broken\.example"\]\.auth: does not decode to "user:password"/);
  const env = { PROXY_WASM_REGISTRY_USERNAME: "env-user", PROXY_WASM_REGISTRY_PASSWORD: "env-pass" };
  assert.equal(resolveCredentials("registry.example:5000", { dockerConfig: file, env })?.username, "env-user");
  assert.equal(resolveCredentials("registry.example:5000", { dockerConfig: file, env, username: "flag", password: "x" })?.username, "flag");
  assert.equal(resolveCredentials("registry.example:5000", { dockerConfig: file, env: {} })?.username, "u");
  assert.equal(resolveCredentials("registry.example:5000", { env: { DOCKER_CONFIG: dir } })?.username, "u");
  assert.throws(() => resolveCredentials("r", { username: "only" }), /--username and --password go together/);
  assert.throws(() => resolveCredentials("r", { env: { PROXY_WASM_REGISTRY_USERNAME: "x" } }), /must be set together/);
  writeFileSync(file, "{nope");
  assert.throws(() => credentialsFromDockerConfig(file, "r"), /config\.json: not valid JSON/);
});

test("credentials from a docker-credential helper (credHelpers and credsStore)", (t) => {
  const dir = tempDir(t, "cred-helper-");
  const helper = join(dir, "docker-credential-fake");
  // The helper protocol: `get` with the server URL on stdin, JSON {Username, Secret} on stdout.
  writeFileSync(helper, `#!/bin/sh\nread server\nif [ "$server" = "helped.example" ]; then echo '{"Username":"h","Secret":"s"}'; else echo '{"Username":"<token>","Secret":"tok"}'; fi\n`);
  chmodSync(helper, 0o755);
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify({ credHelpers: { "helped.example": "fake" }, credsStore: "fake" }));
  const savedPath = process.env.PATH;
  process.env.PATH = `${dir}${delimiter}${savedPath}`;
  t.after(() => (process.env.PATH = savedPath));
  assert.deepEqual(credentialsFromDockerConfig(file, "helped.example"), { username: "h", password: "s", source: `docker-credential-fake (from ${file})` });
  assert.equal(credentialsFromDockerConfig(file, "other.example")?.identityToken, "tok");
  writeFileSync(file, JSON.stringify({ credsStore: "missing-helper" }));
  assert.throws(() => credentialsFromDockerConfig(file, "x.example"), /credential helper docker-credential-missing-helper failed for x\.example/);
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

async function body(req: IncomingMessage): Promise<string> {
  let s = "";
  for await (const chunk of req) s += chunk;
  return s;
}

const image = buildWasmImage(markerOnlyModule(), { variant: "compat" });

/** A registry that only serves one manifest, behind OAuth2 identity-token auth. */
function fakeRegistry(opts: { lieAboutDigest?: boolean }, seen: string[]): RequestListener {
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/token") {
      const form = new URLSearchParams(await body(req));
      seen.push(`${req.method} ${form.get("grant_type")} ${form.get("refresh_token")} ${form.get("scope")} ${form.get("service")}`);
      if (form.get("refresh_token") !== "good-refresh") return res.writeHead(401).end("invalid_grant");
      return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: "good-access" }));
    }
    if (req.headers.authorization !== "Bearer good-access") {
      const realm = `${"encrypted" in req.socket ? "https" : "http"}://${req.headers.host}/token`;
      return res.writeHead(401, { "www-authenticate": `Bearer realm="${realm}",service="fake",scope="repository:r:pull"` }).end();
    }
    if (url.pathname === "/v2/r/manifests/1") {
      const digest = opts.lieAboutDigest ? `sha256:${"0".repeat(64)}` : image.manifestDigest;
      return res.writeHead(200, { "content-type": MediaType.ociManifest, "docker-content-digest": digest }).end(image.manifest);
    }
    if (url.pathname === "/v2/r/manifests/broken") return res.writeHead(500, { "content-type": "text/plain" }).end("storage backend exploded");
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }));
  };
}

test("identity tokens are exchanged at the realm (OAuth2 refresh_token grant)", async (t) => {
  const seen: string[] = [];
  const server = createHttpServer(fakeRegistry({}, seen));
  const port = await listen(server);
  t.after(() => server.close());
  const host = `127.0.0.1:${port}`;
  const good = new RegistryClient(host, { insecure: true, credentials: { identityToken: "good-refresh", source: "config" } });
  const bad = new RegistryClient(host, { insecure: true, credentials: { identityToken: "stale", source: "config" } });
  t.after(() => Promise.all([good.close(), bad.close()]));
  const got = await good.getManifest(parseImageReference(`${host}/r:1`));
  assert.equal(got.digest, image.manifestDigest);
  assert.deepEqual(seen[0], "POST refresh_token good-refresh repository:r:pull fake");
  await assert.rejects(bad.getManifest(parseImageReference(`${host}/r:1`)), /refused credentials from config for repository:r:pull: HTTP 401 invalid_grant/);
  await assert.rejects(good.getManifest(parseImageReference(`${host}/r:broken`)), (e: Error) => e instanceof RegistryError && e.status === 500 && /storage backend exploded/.test(e.message));
  await assert.rejects(good.getManifest(parseImageReference(`${host}/r:2`)), (e: Error) => e instanceof RegistryError && e.codes[0] === "MANIFEST_UNKNOWN");
});

test("a Docker-Content-Digest that does not match the body is an error, not a silent pass", async (t) => {
  const server = createHttpServer(fakeRegistry({ lieAboutDigest: true }, []));
  const port = await listen(server);
  t.after(() => server.close());
  const client = new RegistryClient(`127.0.0.1:${port}`, { insecure: true, credentials: { identityToken: "good-refresh", source: "config" } });
  t.after(() => client.close());
  await assert.rejects(client.getManifest(parseImageReference(`127.0.0.1:${port}/r:1`)), /Docker-Content-Digest sha256:0{64} but the body hashes to sha256:/);
});

test("unreachable registries are named in the error", async () => {
  const server = createHttpServer();
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  const client = new RegistryClient(`127.0.0.1:${port}`, { insecure: true });
  try {
    await assert.rejects(client.getManifest(parseImageReference(`127.0.0.1:${port}/r:1`)), new RegExp(`cannot reach registry 127\\.0\\.0\\.1:${port}`));
  } finally {
    await client.close();
  }
});

test("TLS: a self-signed registry needs --insecure, which skips verification but keeps HTTPS", async (t) => {
  const missing = opensslUnavailable();
  if (missing) return t.skip(missing);
  const dir = tempDir(t, "tls-registry-");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1", "-subj", "/CN=127.0.0.1"], { stdio: "ignore" });
  const schemes: string[] = [];
  const handler = fakeRegistry({}, []);
  const server = createHttpsServer({ key: readFileSync(join(dir, "k.pem")), cert: readFileSync(join(dir, "c.pem")) }, (req, res) => {
    schemes.push("https");
    return handler(req, res);
  });
  const port = await listen(server);
  t.after(() => server.close());
  const ref = parseImageReference(`127.0.0.1:${port}/r:1`);
  const strict = new RegistryClient(ref.registry, { credentials: { identityToken: "good-refresh", source: "c" } });
  const insecure = new RegistryClient(ref.registry, { insecure: true, credentials: { identityToken: "good-refresh", source: "c" } });
  t.after(() => Promise.all([strict.close(), insecure.close()]));
  await assert.rejects(strict.getManifest(ref), /cannot reach registry .*(self[- ]signed|certificate)/i);
  assert.equal((await insecure.getManifest(ref)).digest, image.manifestDigest);
  assert.ok(schemes.length > 0 && insecure.baseUrl.startsWith("https://"), "stayed on HTTPS");
});
