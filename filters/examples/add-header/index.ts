export * from "proxy-wasm-as/assembly/exports";
import { sdkHello } from "proxy-wasm-as";
export function x(): i32 { return sdkHello(); }
