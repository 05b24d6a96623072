;; The floor for filters/retry-headers under bench/lifecycle.ts's host (a plain client request
;; carrying none of the router's control headers): the filter's host calls per request, in the same
;; callbacks and order, with no SDK and no filter logic around them.
;;   request headers:  get each router control header of HttpRequestHeaders (x-envoy-retry-on,
;;                     x-envoy-retry-grpc-on, x-envoy-max-retries, ..., x-envoy-expected-rq-timeout-ms)
;;   response headers: get_property upstream.request_attempt_count
(module
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property" (func $property (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "x-envoy-retry-on")                              ;; 16 bytes at 16
  (data (i32.const 32) "x-envoy-retry-grpc-on")                         ;; 21 bytes at 32
  (data (i32.const 64) "x-envoy-max-retries")                           ;; 19 bytes at 64
  (data (i32.const 96) "x-envoy-retriable-status-codes")                ;; 30 bytes at 96
  (data (i32.const 128) "x-envoy-retriable-header-names")               ;; 30 bytes at 128
  (data (i32.const 160) "x-envoy-upstream-rq-timeout-ms")               ;; 30 bytes at 160
  (data (i32.const 192) "x-envoy-upstream-rq-per-try-timeout-ms")       ;; 38 bytes at 192
  (data (i32.const 240) "x-envoy-hedge-on-per-try-timeout")             ;; 32 bytes at 240
  (data (i32.const 272) "x-envoy-upstream-rq-timeout-alt-response")     ;; 40 bytes at 272
  (data (i32.const 320) "x-envoy-expected-rq-timeout-ms")               ;; 30 bytes at 320
  (data (i32.const 352) "upstream\00request_attempt_count")             ;; 30 bytes at 352
  ;; Out-params of the host calls: value address at 1024, size at 1028.
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
    (drop (call $get (i32.const 0) (i32.const 16) (i32.const 16) (i32.const 1024) (i32.const 1028)))
    (drop (call $get (i32.const 0) (i32.const 32) (i32.const 21) (i32.const 1024) (i32.const 1028)))
    (drop (call $get (i32.const 0) (i32.const 64) (i32.const 19) (i32.const 1024) (i32.const 1028)))
    (drop (call $get (i32.const 0) (i32.const 96) (i32.const 30) (i32.const 1024) (i32.const 1028)))
    (drop (call $get (i32.const 0) (i32.const 128) (i32.const 30) (i32.const 1024) (i32.const 1028)))
    (drop (call $get (i32.const 0) (i32.const 160) (i32.const 30) (i32.const 1024) (i32.const 1028)))
    (drop (call $get (i32.const 0) (i32.const 192) (i32.const 38) (i32.const 1024) (i32.const 1028)))
    (drop (call $get (i32.const 0) (i32.const 240) (i32.const 32) (i32.const 1024) (i32.const 1028)))
    (drop (call $get (i32.const 0) (i32.const 272) (i32.const 40) (i32.const 1024) (i32.const 1028)))
    (drop (call $get (i32.const 0) (i32.const 320) (i32.const 30) (i32.const 1024) (i32.const 1028)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $property (i32.const 352) (i32.const 30) (i32.const 1024) (i32.const 1028)))
    (i32.const 0))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
