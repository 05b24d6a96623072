// Registry authentication, as Docker's clients (and go-containerregistry, which Istio's fetcher uses)
// do it: a 401 carries `WWW-Authenticate: Basic realm=...` (send the credentials) or `Bearer realm=...,
// service=...,scope=...` (get a token from the realm, with Basic credentials or an identity token,
// then send `Authorization: Bearer <token>`). Credentials come from flags, the environment, or a
// docker config.json (the same format as the imagePullSecret Istio hands its agent, filters.md §5.3).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { dockerHub } from "./reference.js";

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (docker config `identitytoken`), exchanged at the token realm. */
  identityToken?: string;
  /** Where they came from, for error messages (never the secret itself). */
  source: string;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses one challenge: `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull,push"`. */
export function parseChallenge(header: string): Challenge {
  const malformed = (why: string): never => {
    throw new Error(`malformed WWW-Authenticate header ${JSON.stringify(header)}: ${why}`);
  };
  const scheme = /^\s*([A-Za-z][\w-]*)(?:\s+|$)/.exec(header);
  if (!scheme) return malformed("no auth scheme");
  const params: Record<string, string> = {};
  let i = scheme[0].length;
  while (i < header.length) {
    // auth-param = token "=" ( token / quoted-string ); quoted strings may hold commas (scopes do).
    const key = /\s*([\w-]+)\s*=\s*/y;
    key.lastIndex = i;
    const k = key.exec(header);
    if (!k) return malformed(`expected name=value at offset ${i}`);
    i = key.lastIndex;
    let value = "";
    if (header[i] === '"') {
      for (i++; i < header.length && header[i] !== '"'; i++) value += header[i] === "\\" ? header[++i] ?? "" : header[i];
      if (i >= header.length) return malformed("unterminated quoted string");
      i++;
    } else {
      while (i < header.length && !/[\s,]/.test(header[i]!)) value += header[i++];
    }
    params[k[1]!.toLowerCase()] = value;
    while (i < header.length && /[\s,]/.test(header[i]!)) i++;
  }
  return { scheme: scheme[1]!.toLowerCase(), params };
}

export function basicAuthorization(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username ?? ""}:${c.password ?? ""}`).toString("base64")}`;
}

/** docker config keys are registries, sometimes written as URLs ("https://index.docker.io/v1/"). */
function normalizeRegistryKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
  return host === "index.docker.io" || host === "registry-1.docker.io" ? dockerHub : host;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

function fromCredentialHelper(helper: string, registry: string, file: string): Credentials {
  const program = `docker-credential-${helper}`;
  let out: string;
  try {
    const server = registry === dockerHub ? "https://index.docker.io/v1/" : registry;
    out = execFileSync(program, ["get"], { input: server, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  } catch (e) {
    throw new Error(`${file}: credential helper ${program} failed for ${registry}: ${(e as Error).message.split("\n")[0]}`);
  }
  const parsed = JSON.parse(out) as { Username?: string; Secret?: string };
  const source = `${program} (from ${file})`;
  // docker-credential-helpers protocol: Username "<token>" means Secret is an identity token.
  if (parsed.Username === "<token>") return { identityToken: parsed.Secret ?? "", source };
  return { username: parsed.Username ?? "", password: parsed.Secret ?? "", source };
}

export function defaultDockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG ?? join(homedir(), ".docker"), "config.json");
}

/** Looks `registry` up in a docker config.json; undefined when the file has nothing for it. */
export function credentialsFromDockerConfig(file: string, registry: string): Credentials | undefined {
  if (!existsSync(file)) return undefined;
  let config: DockerConfig;
  try {
    config = JSON.parse(readFileSync(file, "utf8")) as DockerConfig;
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const want = normalizeRegistryKey(registry);
  const helper = config.credHelpers?.[want] ?? config.credHelpers?.[registry];
  if (helper) return fromCredentialHelper(helper, want, file);
  const key = Object.keys(config.auths ?? {}).find((k) => normalizeRegistryKey(k) === want);
  if (key) {
    const entry = config.auths![key]!;
    const source = `${file} auths["${key}"]`;
    if (entry.identitytoken) return { identityToken: entry.identitytoken, source };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) throw new Error(`${source}.auth: does not decode to "user:password"`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
    }
    if (entry.username !== undefined) return { username: entry.username, password: entry.password ?? "", source };
  }
  if (config.credsStore) return fromCredentialHelper(config.credsStore, want, file);
  return undefined;
}

export interface CredentialOptions {
  username?: string;
  password?: string;
  /** A docker config.json to read; defaults to $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
  dockerConfig?: string;
  env?: NodeJS.ProcessEnv;
}

/** Flags win over PROXY_WASM_REGISTRY_USERNAME/PASSWORD, which win over the docker config. */
export function resolveCredentials(registry: string, opts: CredentialOptions = {}): Credentials | undefined {
  const env = opts.env ?? process.env;
  if (opts.username !== undefined || opts.password !== undefined) {
    if (opts.username === undefined || opts.password === undefined) throw new Error("--username and --password go together");
    return { username: opts.username, password: opts.password, source: "--username/--password" };
  }
  const user = env.PROXY_WASM_REGISTRY_USERNAME;
  const pass = env.PROXY_WASM_REGISTRY_PASSWORD;
  if (user !== undefined || pass !== undefined) {
    if (user === undefined || pass === undefined) {
      throw new Error("PROXY_WASM_REGISTRY_USERNAME and PROXY_WASM_REGISTRY_PASSWORD must be set together");
    }
    return { username: user, password: pass, source: "PROXY_WASM_REGISTRY_USERNAME/PASSWORD" };
  }
  return credentialsFromDockerConfig(opts.dockerConfig ?? defaultDockerConfigPath(env), registry);
}
