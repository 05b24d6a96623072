// Istio's standard HTTP metrics (istio_requests_total, istio_request_duration_milliseconds,
// istio_request_bytes, istio_response_bytes) as a proxy-wasm filter. See README.md.
export * from "proxy-wasm-as/assembly/exports";
import { RootContext, registerRootContext } from "proxy-wasm-as";
import { StatsRoot } from "./filter";

registerRootContext((contextId: u32): RootContext => new StatsRoot());
