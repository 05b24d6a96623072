// A small client of the OCI distribution API (distribution-spec: /v2/<name>/blobs, /manifests),
// enough to push and pull one Wasm image: blob existence check (HEAD), POST+PUT upload, manifest PUT
// with the digest taken from Docker-Content-Digest and checked against our own hash, and verified
// pulls. Auth per auth.ts. `insecure` is the analogue of Istio's WASM_INSECURE_REGISTRIES
// (filters.md §5.3; imagefetcher.go): TLS certificates are not verified, and a registry that answers
// HTTPS with plain HTTP is retried over http://. Without it, only verified HTTPS is used.
import { Agent, fetch, type Response } from "undici";
import { basicAuthorization, parseChallenge, type Challenge, type Credentials } from "./auth.js";
import { sha256Digest, verifyDigest } from "./digest.js";
import type { BlobReader } from "./extract.js";
import { imageBlobs, type Blob, type Descriptor, type WasmImage } from "./image.js";
import { manifestAccept, MediaType } from "./media-types.js";
import { manifestReference, registryApiHost, type ImageReference } from "./reference.js";

export interface RegistryErrorDetail {
  code: string;
  message: string;
}

/** An HTTP failure with the registry's error codes (distribution-spec "Error Codes"). */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errors: RegistryErrorDetail[],
  ) {
    super(message);
  }
  get codes(): string[] {
    return this.errors.map((e) => e.code);
  }
}

export interface RegistryClientOptions {
  insecure?: boolean;
  credentials?: Credentials;
  userAgent?: string;
}

interface RequestOptions {
  headers?: Record<string, string>;
  body?: Buffer;
  /** Token scope the request needs: repository:<name>:pull or :pull,push. */
  scope: string;
  /** Statuses that are not failures. */
  ok: number[];
  what: string;
}

const tlsErrorCodes = /^(ERR_SSL_|EPROTO$|ECONNRESET$)/;

export class RegistryClient {
  readonly registry: string;
  private scheme: "https" | "http" = "https";
  private readonly dispatcher: Agent;
  private readonly tokens = new Map<string, string>();
  private basic = false;

  constructor(
    registry: string,
    private readonly opts: RegistryClientOptions = {},
  ) {
    this.registry = registry;
    this.dispatcher = new Agent({ connect: { rejectUnauthorized: !opts.insecure } });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  get baseUrl(): string {
    return `${this.scheme}://${registryApiHost(this.registry)}`;
  }

  private async send(method: string, url: string, req: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { "user-agent": this.opts.userAgent ?? "proxy-wasm-as", ...req.headers };
    const token = this.tokens.get(req.scope);
    if (token) headers.authorization = `Bearer ${token}`;
    else if (this.basic && this.opts.credentials) headers.authorization = basicAuthorization(this.opts.credentials);
    return fetch(url, { method, headers, body: req.body, dispatcher: this.dispatcher, redirect: "follow" });
  }

  /** Sends with scheme fallback (insecure only) and one round of authentication on 401. */
  private async request(method: string, path: string, req: RequestOptions): Promise<Response> {
    const urlOf = () => (/^https?:\/\//.test(path) ? path : `${this.baseUrl}${path}`);
    let res: Response;
    try {
      res = await this.send(method, urlOf(), req);
    } catch (e) {
      const code = ((e as Error).cause as { code?: string } | undefined)?.code ?? "";
      const notTls = this.scheme === "https" && !/^https?:\/\//.test(path) && tlsErrorCodes.test(code);
      if (notTls && this.opts.insecure) {
        this.scheme = "http"; // Istio: retry plaintext only for registries allowlisted as insecure
        res = await this.send(method, urlOf(), req).catch((e2: Error) => this.networkError(req.what, e2));
      } else if (notTls) {
        throw new Error(
          `${req.what}: ${this.registry} did not answer HTTPS (${code}); if it serves plain HTTP, pass --insecure ` +
            `(and list it in Istio's WASM_INSECURE_REGISTRIES)`,
        );
      } else {
        return this.networkError(req.what, e as Error);
      }
    }
    if (res.status === 401) {
      const challenge = res.headers.get("www-authenticate");
      await res.arrayBuffer();
      if (!challenge) throw await this.failure(res, req, "401 without a WWW-Authenticate challenge");
      await this.authenticate(parseChallenge(challenge), req.scope, req.what);
      res = await this.send(method, urlOf(), req);
      if (res.status === 401) {
        const creds = this.opts.credentials;
        throw await this.failure(res, req, creds ? `credentials from ${creds.source} were not accepted` : "anonymous access refused");
      }
    }
    if (!req.ok.includes(res.status)) throw await this.failure(res, req);
    return res;
  }

  private networkError(what: string, e: Error): never {
    const cause = (e.cause as Error | undefined)?.message;
    throw new Error(`${what}: cannot reach registry ${this.registry} at ${this.baseUrl}: ${cause ?? e.message}`);
  }

  private async authenticate(challenge: Challenge, scope: string, what: string): Promise<void> {
    const creds = this.opts.credentials;
    if (challenge.scheme === "basic") {
      if (!creds?.username && !creds?.password) {
        throw new Error(`${what}: ${this.registry} requires basic auth and no credentials were given (--username/--password, PROXY_WASM_REGISTRY_USERNAME/PASSWORD or a docker config.json)`);
      }
      this.basic = true;
      return;
    }
    if (challenge.scheme !== "bearer") throw new Error(`${what}: unsupported auth scheme "${challenge.scheme}" from ${this.registry}`);
    const realm = challenge.params.realm;
    if (!realm) throw new Error(`${what}: Bearer challenge from ${this.registry} has no realm`);
    this.tokens.set(scope, await this.fetchToken(realm, challenge.params.service, scope, what));
  }

  /** Docker token auth (distribution docs "Token Authentication Specification", OAuth2 for identity tokens). */
  private async fetchToken(realm: string, service: string | undefined, scope: string, what: string): Promise<string> {
    const creds = this.opts.credentials;
    const url = new URL(realm);
    let res: Response;
    if (creds?.identityToken) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, client_id: "proxy-wasm-as", scope });
      if (service) form.set("service", service);
      res = await fetch(url, { method: "POST", body: form, dispatcher: this.dispatcher }).catch((e: Error) => this.networkError(what, e));
    } else {
      if (service) url.searchParams.set("service", service);
      url.searchParams.set("scope", scope);
      const headers: Record<string, string> = {};
      if (creds?.username !== undefined) {
        headers.authorization = basicAuthorization(creds);
        url.searchParams.set("account", creds.username);
      }
      res = await fetch(url, { headers, dispatcher: this.dispatcher }).catch((e: Error) => this.networkError(what, e));
    }
    const text = await res.text();
    if (res.status !== 200) {
      const who = creds ? `credentials from ${creds.source}` : "anonymous access";
      throw new Error(`${what}: token server ${url.origin}${url.pathname} refused ${who} for ${scope}: HTTP ${res.status} ${text.slice(0, 200)}`);
    }
    let body: { token?: string; access_token?: string };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`${what}: token server ${url.origin}${url.pathname} answered with non-JSON: ${text.slice(0, 200)}`);
    }
    const token = body.token ?? body.access_token;
    if (!token) throw new Error(`${what}: token server ${url.origin}${url.pathname} answered without "token" or "access_token"`);
    return token;
  }

  private async failure(res: Response, req: RequestOptions, note?: string): Promise<RegistryError> {
    const text = res.bodyUsed ? "" : await res.text().catch(() => "");
    let errors: RegistryErrorDetail[] = [];
    try {
      const parsed = JSON.parse(text) as { errors?: RegistryErrorDetail[] };
      if (Array.isArray(parsed.errors)) errors = parsed.errors.map((e) => ({ code: String(e.code), message: String(e.message ?? "") }));
    } catch {
      // not a registry error body; the status line says enough
    }
    const detail = errors.length ? errors.map((e) => `${e.code}: ${e.message}`).join("; ") : text.slice(0, 200).trim();
    const message = `${req.what}: HTTP ${res.status} ${res.statusText}${detail ? ` (${detail})` : ""}${note ? `: ${note}` : ""}`;
    return new RegistryError(message, res.status, errors);
  }

  async blobExists(repository: string, digest: string): Promise<boolean> {
    const res = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, {
      scope: `repository:${repository}:pull,push`,
      ok: [200, 404],
      what: `HEAD blob ${digest} in ${this.registry}/${repository}`,
    });
    await res.arrayBuffer();
    return res.status === 200;
  }

  /** POST to open an upload session, then a single PUT with the whole blob and its digest. */
  async uploadBlob(repository: string, blob: Blob): Promise<void> {
    const scope = `repository:${repository}:pull,push`;
    const what = `upload blob ${blob.digest} (${blob.mediaType}) to ${this.registry}/${repository}`;
    const start = await this.request("POST", `/v2/${repository}/blobs/uploads/`, { scope, ok: [202], what, headers: { "content-length": "0" } });
    await start.arrayBuffer();
    const location = start.headers.get("location");
    if (!location) throw new Error(`${what}: registry answered 202 without a Location header`);
    const url = new URL(location, this.baseUrl);
    url.searchParams.set("digest", blob.digest);
    const done = await this.request("PUT", url.toString(), {
      scope,
      ok: [201],
      what,
      headers: { "content-type": "application/octet-stream", "content-length": String(blob.size) },
      body: blob.data,
    });
    await done.arrayBuffer();
    const echoed = done.headers.get("docker-content-digest");
    if (echoed && echoed !== blob.digest) throw new Error(`${what}: registry stored it as ${echoed}`);
  }

  async pushBlob(repository: string, blob: Blob): Promise<"exists" | "uploaded"> {
    if (await this.blobExists(repository, blob.digest)) return "exists";
    await this.uploadBlob(repository, blob);
    return "uploaded";
  }

  /** Returns the manifest digest, after checking the registry's Docker-Content-Digest against our hash. */
  async putManifest(repository: string, reference: string, mediaType: string, manifest: Buffer): Promise<string> {
    const what = `PUT manifest ${this.registry}/${repository}:${reference}`;
    const res = await this.request("PUT", `/v2/${repository}/manifests/${reference}`, {
      scope: `repository:${repository}:pull,push`,
      ok: [201],
      what,
      headers: { "content-type": mediaType, "content-length": String(manifest.length) },
      body: manifest,
    });
    await res.arrayBuffer();
    const local = sha256Digest(manifest);
    const remote = res.headers.get("docker-content-digest");
    if (remote && remote !== local) {
      throw new Error(`${what}: registry reports digest ${remote} but the manifest we sent hashes to ${local}`);
    }
    return local;
  }

  async pushImage(ref: ImageReference, image: WasmImage): Promise<{ digest: string; uploaded: number; existing: number }> {
    let uploaded = 0;
    let existing = 0;
    for (const b of imageBlobs(image)) {
      if ((await this.pushBlob(ref.repository, b)) === "uploaded") uploaded++;
      else existing++;
    }
    const digest = await this.putManifest(ref.repository, manifestReference(ref), MediaType.ociManifest, image.manifest);
    if (ref.digest && ref.digest !== digest) throw new Error(`reference pins ${ref.digest} but the image is ${digest}`);
    return { digest, uploaded, existing };
  }

  async getManifest(ref: ImageReference): Promise<{ manifest: Buffer; mediaType: string; digest: string }> {
    const reference = manifestReference(ref);
    const what = `GET manifest ${this.registry}/${ref.repository}:${reference}`;
    const res = await this.request("GET", `/v2/${ref.repository}/manifests/${reference}`, {
      scope: `repository:${ref.repository}:pull`,
      ok: [200],
      what,
      headers: { accept: manifestAccept },
    });
    const manifest = Buffer.from(await res.arrayBuffer());
    const digest = sha256Digest(manifest);
    const header = res.headers.get("docker-content-digest");
    if (header && header !== digest) throw new Error(`${what}: Docker-Content-Digest ${header} but the body hashes to ${digest}`);
    if (ref.digest && ref.digest !== digest) throw new Error(`${what}: asked for ${ref.digest}, got ${digest}`);
    return { manifest, mediaType: res.headers.get("content-type") ?? "", digest };
  }

  async getBlob(repository: string, d: Descriptor): Promise<Buffer> {
    const what = `GET blob ${d.digest} from ${this.registry}/${repository}`;
    const res = await this.request("GET", `/v2/${repository}/blobs/${d.digest}`, { scope: `repository:${repository}:pull`, ok: [200], what });
    const data = Buffer.from(await res.arrayBuffer());
    verifyDigest(data, d.digest, what);
    if (data.length !== d.size) throw new Error(`${what}: ${data.length} bytes, descriptor says ${d.size}`);
    return data;
  }

  blobReader(repository: string): BlobReader {
    return (d) => this.getBlob(repository, d);
  }
}
