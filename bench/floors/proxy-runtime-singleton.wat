;; The floor for the per-request plugin of filters/examples/proxy-runtime-singleton (root id auth,
;; vm_id my_vm_id) under bench/lifecycle.ts's host, once its singleton (root id auth_singleton, in
;; its own VM) has registered the queue auth_requests and stored the token in shared data, and the
;; plugin's one-second tick has picked the token up; every request carries it in x-auth. The
;; filter's host calls per request, in the same callbacks and order, with no SDK around them.
;;   request headers: proxy_get_header_map_value(HttpRequestHeaders, ":path"), then "x-auth"; it
;;                    equals the token, so: proxy_resolve_shared_queue("", "auth_requests") on the
;;                    first request only (the token is kept), then
;;                    proxy_enqueue_shared_queue(queue, "allowed <path>"), and Continue
;; At configure the plugin sets a 1000 ms tick; the tick reads shared data "auth_token".
(module
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick_period (param i32) (result i32)))
  (import "env" "proxy_get_shared_data" (func $get_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_resolve_shared_queue" (func $resolve_queue (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_enqueue_shared_queue" (func $enqueue (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "auth_token")      ;; 10 bytes at 16
  (data (i32.const 32) ":path")           ;; 5 bytes at 32
  (data (i32.const 48) "x-auth")          ;; 6 bytes at 48
  (data (i32.const 64) "auth_requests")   ;; 13 bytes at 64
  (data (i32.const 80) "allowed ")        ;; 8 bytes at 80
  ;; Out-params: value address at 1024, size at 1028, CAS / queue token at 1032.
  ;; The report "allowed <path>" is built at 2048. Host-returned data goes to a bump arena from
  ;; $arena, emptied when a stream is deleted; the token read by the tick stays below it.
  (global $heap (mut i32) (i32.const 4096))
  (global $arena (mut i32) (i32.const 4096))
  (global $token (mut i32) (i32.const 0))
  (global $token_size (mut i32) (i32.const 0))
  (global $queue (mut i32) (i32.const 0))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  ;; 1 if the `size` bytes at `a` and at `b` are the same.
  (func $equal (param $a i32) (param $b i32) (param $size i32) (result i32)
    (local $i i32)
    (loop $next
      (if (i32.eq (local.get $i) (local.get $size)) (then (return (i32.const 1))))
      (if (i32.ne (i32.load8_u (i32.add (local.get $a) (local.get $i))) (i32.load8_u (i32.add (local.get $b) (local.get $i))))
        (then (return (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))
    (i32.const 0))
  (func (export "_initialize"))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $tick_period (i32.const 1000)))
    (i32.const 1))
  (func (export "proxy_on_tick") (param i32)
    (if (i32.eqz (call $get_shared (i32.const 16) (i32.const 10) (i32.const 1024) (i32.const 1028) (i32.const 1032)))
      (then
        (if (i32.load (i32.const 1028))
          (then
            (global.set $token (i32.load (i32.const 1024)))
            (global.set $token_size (i32.load (i32.const 1028)))))))
    (global.set $arena (global.get $heap)))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (local $path i32) (local $path_size i32)
    (drop (call $get (i32.const 0) (i32.const 32) (i32.const 5) (i32.const 1024) (i32.const 1028)))
    (local.set $path (i32.load (i32.const 1024)))
    (local.set $path_size (i32.load (i32.const 1028)))
    ;; The bench's requests carry the token: a denied request (and its 401 reply) is not part of the floor.
    (if (i32.or (i32.eqz (global.get $token_size))
                (call $get (i32.const 0) (i32.const 48) (i32.const 6) (i32.const 1024) (i32.const 1028)))
      (then unreachable))
    (if (i32.or (i32.ne (i32.load (i32.const 1028)) (global.get $token_size))
                (i32.eqz (call $equal (i32.load (i32.const 1024)) (global.get $token) (global.get $token_size))))
      (then unreachable))
    ;; Until the singleton has registered the queue, reports are dropped.
    (if (i32.eqz (global.get $queue))
      (then
        (if (call $resolve_queue (i32.const 0) (i32.const 0) (i32.const 64) (i32.const 13) (i32.const 1032))
          (then (return (i32.const 0))))
        (global.set $queue (i32.load (i32.const 1032)))))
    (memory.copy (i32.const 2048) (i32.const 80) (i32.const 8))
    (memory.copy (i32.const 2056) (local.get $path) (local.get $path_size))
    (drop (call $enqueue (global.get $queue) (i32.const 2048) (i32.add (i32.const 8) (local.get $path_size))))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)
    (global.set $heap (global.get $arena))))
