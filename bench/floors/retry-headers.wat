;; The floor for filters/retry-headers under bench/lifecycle.ts's host (a plain client request
;; carrying none of the router's control headers): the filter's host calls per request, in the same
;; callbacks and order, with no SDK and no filter logic around them.
;;   request headers:  get_header_map_pairs of HttpRequestHeaders (the filter looks for the router's
;;                     control headers, x-envoy-retry-on ... x-envoy-expected-rq-timeout-ms, in it)
;;   response headers: get_property upstream.request_attempt_count
(module
  (import "env" "proxy_get_header_map_pairs" (func $pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property" (func $property (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 352) "upstream\00request_attempt_count")             ;; 30 bytes at 352
  ;; Out-params of the host calls: value address at 1024, size at 1028. Returned blocks are bump-
  ;; allocated from 2048 and released all at once when the stream is deleted.
  (global $heap (mut i32) (i32.const 2048))
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
    (drop (call $pairs (i32.const 0) (i32.const 1024) (i32.const 1028)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $property (i32.const 352) (i32.const 30) (i32.const 1024) (i32.const 1028)))
    (i32.const 0))
  (func (export "proxy_on_delete") (param i32)
    (global.set $heap (i32.const 2048))))
