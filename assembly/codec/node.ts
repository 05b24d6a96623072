// The parts of Envoy protobuf messages that filters read through properties: the node
// (`xds.node`, envoy.config.core.v3.Node: id = 1, cluster = 2, metadata = 3 as a Struct) and
// metadata (`xds.cluster_metadata`, `xds.route_metadata`, ...: envoy.config.core.v3.Metadata with
// `map<string, Struct> filter_metadata = 1`). Pure code.
import { JsonValue } from "./json";
import { ProtoReader, WireType } from "./protobuf";
import { readStruct } from "./struct";

export class NodeInfo {
  id: string = "";
  cluster: string = "";
  /** Node metadata (an empty object when the node has none). */
  metadata: JsonValue = JsonValue.newObject();
}

/** Decodes a serialized envoy.config.core.v3.Node; null if malformed. */
export function decodeNode(bytes: ArrayBuffer): NodeInfo | null {
  const r = new ProtoReader(bytes);
  const node = new NodeInfo();
  while (r.next()) {
    if (r.wireType != WireType.LengthDelimited || r.field > 3) {
      r.skip();
    } else if (r.field == 1) {
      node.id = r.readString();
    } else if (r.field == 2) {
      node.cluster = r.readString();
    } else {
      const metadata = readStruct(r.readMessage(), 0);
      if (metadata === null) return null;
      node.metadata = metadata;
    }
  }
  return r.ok ? node : null;
}

/**
 * The Struct stored under `filterName` in a serialized envoy.config.core.v3.Metadata
 * (e.g. "istio" or "envoy.lb"); null if absent or malformed.
 */
export function decodeFilterMetadata(bytes: ArrayBuffer, filterName: string): JsonValue | null {
  const r = new ProtoReader(bytes);
  while (r.next()) {
    if (r.field != 1 || r.wireType != WireType.LengthDelimited) {
      r.skip();
      continue;
    }
    const entry = r.readMessage();
    let key = "";
    let found: JsonValue | null = null;
    while (entry.next()) {
      if (entry.field == 1 && entry.wireType == WireType.LengthDelimited) key = entry.readString();
      else if (entry.field == 2 && entry.wireType == WireType.LengthDelimited) found = readStruct(entry.readMessage(), 0);
      else entry.skip();
    }
    if (key == filterName) return entry.ok ? found : null;
  }
  return null;
}
