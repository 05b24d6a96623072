// The ABI callbacks Envoy calls, for proxy-runtime filters: `export * from` this module in the
// filter's entry file, as `@solo-io/proxy-runtime/proxy` was. They are the SDK's own exports
// (proxy_abi_version_0_2_1, malloc, proxy_on_*): the proxy-runtime contexts are driven through them.
export * from "../exports";
