;; The floor for filters/examples/proxy-runtime-auth under bench/lifecycle.ts's host (root id auth,
;; configuration "auth_service", a cluster that answers every callout with 200 and no body): the
;; filter's host calls per request, in the same callbacks and order, with no SDK around them.
;;   request headers:  proxy_get_header_map_pairs(HttpRequestHeaders), then proxy_http_call to
;;                     auth_service with those pairs as they came (1000 ms), and StopIteration
;;   callout response: proxy_set_effective_context(the stream), proxy_get_header_map_value
;;                     (HttpCallResponseHeaders, ":status"), proxy_get_buffer_bytes(HttpCallResponseBody),
;;                     proxy_get_log_level (for the debug log), then on "200":
;;                     proxy_add_header_map_value(HttpRequestHeaders, "added-header", "authorized")
;;                     and proxy_continue_stream(HttpRequest)
;;   response headers: proxy_add_header_map_value(HttpResponseHeaders, "hello", "wasm!")
;; The callout answer goes to the root context (proxy-wasm-abi.md §2.7), so the stream that made it
;; is remembered; the bench has one callout in flight at a time.
(module
  (import "env" "proxy_get_header_map_pairs" (func $pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_http_call" (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $effective_context (param i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_log_level" (func $log_level (param i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "auth_service")   ;; 12 bytes at 16
  (data (i32.const 32) ":status")        ;; 7 bytes at 32
  (data (i32.const 48) "added-header")   ;; 12 bytes at 48
  (data (i32.const 64) "authorized")     ;; 10 bytes at 64
  (data (i32.const 80) "hello")          ;; 5 bytes at 80
  (data (i32.const 96) "wasm!")          ;; 5 bytes at 96
  ;; Out-params: value address at 1024, size at 1028, callout token at 1032, log level at 1036.
  ;; Host-returned data goes to a bump arena from 4096, emptied when the stream is deleted.
  (global $heap (mut i32) (i32.const 4096))
  (global $calling_stream (mut i32) (i32.const 0))
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
  (func (export "proxy_on_request_headers") (param $id i32) (param i32 i32) (result i32)
    (drop (call $pairs (i32.const 0) (i32.const 1024) (i32.const 1028)))
    ;; The bench's cluster exists: a failed callout (a 500 local reply) is not part of the floor.
    (if (call $http_call (i32.const 16) (i32.const 12) (i32.load (i32.const 1024)) (i32.load (i32.const 1028))
                         (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 1032))
      (then unreachable))
    (global.set $calling_stream (local.get $id))
    (i32.const 1))
  (func (export "proxy_on_http_call_response") (param i32) (param $token i32) (param $headers i32) (param $body_size i32) (param i32)
    (local $status i32) (local $status_size i32)
    (drop (call $effective_context (global.get $calling_stream)))
    (drop (call $get (i32.const 6) (i32.const 32) (i32.const 7) (i32.const 1024) (i32.const 1028)))
    (local.set $status (i32.load (i32.const 1024)))
    (local.set $status_size (i32.load (i32.const 1028)))
    (drop (call $buffer (i32.const 4) (i32.const 0) (local.get $body_size) (i32.const 1024) (i32.const 1028)))
    (drop (call $log_level (i32.const 1036)))
    ;; The bench's host is at info (no debug log), and its auth service says 200 (no 401 reply).
    (if (i32.le_u (i32.load (i32.const 1036)) (i32.const 1)) (then unreachable))
    (if (i32.or (i32.ne (local.get $status_size) (i32.const 3))
                (i32.ne (i32.and (i32.load (local.get $status)) (i32.const 0xffffff)) (i32.const 0x303032))) ;; "200"
      (then unreachable))
    (drop (call $add (i32.const 0) (i32.const 48) (i32.const 12) (i32.const 64) (i32.const 10)))
    (drop (call $continue (i32.const 0))))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $add (i32.const 2) (i32.const 80) (i32.const 5) (i32.const 96) (i32.const 5)))
    (i32.const 0))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)
    (global.set $heap (i32.const 4096))))
