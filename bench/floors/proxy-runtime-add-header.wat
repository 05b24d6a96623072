;; The floor for filters/examples/proxy-runtime-add-header under bench/lifecycle.ts's host (root id
;; add_header, no plugin configuration, so the header value is proxy-runtime's default "world!"):
;; the filter's host calls per request, in the same callbacks and order, with no SDK around them.
;;   response headers: proxy_add_header_map_value(HttpResponseHeaders, "hello", "world!")
;; The module reads plugin_root_id once per VM to pick its root context; that happens at VM start,
;; outside the timed lifecycle, and a floor with one root has nothing to pick.
(module
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "hello")    ;; 5 bytes at 16
  (data (i32.const 32) "world!")   ;; 6 bytes at 32
  ;; A bump allocator for the host's returned data (this filter reads nothing back).
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
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (drop (call $add (i32.const 2) (i32.const 16) (i32.const 5) (i32.const 32) (i32.const 6)))
    (i32.const 0))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
