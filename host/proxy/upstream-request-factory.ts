// Picks the codec of an upstream attempt from the host's cluster (kept apart from both codecs so
// neither module imports the other).
import type { UpstreamHost } from "./cluster.js";
import { Http1UpstreamRequest, type UpstreamRequest, type UpstreamRequestCallbacks } from "./upstream-request.js";
import { Http2UpstreamRequest } from "./upstream-request-http2.js";

export function newUpstreamRequest(host: UpstreamHost, callbacks: UpstreamRequestCallbacks): UpstreamRequest {
  return host.cluster.model.http2 ? new Http2UpstreamRequest(host, callbacks) : new Http1UpstreamRequest(host, callbacks);
}
