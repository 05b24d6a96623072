// Configuration errors. Every one names the JSON path of the offending value, as
// `envoy --mode validate` does, so users can find it in their YAML.

export class ConfigError extends Error {
  constructor(
    message: string,
    /** JSON path of the offending value ("static_resources.clusters[0].type"), if known. */
    readonly path?: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Valid Envoy configuration the local proxy does not implement: refused rather than ignored. */
export function notSupported(path: string, detail?: string): ConfigError {
  return new ConfigError(`${path}: not supported by the local proxy${detail ? ` (${detail})` : ""}`, path);
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}
