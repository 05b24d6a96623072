// The peers of one request, read at most once per request and decoded at most once per distinct
// value (bounded caches keyed by the raw bytes):
// - filter state `downstream_peer` / `upstream_peer`: the google.protobuf.Struct the
//   metadata-exchange filter stored (docs/architecture.md "Peer metadata"; filters.md §1.4);
// - the upstream endpoint's `filter_metadata.istio.workload`, Istio's fallback for the upstream
//   peer when no exchange happened (filters.md §1.3; native istio_stats.cc extractEndpointMetadata).
import { decodeStruct, getFilterMetadata, getProperty } from "proxy-wasm-as";
import { BoundedCache } from "./cache";
import { Workload, workloadFromEndpoint, workloadFromMetadata } from "./workload";

export const DOWNSTREAM_PEER = "downstream_peer";
export const UPSTREAM_PEER = "upstream_peer";
const DOWNSTREAM_PATH = [DOWNSTREAM_PEER];
const UPSTREAM_PATH = [UPSTREAM_PEER];

/** Cached for bytes that do not decode, so they are not decoded again; read as "no peer". */
const UNUSABLE = new Workload();

export class Peers {
  private readonly structs: BoundedCache;
  private readonly endpoints: BoundedCache;
  private downstream: Workload | null = null;
  private upstream: Workload | null = null;
  private endpoint: Workload | null = null;
  private readDownstream: bool = false;
  private readUpstream: bool = false;
  private readEndpoint: bool = false;

  /** `endpointMetadataPath`: xds.upstream_host_metadata (or its legacy name on old Envoys). */
  constructor(cacheSize: i32, private readonly endpointMetadataPath: string[]) {
    this.structs = new BoundedCache(cacheSize);
    this.endpoints = new BoundedCache(cacheSize);
  }

  /** Forget the previous request's peers. */
  reset(): void {
    this.readDownstream = this.readUpstream = this.readEndpoint = false;
    this.downstream = this.upstream = this.endpoint = null;
  }

  /** The peer in filter state `downstream_peer`, or null. */
  downstreamPeer(): Workload | null {
    if (!this.readDownstream) {
      this.downstream = this.fromFilterState(DOWNSTREAM_PATH);
      this.readDownstream = true;
    }
    return this.downstream;
  }

  /** The peer in filter state `upstream_peer`, or null. */
  upstreamPeer(): Workload | null {
    if (!this.readUpstream) {
      this.upstream = this.fromFilterState(UPSTREAM_PATH);
      this.readUpstream = true;
    }
    return this.upstream;
  }

  /** The upstream peer, else the upstream endpoint's Istio telemetry metadata, else null. */
  upstreamPeerOrEndpoint(): Workload | null {
    const peer = this.upstreamPeer();
    if (peer !== null) return peer;
    if (!this.readEndpoint) {
      this.endpoint = this.fromEndpointMetadata();
      this.readEndpoint = true;
    }
    return this.endpoint;
  }

  /** The peer a `downstream_peer.*` / `upstream_peer.*` expression reads. */
  byName(name: string): Workload | null {
    return name == UPSTREAM_PEER ? this.upstreamPeer() : this.downstreamPeer();
  }

  private fromFilterState(key: string[]): Workload | null {
    const bytes = getProperty(key);
    if (bytes === null || bytes.byteLength == 0) return null;
    const ptr = changetype<usize>(bytes);
    const size = <usize>bytes.byteLength;
    let w = changetype<Workload | null>(this.structs.get(ptr, size));
    if (w === null) {
      const metadata = decodeStruct(bytes);
      w = metadata === null ? UNUSABLE : workloadFromMetadata(metadata);
      this.structs.put(ptr, size, w!);
    }
    return w === UNUSABLE ? null : w;
  }

  private fromEndpointMetadata(): Workload | null {
    const bytes = getProperty(this.endpointMetadataPath);
    if (bytes === null || bytes.byteLength == 0) return null;
    const ptr = changetype<usize>(bytes);
    const size = <usize>bytes.byteLength;
    let w = changetype<Workload | null>(this.endpoints.get(ptr, size));
    if (w === null) {
      const istio = getFilterMetadata(bytes, "istio");
      const encoded: string | null = istio === null ? null : istio.getString("workload");
      const found: Workload | null = encoded === null ? null : workloadFromEndpoint(encoded);
      w = found === null ? UNUSABLE : found;
      this.endpoints.put(ptr, size, w!);
    }
    return w === UNUSABLE ? null : w;
  }
}
