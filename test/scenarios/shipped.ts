// The configs in envoy/ as the scenarios and both runners read them.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { projectRoot } from "../../host/build.js";

export const envoyDir = join(projectRoot, "envoy");

export type Json = Record<string, unknown>;

/** envoy/*.yaml: the configs shipped for the local proxy, compose and an Envoy binary. */
export function shippedConfigNames(): string[] {
  return readdirSync(envoyDir)
    .filter((f) => f.endsWith(".yaml"))
    .sort();
}

export function shippedConfig(name: string): Json {
  return parse(readFileSync(join(envoyDir, name), "utf8")) as Json;
}

/** The bootstrap's node block (id and metadata), e.g. to know what metadata exchange sends. */
export function shippedNode(name: string): { id: string; metadata: Json } {
  const node = shippedConfig(name).node as { id?: string; metadata?: Json } | undefined;
  if (!node?.id || !node.metadata) throw new Error(`envoy/${name} has no node id and metadata`);
  return { id: node.id, metadata: node.metadata };
}
