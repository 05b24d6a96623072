import { sdkHello } from "./index";
export function proxy_abi_version_0_2_1(): void {}
export function proxy_on_tick(id: u32): void { sdkHello(); }
