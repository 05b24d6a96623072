// The destination service as istiod describes it in the upstream cluster's metadata:
// `filter_metadata.istio.services[0]` = {host, name, namespace} (filters.md §2.2; native
// istio_stats.cc reads the same fields). Pure code.
import { JsonType, JsonValue } from "proxy-wasm-as";

export class ServiceInfo {
  host: string = "";
  name: string = "";
  namespace: string = "";
}

/** The cluster described no service (or its metadata was unusable). */
export const NO_SERVICE = new ServiceInfo();

function text(obj: JsonValue, key: string): string {
  const v = obj.getString(key);
  return v === null ? "" : v;
}

/** From the cluster's `istio` filter metadata Struct; NO_SERVICE if it lists no service. */
export function serviceFromIstioMetadata(istio: JsonValue | null): ServiceInfo {
  if (istio === null || istio.type != JsonType.Object) return NO_SERVICE;
  const services = istio.getArray("services");
  if (services === null || services.length == 0) return NO_SERVICE;
  const first = services.at(0)!;
  if (first.type != JsonType.Object) return NO_SERVICE;
  const s = new ServiceInfo();
  s.host = text(first, "host");
  s.name = text(first, "name");
  s.namespace = text(first, "namespace");
  return s;
}
