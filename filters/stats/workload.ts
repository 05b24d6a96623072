// One side of a request (source or destination) as the labels see it: from Istio node metadata
// (the local node, or a peer Struct stored by the metadata-exchange filter, docs/architecture.md
// "Peer metadata"), or from endpoint metadata when no exchange happened (filters.md §1.3).
// Values are already rendered by the label rules of filters.md §2.2, except the namespace, which
// may still fall back to the peer's SPIFFE identity per request. Pure code.
import { JsonType, JsonValue } from "proxy-wasm-as";
import { LATEST, UNKNOWN, canonicalRevision, canonicalService, orUnknown, splitEndpointWorkload } from "./labels";

export const CANONICAL_NAME_LABEL = "service.istio.io/canonical-name";
export const CANONICAL_REVISION_LABEL = "service.istio.io/canonical-revision";

export class Workload {
  workload: string = UNKNOWN;
  /** NAMESPACE as given ("" if absent): the caller falls back to the principal's namespace. */
  namespace: string = "";
  app: string = UNKNOWN;
  version: string = UNKNOWN;
  canonicalService: string = UNKNOWN;
  canonicalRevision: string = LATEST;
  cluster: string = UNKNOWN;
  /** The metadata it came from, for peer-field expressions (null for endpoint metadata). */
  metadata: JsonValue | null = null;
}

/** A side with nothing known about it. */
export const UNKNOWN_WORKLOAD = new Workload();

function stringField(obj: JsonValue | null, key: string): string | null {
  if (obj === null || obj.type != JsonType.Object) return null;
  return obj.getString(key);
}

function firstLabel(labels: JsonValue | null, a: string, b: string): string | null {
  const v = stringField(labels, a);
  return v !== null && v.length > 0 ? v : stringField(labels, b);
}

/** From Istio node metadata keys (WORKLOAD_NAME, NAMESPACE, CLUSTER_ID, LABELS{...}). */
export function workloadFromMetadata(metadata: JsonValue): Workload {
  const w = new Workload();
  const labels = metadata.type == JsonType.Object ? metadata.getObject("LABELS") : null;
  const name = stringField(metadata, "WORKLOAD_NAME");
  w.workload = orUnknown(name);
  const ns = stringField(metadata, "NAMESPACE");
  w.namespace = ns === null ? "" : ns;
  // Istio's `app`/`version` labels; the Kubernetes recommended labels when those are absent.
  w.app = orUnknown(firstLabel(labels, "app", "app.kubernetes.io/name"));
  w.version = orUnknown(firstLabel(labels, "version", "app.kubernetes.io/version"));
  w.canonicalService = canonicalService(stringField(labels, CANONICAL_NAME_LABEL), name);
  w.canonicalRevision = canonicalRevision(stringField(labels, CANONICAL_REVISION_LABEL));
  w.cluster = orUnknown(stringField(metadata, "CLUSTER_ID"));
  w.metadata = metadata;
  return w;
}

/**
 * From `filter_metadata.istio.workload` of the upstream endpoint:
 * `workload;namespace;canonical_service;canonical_revision;cluster_id`. Null if malformed.
 */
export function workloadFromEndpoint(encoded: string): Workload | null {
  const parts = splitEndpointWorkload(encoded);
  if (parts === null) return null;
  const w = new Workload();
  const name = unchecked(parts[0]);
  w.workload = orUnknown(name);
  w.namespace = unchecked(parts[1]);
  w.canonicalService = canonicalService(unchecked(parts[2]), name);
  w.canonicalRevision = canonicalRevision(unchecked(parts[3]));
  w.cluster = orUnknown(unchecked(parts[4]));
  return w;
}
