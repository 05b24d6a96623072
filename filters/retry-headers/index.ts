// retry-headers: per-route retry and timeout policy for Envoy's router, set as x-envoy-* request
// headers from a Wasm filter (README.md). Entry point: the ABI exports and the root registration.
export * from "proxy-wasm-as/assembly/exports";
import { RootContext, registerRootContext } from "proxy-wasm-as";
import { RetryHeadersRoot } from "./filter";

registerRootContext((contextId: u32): RootContext => new RetryHeadersRoot());
