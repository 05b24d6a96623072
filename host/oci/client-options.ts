// Registry options shared by `proxy-wasm push` and `proxy-wasm wasmplugin --resolve`.
import { readFileSync } from "node:fs";
import { resolveCredentials } from "./auth.js";
import { RegistryClient } from "./registry.js";
import type { ImageReference } from "./reference.js";

export const registryOptionSpec = {
  insecure: { type: "boolean" },
  username: { type: "string" },
  password: { type: "string" },
  "password-stdin": { type: "boolean" },
  "docker-config": { type: "string" },
} as const;

export const registryOptionsUsage = [
  "  --insecure             allow plain HTTP and unverified TLS (Istio: WASM_INSECURE_REGISTRIES)",
  "  --username, --password registry credentials (or PROXY_WASM_REGISTRY_USERNAME/PASSWORD)",
  "  --password-stdin       read the password from standard input",
  "  --docker-config FILE   docker config.json with auths/credHelpers (default $DOCKER_CONFIG/config.json,",
  "                         ~/.docker/config.json); the same format as an Istio imagePullSecret",
].join("\n");

export interface RegistryOptionValues {
  insecure?: boolean;
  username?: string;
  password?: string;
  "password-stdin"?: boolean;
  "docker-config"?: string;
}

export function registryClientFor(ref: ImageReference, values: RegistryOptionValues): RegistryClient {
  let password = values.password;
  if (values["password-stdin"]) {
    if (password !== undefined) throw new Error("--password and --password-stdin are exclusive");
    password = readFileSync(0, "utf8").replace(/\r?\n$/, "");
  }
  const credentials = resolveCredentials(ref.registry, {
    ...(values.username !== undefined ? { username: values.username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(values["docker-config"] ? { dockerConfig: values["docker-config"] } : {}),
  });
  return new RegistryClient(ref.registry, { insecure: values.insecure ?? false, ...(credentials ? { credentials } : {}) });
}
