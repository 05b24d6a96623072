// Starts Debian's `docker-registry` (CNCF distribution 2.8) on loopback for the OCI tests, optionally
// with htpasswd basic auth or Docker token auth (with a token server of ours that signs ES256 JWTs
// with a key whose certificate the registry trusts). Every start gets its own temp storage dir and a
// free port; stop() kills the process and removes the dir.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createPrivateKey, createPublicKey, createHash, randomUUID, sign, type KeyObject } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

export const registryBinary = process.env.DOCKER_REGISTRY_BIN ?? "/usr/bin/docker-registry";

/** Why the registry tests cannot run here, or undefined when they can. */
export function registryUnavailable(): string | undefined {
  return existsSync(registryBinary) ? undefined : `${registryBinary} not installed (apt-get install docker-registry)`;
}

export function opensslUnavailable(): string | undefined {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return undefined;
  } catch {
    return "openssl not found (needed to make the token issuer's certificate)";
  }
}

/** A test user; the hash is bcrypt (cost 4) of the password, as the registry's htpasswd auth requires. */
export const testUser = {
  username: "wasm",
  password: "wasm-test-password",
  htpasswd: "wasm:$2b$04$xYDJt7Os8uSoQgLX0BUH5esOgfMkmg5LXeIhwqjZAXTm3X.gwqcj2\n",
};

export async function freeLoopbackPort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve, reject) => srv.once("error", reject).listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export interface RunningRegistry {
  /** host:port, as written in image references. */
  host: string;
  url: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  auth?: "none" | "basic" | "token";
}

async function waitForRegistry(url: string, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited with ${proc.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer on ${url} within 15s:\n${log()}`);
}

/** libtrust key id (distribution's trusted-key lookup for a JWT `kid`): base32 of sha256(SPKI DER)[:30]. */
function libtrustKeyId(key: KeyObject): string {
  const der = createPublicKey(key).export({ type: "spki", format: "der" });
  const bytes = createHash("sha256").update(der).digest().subarray(0, 30);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const b of bytes) bits += b.toString(2).padStart(8, "0");
  let s = "";
  for (let i = 0; i + 5 <= bits.length; i += 5) s += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return s.match(/.{4}/g)!.join(":");
}

interface TokenServer {
  realm: string;
  server: Server;
  /** Scopes the clients asked for, in order (what the token flow is tested on). */
  requests: { scope: string | null; service: string | null; authorized: boolean }[];
}

const issuer = "proxy-wasm-test-issuer";
const service = "proxy-wasm-test-registry";

/** Issues tokens granting the requested repository actions to testUser (basic auth on the realm). */
async function startTokenServer(dir: string): Promise<TokenServer & { certFile: string }> {
  const keyFile = join(dir, "issuer-key.pem");
  const certFile = join(dir, "issuer-cert.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=proxy-wasm-test-issuer",
  ], { stdio: "ignore" });
  const key = createPrivateKey(readFileSync(keyFile));
  const kid = libtrustKeyId(key);
  const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
  const requests: TokenServer["requests"] = [];
  const expected = `Basic ${Buffer.from(`${testUser.username}:${testUser.password}`).toString("base64")}`;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const authorized = req.headers.authorization === expected;
    requests.push({ scope: url.searchParams.get("scope"), service: url.searchParams.get("service"), authorized });
    if (!authorized) {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ details: "bad credentials" }));
      return;
    }
    const access = url.searchParams.getAll("scope").flatMap((scope) => {
      const [type, name, actions] = scope.split(":");
      return type && name && actions ? [{ type, name, actions: actions.split(",") }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: issuer, sub: testUser.username, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const signingInput = `${b64({ typ: "JWT", alg: "ES256", kid })}.${b64(claims)}`;
    const signature = sign("sha256", Buffer.from(signingInput), { key, dsaEncoding: "ieee-p1363" }).toString("base64url");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: `${signingInput}.${signature}`, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { realm: `http://127.0.0.1:${port}/token`, server, requests, certFile };
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry & { tokenRequests?: TokenServer["requests"] }> {
  const dir = mkdtempSync(join(tmpdir(), "proxy-wasm-registry-"));
  let tokenServer: (TokenServer & { certFile: string }) | undefined;
  let auth: Record<string, unknown> | undefined;
  try {
    if (opts.auth === "basic") {
      writeFileSync(join(dir, "htpasswd"), testUser.htpasswd);
      auth = { htpasswd: { realm: "proxy-wasm-test", path: join(dir, "htpasswd") } };
    } else if (opts.auth === "token") {
      tokenServer = await startTokenServer(dir);
      auth = { token: { realm: tokenServer.realm, service, issuer, rootcertbundle: tokenServer.certFile } };
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freeLoopbackPort();
    const config = {
      version: 0.1,
      log: { level: "warn", accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir, "storage") } },
      http: { addr: `127.0.0.1:${port}`, secret: "proxy-wasm-test-secret" },
      ...(auth ? { auth } : {}),
    };
    const configFile = join(dir, "config.yml");
    writeFileSync(configFile, stringify(config));
    const proc = spawn(registryBinary, ["serve", configFile], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    proc.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    proc.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    const stop = async (): Promise<void> => {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
      }
      if (tokenServer) await new Promise((r) => tokenServer!.server.close(r));
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      await waitForRegistry(url, proc, () => output);
      return { host: `127.0.0.1:${port}`, url, stop, ...(tokenServer ? { tokenRequests: tokenServer.requests } : {}) };
    } catch (e) {
      const portTaken = /address already in use/.test(output);
      if (!portTaken || attempt >= 3) {
        await stop();
        throw e;
      }
      if (proc.exitCode === null) proc.kill("SIGKILL");
    }
  }
}
