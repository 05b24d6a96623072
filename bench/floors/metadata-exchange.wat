;; The floor for filters/metadata-exchange under bench/lifecycle.ts's host (no peer headers on the
;; request or the response, properties NotFound): the filter's host calls per request, in the same
;; callbacks and order, with no SDK and no filter logic around them.
;;   request headers:  get x-envoy-peer-metadata-id, get x-envoy-peer-metadata (HttpRequestHeaders),
;;                     get_property xds.listener_direction, then the legacy listener_direction
;;   response headers: get x-envoy-peer-metadata-id, get x-envoy-peer-metadata (HttpResponseHeaders)
;; Values found would be copied into memory from malloc; the lifecycle host finds none here.
(module
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property" (func $property (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "x-envoy-peer-metadata-id")     ;; 24 bytes at 16
  (data (i32.const 48) "x-envoy-peer-metadata")        ;; 21 bytes at 48
  (data (i32.const 80) "xds\00listener_direction")     ;; 22 bytes at 80
  (data (i32.const 112) "listener_direction")          ;; 18 bytes at 112
  ;; Out-params of the host calls: value address at 512, size at 516.
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
    (drop (call $get (i32.const 0) (i32.const 16) (i32.const 24) (i32.const 512) (i32.const 516)))
    (drop (call $get (i32.const 0) (i32.const 48) (i32.const 21) (i32.const 512) (i32.const 516)))
    (drop (call $property (i32.const 80) (i32.const 22) (i32.const 512) (i32.const 516)))
    (drop (call $property (i32.const 112) (i32.const 18) (i32.const 512) (i32.const 516)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $get (i32.const 2) (i32.const 16) (i32.const 24) (i32.const 512) (i32.const 516)))
    (drop (call $get (i32.const 2) (i32.const 48) (i32.const 21) (i32.const 512) (i32.const 516)))
    (i32.const 0))
  (func (export "proxy_on_delete") (param i32)))
