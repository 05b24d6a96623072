// Reading a peer's x-envoy-peer-metadata value (filters.md §1.1): base64 (standard alphabet,
// padding optional, as Envoy's Base64::decodeWithoutPadding accepts) of a serialized
// google.protobuf.Struct. Istio drops a value that does not parse as a Struct (updatePeer returns
// false) and so do we. What is stored is the decoded bytes unchanged (docs/architecture.md "Peer
// metadata"): consumers parse the Struct themselves. Pure code: no host imports.
import { base64DecodeBytes, decodeStruct, lastStructError } from "proxy-wasm-as";

let problem = "";

/** Why the last decodePeerMetadata returned null ("" after a success). */
export function peerMetadataProblem(): string {
  return problem;
}

/** The Struct bytes carried by the header value, or null if it is not base64 of a Struct. */
export function decodePeerMetadata(headerValue: ArrayBuffer): ArrayBuffer | null {
  const bytes = base64DecodeBytes(headerValue);
  if (bytes === null) {
    problem = "not base64";
    return null;
  }
  if (decodeStruct(bytes) === null) {
    problem = "not a google.protobuf.Struct: " + lastStructError();
    return null;
  }
  problem = "";
  return bytes;
}
