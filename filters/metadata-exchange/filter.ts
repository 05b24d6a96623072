// Istio's HTTP metadata exchange (istio/proxy extensions/metadata_exchange/plugin.cc, release
// 1.8–1.18; filters.md §1.3), wire-compatible with Istio sidecars:
// - request: remove x-envoy-peer-metadata(-id) and store the downstream peer as filter state
//   downstream_peer / downstream_peer_id; unless the listener is INBOUND, put our own headers on
//   the request (so the app behind an inbound sidecar never sees them, and the upstream of an
//   outbound sidecar or gateway learns who calls);
// - response: remove them and store upstream_peer / upstream_peer_id; unless the listener is
//   OUTBOUND, answer with our own headers, but only those the request carried (an inbound sidecar
//   answers mesh peers only and never leaks its metadata to clients outside the mesh).
// UNSPECIFIED (no traffic_direction on the listener, no `direction` configured) does both.
// Filter state encoding (the contract with the stats filter, docs/architecture.md "Peer
// metadata"): *_peer holds the serialized google.protobuf.Struct exactly as carried in the header,
// *_peer_id the node id bytes.
import {
  Action, HttpContext, LogLevel, MapType, PropertyLifeSpan, PropertyType, RootContext, WasmResult, declareProperty,
  getHeaderMapValueBytes, getNode, getPluginConfigurationString, getTrafficDirection, logDebug, logEnabled, logError,
  logWarn, removeHeaderMapValueBytes, replaceHeaderMapValueBytes, setProperty,
} from "proxy-wasm-as";
import { MetadataExchangeConfig, TrafficDirection, parseConfig } from "./config";
import { localPeerMetadata, peerMetadataHeaderValue } from "./local-metadata";
import { MetadataExchangeMetrics } from "./metrics";
import { PeerCache, latin1Key } from "./peer-cache";
import { decodePeerMetadata, peerMetadataProblem } from "./peer-header";

const LOG_PREFIX = "metadata-exchange: ";

// Header names are encoded once; filter-state paths go through the SDK's scratch area, so the
// per-request path allocates only the values it reads.
const PEER_METADATA_HEADER = String.UTF8.encode("x-envoy-peer-metadata");
const PEER_ID_HEADER = String.UTF8.encode("x-envoy-peer-metadata-id");
const DOWNSTREAM_PEER: string[] = ["downstream_peer"];
const DOWNSTREAM_PEER_ID: string[] = ["downstream_peer_id"];
const UPSTREAM_PEER: string[] = ["upstream_peer"];
const UPSTREAM_PEER_ID: string[] = ["upstream_peer_id"];
const STRUCT_TYPE_URL = "type.googleapis.com/google.protobuf.Struct";

/** Which peer headers a message carried (non-empty values; Istio treats empty as absent). */
const RECEIVED_METADATA: i32 = 1;
const RECEIVED_ID: i32 = 2;

export class MetadataExchangeRoot extends RootContext {
  config: MetadataExchangeConfig = new MetadataExchangeConfig();
  cache: PeerCache = new PeerCache(0);
  readonly metrics: MetadataExchangeMetrics = new MetadataExchangeMetrics();
  /** Our x-envoy-peer-metadata value as ASCII; null when there is nothing to send. */
  ownMetadata: ArrayBuffer | null = null;
  /** Our node id; null when the node has none. */
  ownId: ArrayBuffer | null = null;

  newHttpContext(contextId: u32): HttpContext {
    return new MetadataExchangeStream(this);
  }

  /** Never fails: configuration and node problems are logged and defaults apply (filters.md §1.3). */
  onConfigure(pluginConfigurationSize: u32): bool {
    const text = pluginConfigurationSize > 0 ? getPluginConfigurationString() : "";
    const parsed = parseConfig(text === null ? "" : text);
    for (let i = 0, n = parsed.errors.length; i < n; i++) logError(LOG_PREFIX, "configuration: ", unchecked(parsed.errors[i]));
    this.config = parsed.config;
    this.cache = new PeerCache(parsed.config.maxPeerCacheSize);
    this.loadLocalNode();
    declarePeerProperties();
    this.metrics.defineAll();
    return true;
  }

  /** Encodes our own headers once (filters.md §1.2: xds.node, falling back to node). */
  private loadLocalNode(): void {
    this.ownMetadata = null;
    this.ownId = null;
    const node = getNode();
    if (node === null) {
      logWarn(LOG_PREFIX, "xds.node unavailable: sending no peer metadata");
      return;
    }
    const warnings = new Array<string>();
    const value = peerMetadataHeaderValue(localPeerMetadata(node.metadata, this.config.additionalLabels, warnings));
    for (let i = 0, n = warnings.length; i < n; i++) logWarn(LOG_PREFIX, unchecked(warnings[i]));
    if (value.length > 0) this.ownMetadata = String.UTF8.encode(value);
    if (node.id.length > 0) this.ownId = String.UTF8.encode(node.id);
    if (logEnabled(LogLevel.Debug)) logDebug(LOG_PREFIX, "node id \"", node.id, "\", metadata " + value);
  }

  /** The direction of this stream's listener, or the configured one if the listener has none. */
  trafficDirection(): i32 {
    const value = <i32>getTrafficDirection();
    return value == TrafficDirection.Inbound || value == TrafficDirection.Outbound ? value : this.config.direction;
  }

  /**
   * Removes both peer headers from `map` and stores what they say under `peerPath` / `idPath`;
   * returns which of them arrived (RECEIVED_* bits). Oversize and malformed values are counted and
   * otherwise ignored.
   */
  takePeerHeaders(map: MapType, peerPath: string[], idPath: string[]): i32 {
    const id = getHeaderMapValueBytes(map, PEER_ID_HEADER);
    const metadata = getHeaderMapValueBytes(map, PEER_METADATA_HEADER);
    // Removed even when empty (Istio leaves empty ones), so the app never sees either header.
    if (id !== null) removeHeaderMapValueBytes(map, PEER_ID_HEADER);
    if (metadata !== null) removeHeaderMapValueBytes(map, PEER_METADATA_HEADER);
    const limit = this.config.maxPeerHeaderBytes;
    let received = 0;
    let peerId: ArrayBuffer | null = null;
    if (id !== null && id.byteLength > 0) {
      received |= RECEIVED_ID;
      if (id.byteLength > limit) {
        this.metrics.oversize.increment();
      } else {
        setProperty(idPath, id);
        peerId = id;
      }
    }
    if (metadata !== null && metadata.byteLength > 0) {
      received |= RECEIVED_METADATA;
      if (metadata.byteLength > limit) this.metrics.oversize.increment();
      else this.storePeer(peerPath, peerId, metadata);
    }
    return received;
  }

  /** Edge mode: removes peer headers sent by downstream without looking at what they say. */
  stripUntrusted(map: MapType): void {
    const id = getHeaderMapValueBytes(map, PEER_ID_HEADER);
    const metadata = getHeaderMapValueBytes(map, PEER_METADATA_HEADER);
    if (id !== null) removeHeaderMapValueBytes(map, PEER_ID_HEADER);
    if (metadata !== null) removeHeaderMapValueBytes(map, PEER_METADATA_HEADER);
    if (id !== null || metadata !== null) this.metrics.untrusted.increment();
  }

  /** Istio's updatePeer: the cached peer for a known id, else the decoded header value. */
  private storePeer(peerPath: string[], peerId: ArrayBuffer | null, headerValue: ArrayBuffer): void {
    const cache = this.cache;
    let key: string | null = null;
    // Istio also caches under an empty id, so one peer without an id would stand for every
    // other; without an id nothing is cached here.
    if (peerId !== null && cache.enabled) {
      key = latin1Key(peerId);
      const cached = cache.get(key);
      if (cached !== null) {
        this.metrics.cacheHits.increment();
        setProperty(peerPath, cached);
        return;
      }
      this.metrics.cacheMisses.increment();
    }
    const peer = decodePeerMetadata(headerValue);
    if (peer === null) {
      this.metrics.malformed.increment();
      if (logEnabled(LogLevel.Debug)) logDebug(LOG_PREFIX, "ignored x-envoy-peer-metadata for ", peerPath[0], ": " + peerMetadataProblem());
      return;
    }
    setProperty(peerPath, peer);
    if (key !== null) cache.put(key, peer);
  }

  /** Puts our own headers on `map`: those in `which` (RECEIVED_* bits) that we have. */
  sendOwn(map: MapType, which: i32): void {
    const metadata = this.ownMetadata;
    const id = this.ownId;
    if ((which & RECEIVED_METADATA) != 0 && metadata !== null) replaceHeaderMapValueBytes(map, PEER_METADATA_HEADER, metadata);
    if ((which & RECEIVED_ID) != 0 && id !== null) replaceHeaderMapValueBytes(map, PEER_ID_HEADER, id);
  }
}

/**
 * Declares the peer filter state as Istio does (span DownstreamRequest), typed so that CEL and
 * access logs see the peer as a google.protobuf.Struct and the ids as strings. Wasm readers of
 * [downstream_peer] still get the stored bytes (Envoy CelState::exprValue with `last`).
 */
function declarePeerProperties(): void {
  declarePeerProperty(DOWNSTREAM_PEER[0], PropertyType.Protobuf, STRUCT_TYPE_URL);
  declarePeerProperty(UPSTREAM_PEER[0], PropertyType.Protobuf, STRUCT_TYPE_URL);
  declarePeerProperty(DOWNSTREAM_PEER_ID[0], PropertyType.String, "");
  declarePeerProperty(UPSTREAM_PEER_ID[0], PropertyType.String, "");
}

function declarePeerProperty(name: string, type: PropertyType, schema: string): void {
  const result = declareProperty(name, type, PropertyLifeSpan.DownstreamRequest, schema);
  // Hosts without declare_property (NotFound) still store the state, as untyped bytes.
  if (result != WasmResult.Ok && logEnabled(LogLevel.Debug)) {
    logDebug(LOG_PREFIX, "declare_property ", name, " failed with WasmResult " + (<i32>result).toString());
  }
}

class MetadataExchangeStream extends HttpContext {
  /** -1 until read: the listener's direction is per stream (one ECDS config serves both). */
  private direction: i32 = -1;
  /** What the downstream request carried, to answer only mesh peers. */
  private received: i32 = 0;

  constructor(private readonly root: MetadataExchangeRoot) {
    super();
  }

  private trafficDirection(): i32 {
    if (this.direction < 0) this.direction = this.root.trafficDirection();
    return this.direction;
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): Action {
    const root = this.root;
    if (root.config.edge) root.stripUntrusted(MapType.HttpRequestHeaders);
    else this.received = root.takePeerHeaders(MapType.HttpRequestHeaders, DOWNSTREAM_PEER, DOWNSTREAM_PEER_ID);
    if (this.trafficDirection() != TrafficDirection.Inbound) root.sendOwn(MapType.HttpRequestHeaders, RECEIVED_METADATA | RECEIVED_ID);
    return Action.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): Action {
    const root = this.root;
    root.takePeerHeaders(MapType.HttpResponseHeaders, UPSTREAM_PEER, UPSTREAM_PEER_ID);
    if (this.trafficDirection() != TrafficDirection.Outbound) root.sendOwn(MapType.HttpResponseHeaders, this.received);
    return Action.Continue;
  }
}
