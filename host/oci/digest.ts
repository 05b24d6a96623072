// Content digests as the OCI image and distribution specs write them: "sha256:<64 lowercase hex>".
// Istio's WasmPlugin `sha256` field is the hex part of the image *manifest* digest (filters.md §5.1).
import { createHash } from "node:crypto";

export type Digest = `sha256:${string}`;

const digestPattern = /^sha256:[a-f0-9]{64}$/;

export function sha256Digest(data: Uint8Array): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function isDigest(s: string): s is Digest {
  return digestPattern.test(s);
}

/** The 64 hex digits, i.e. what WasmPlugin.spec.sha256 expects. */
export function digestHex(d: Digest): string {
  return d.slice("sha256:".length);
}

/** Throws naming `what` when `data` does not hash to `expected`: nothing corrupt is passed on. */
export function verifyDigest(data: Uint8Array, expected: string, what: string): void {
  const actual = sha256Digest(data);
  if (actual !== expected) throw new Error(`${what}: content has digest ${actual}, expected ${expected}`);
}
