// Entry of the rate-limit filter (filters/rate-limit/README.md): a local token-bucket rate limiter
// whose buckets are shared by every worker VM through proxy-wasm shared data.
export * from "proxy-wasm-as/assembly/exports";
import { RootContext, registerRootContext } from "proxy-wasm-as";
import { RateLimitRoot } from "./filter";

registerRootContext((contextId: u32): RootContext => new RateLimitRoot());
