// Istio-compatible HTTP metadata exchange (filters/metadata-exchange/README.md). Istio's filter
// registers no root id (filters.md §1.5): this root serves every plugin configuration of the VM.
export * from "proxy-wasm-as/assembly/exports";
import { RootContext, registerRootContext } from "proxy-wasm-as";
import { MetadataExchangeRoot } from "./filter";

registerRootContext((contextId: u32): RootContext => new MetadataExchangeRoot());
