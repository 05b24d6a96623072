;; The floor for filters/examples/proxy-runtime-remove-headers under bench/lifecycle.ts's host (root
;; id remove_headers, configuration "x-envoy-,server", responses carrying server and
;; x-envoy-upstream-service-time): the filter's host calls per request, in the same callbacks and
;; order, with no SDK around them.
;;   response headers: proxy_get_header_map_pairs(HttpResponseHeaders), then for each pair whose
;;                     name starts with "x-envoy-" or "server": proxy_remove_header_map_value(name),
;;                     and, before the first one's debug log, proxy_get_log_level (once per callback)
;; The prefixes are the configuration split at configure time; the names are passed to the remove
;; call straight from the pairs buffer the host returned (proxy-wasm-abi.md §5.1), nothing copied.
(module
  (import "env" "proxy_get_header_map_pairs" (func $pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_remove_header_map_value" (func $remove (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_log_level" (func $log_level (param i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "x-envoy-")   ;; 8 bytes at 16
  (data (i32.const 32) "server")     ;; 6 bytes at 32
  ;; Out-params: pairs address at 1024, size at 1028, log level at 1032.
  ;; Host-returned data goes to a bump arena from 4096, emptied when the stream is deleted.
  (global $heap (mut i32) (i32.const 4096))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  ;; 1 if the `size` bytes at `p` start with the `prefix_size` bytes at `prefix`.
  (func $starts_with (param $p i32) (param $size i32) (param $prefix i32) (param $prefix_size i32) (result i32)
    (local $i i32)
    (if (i32.lt_u (local.get $size) (local.get $prefix_size)) (then (return (i32.const 0))))
    (block $differs
      (loop $next
        (if (i32.eq (local.get $i) (local.get $prefix_size)) (then (return (i32.const 1))))
        (br_if $differs (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $i)))
                                (i32.load8_u (i32.add (local.get $prefix) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0))
  (func (export "_initialize"))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    (local $n i32) (local $i i32) (local $sizes i32) (local $name i32) (local $name_size i32) (local $level_read i32)
    (drop (call $pairs (i32.const 2) (i32.const 1024) (i32.const 1028)))
    (if (i32.eqz (i32.load (i32.const 1028))) (then (return (i32.const 0))))
    (local.set $sizes (i32.add (i32.load (i32.const 1024)) (i32.const 4)))
    (local.set $n (i32.load (i32.load (i32.const 1024))))
    (local.set $name (i32.add (local.get $sizes) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $pair
        (br_if $done (i32.eq (local.get $i) (local.get $n)))
        (local.set $name_size (i32.load (local.get $sizes)))
        (if (i32.or (call $starts_with (local.get $name) (local.get $name_size) (i32.const 16) (i32.const 8))
                    (call $starts_with (local.get $name) (local.get $name_size) (i32.const 32) (i32.const 6)))
          (then
            (drop (call $remove (i32.const 2) (local.get $name) (local.get $name_size)))
            (if (i32.eqz (local.get $level_read))
              (then
                (drop (call $log_level (i32.const 1032)))
                (local.set $level_read (i32.const 1))))
            ;; The bench's host is at info: a debug log would need its message built here.
            (if (i32.le_u (i32.load (i32.const 1032)) (i32.const 1)) (then unreachable))))
        ;; The next name: past this name, its value and their two NUL terminators.
        (local.set $name (i32.add (local.get $name)
          (i32.add (i32.add (local.get $name_size) (i32.load offset=4 (local.get $sizes))) (i32.const 2))))
        (local.set $sizes (i32.add (local.get $sizes) (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $pair)))
    (i32.const 0))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)
    (global.set $heap (i32.const 4096))))
