;; The floor for filters/examples/add-header: the host calls that filter makes per request, in the
;; same order, with no SDK around them. bench/lifecycle.ts runs both through one minimal host; the
;; difference is the SDK's per-request cost.
;;   request headers:  proxy_replace_header_map_value(HttpRequestHeaders, "x-wasm-filter", "add-header")
;;   response headers: proxy_add_header_map_value(HttpResponseHeaders, "x-powered-by", "proxy-wasm-as")
(module
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "x-wasm-filter")   ;; 13 bytes at 16
  (data (i32.const 32) "add-header")      ;; 10 bytes at 32
  (data (i32.const 48) "x-powered-by")    ;; 12 bytes at 48
  (data (i32.const 64) "proxy-wasm-as")   ;; 13 bytes at 64
  ;; A bump allocator for the host's returned data (the add-header filter reads nothing back).
  (global $heap (mut i32) (i32.const 1024))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "_initialize"))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $replace (i32.const 0) (i32.const 16) (i32.const 13) (i32.const 32) (i32.const 10)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $add (i32.const 2) (i32.const 48) (i32.const 12) (i32.const 64) (i32.const 13)))
    (i32.const 0))
  (func (export "proxy_on_delete") (param i32)))
