// Image references as Docker and go-containerregistry (which Istio's fetcher uses) read them:
// [registry[:port]/]repository[:tag][@sha256:<hex>], an `oci://` prefix allowed (WasmPlugin urls,
// filters.md §5.1). A first component with a "." or ":" or equal to "localhost" names the registry;
// otherwise the registry is Docker Hub and one-component names get the "library/" prefix.

export interface ImageReference {
  /** As written in credentials and URLs: "docker.io", "127.0.0.1:5000", "ghcr.io". */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const componentPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^sha256:[a-f0-9]{64}$/;
export const dockerHub = "docker.io";

export function parseImageReference(input: string): ImageReference {
  const fail = (why: string): never => {
    throw new Error(`invalid image reference "${input}": ${why}`);
  };
  let rest = input.startsWith("oci://") ? input.slice("oci://".length) : input;
  if (/^[a-z]+:\/\//i.test(rest)) fail("only oci:// or a bare reference names an image");
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) fail(`digest "${digest}" is not sha256:<64 lowercase hex>`);
  }
  const slash = rest.indexOf("/");
  const first = slash < 0 ? "" : rest.slice(0, slash);
  let registry = dockerHub;
  if (first && (first.includes(".") || first.includes(":") || first === "localhost")) {
    registry = first;
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) fail(`tag "${tag}" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }
  if (!rest) fail("no repository name");
  const components = rest.split("/");
  for (const c of components) if (!componentPattern.test(c)) fail(`repository component "${c}" must be lowercase [a-z0-9] separated by . _ __ or -`);
  if (registry === dockerHub && components.length === 1) rest = `library/${rest}`;
  if (!tag && !digest) tag = "latest";
  return { registry, repository: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The manifest reference used in /v2/<name>/manifests/<reference>: the digest when pinned. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? "latest";
}

/** Docker Hub's API lives on another host than its name. */
export function registryApiHost(registry: string): string {
  return registry === dockerHub || registry === "index.docker.io" ? "registry-1.docker.io" : registry;
}

export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}
