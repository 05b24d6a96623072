;; The floor for filters/rate-limit under bench/lifecycle.ts's host, with the throughput run's
;; configuration (bench/setups.ts: one top-level token_bucket of 10^8 tokens, 10^8 per 1 s, which the
;; bench never drains): the filter's host calls per request, in the same callbacks and order, with
;; no SDK and no configuration parsing around them.
;;   request headers: proxy_increment_metric(enabled), clock_time_get(monotonic), then the bucket's
;;                    compare-and-swap: proxy_get_shared_data(key) and proxy_set_shared_data(key,
;;                    refilled level minus one token, cas), again on CasMismatch up to 20 reads;
;;                    then proxy_increment_metric(ok)
;; At configure, as the filter: the bucket's key is created full if missing (so requests only ever
;; make CAS-guarded writes) and the six counters of <stat_prefix>.http_local_rate_limit are defined.
;; The bucket is filters/rate-limit's 24-byte slot (bucket-slot.ts: owner u64, level i64, time i64)
;; in its exact units (token-bucket.ts): for this bucket gcd(1 s, 10^8) = 10^8, so a token is 10
;; level units, the bucket refills 1 unit per ns and holds 10^9 units. The key is the filter's
;; "rl:<plugin name>:<descriptor>:<bucket fingerprint>:<slot>" for plugin rate-limit.
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "env" "proxy_get_shared_data" (func $get_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $set_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_define_metric" (func $define (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $increment (param i32 i64) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "rl:rate-limit:default:1803994499:0")                            ;; 34 bytes at 16
  (data (i32.const 64) "http_local_rate_limiter.http_local_rate_limit.enabled")         ;; 53 bytes at 64
  (data (i32.const 128) "http_local_rate_limiter.http_local_rate_limit.ok")             ;; 48 bytes at 128
  (data (i32.const 192) "http_local_rate_limiter.http_local_rate_limit.rate_limited")   ;; 58 bytes at 192
  (data (i32.const 256) "http_local_rate_limiter.http_local_rate_limit.enforced")       ;; 54 bytes at 256
  (data (i32.const 320) "http_local_rate_limiter.http_local_rate_limit.cas_exhausted")  ;; 59 bytes at 320
  (data (i32.const 384) "http_local_rate_limiter.http_local_rate_limit.descriptor_overflow") ;; 65 bytes at 384
  ;; Out-params: value address at 1024, size at 1028, CAS / metric id at 1032, time at 1040.
  ;; The slot to write is built at 1056 (24 bytes). Host-returned data goes to a bump arena from
  ;; 4096, emptied when a stream is deleted.
  (global $heap (mut i32) (i32.const 4096))
  (global $unit i64 (i64.const 10))
  (global $refill_per_ns i64 (i64.const 1))
  (global $capacity i64 (i64.const 1000000000))
  (global $max_attempts i32 (i32.const 20))
  ;; The owner of the one bucket of a rule whose key is constant (filter.ts CONSTANT_OWNER).
  (global $owner i64 (i64.const 1))
  (global $enabled (mut i32) (i32.const 0))
  (global $ok (mut i32) (i32.const 0))
  (global $cas_exhausted (mut i32) (i32.const 0))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func $counter (param $name i32) (param $size i32) (result i32)
    (drop (call $define (i32.const 0) (local.get $name) (local.get $size) (i32.const 1032)))
    (i32.load (i32.const 1032)))
  ;; token-bucket.ts refill: the level after `elapsed` ns, capped at the capacity.
  (func $refill (param $level i64) (param $elapsed i64) (result i64)
    (if (i64.ge_s (local.get $level) (global.get $capacity)) (then (return (global.get $capacity))))
    (if (i64.le_s (local.get $elapsed) (i64.const 0)) (then (return (local.get $level))))
    (if (i64.ge_s (local.get $elapsed)
                  (i64.div_s (i64.add (i64.sub (global.get $capacity) (local.get $level)) (i64.sub (global.get $refill_per_ns) (i64.const 1)))
                             (global.get $refill_per_ns)))
      (then (return (global.get $capacity))))
    (i64.add (local.get $level) (i64.mul (local.get $elapsed) (global.get $refill_per_ns))))
  (func (export "_initialize"))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (if (i32.eq (call $get_shared (i32.const 16) (i32.const 34) (i32.const 1024) (i32.const 1028) (i32.const 1032)) (i32.const 1))
      (then
        ;; A never-used slot holding a full bucket: owner 0, level = capacity, time 0.
        (i64.store (i32.const 1056) (i64.const 0))
        (i64.store (i32.const 1064) (global.get $capacity))
        (i64.store (i32.const 1072) (i64.const 0))
        (if (call $set_shared (i32.const 16) (i32.const 34) (i32.const 1056) (i32.const 24) (i32.const 0))
          (then (return (i32.const 0))))))
    (global.set $heap (i32.const 4096))
    (global.set $enabled (call $counter (i32.const 64) (i32.const 53)))
    (global.set $ok (call $counter (i32.const 128) (i32.const 48)))
    (drop (call $counter (i32.const 192) (i32.const 58)))
    (drop (call $counter (i32.const 256) (i32.const 54)))
    (global.set $cas_exhausted (call $counter (i32.const 320) (i32.const 59)))
    (drop (call $counter (i32.const 384) (i32.const 65)))
    (i32.const 1))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (local $now i64) (local $attempt i32) (local $cas i32) (local $slot i32)
    (local $stored_owner i64) (local $level i64) (local $last i64) (local $result i32)
    (drop (call $increment (global.get $enabled) (i64.const 1)))
    (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 1040)))
    (local.set $now (i64.load (i32.const 1040)))
    (block $written
      (loop $attempt
        (if (i32.eq (local.get $attempt) (global.get $max_attempts))
          (then
            ;; cas_exhausted; failure_mode_deny is off, so the request counts as ok and goes on.
            (drop (call $increment (global.get $cas_exhausted) (i64.const 1)))
            (br $written)))
        (local.set $attempt (i32.add (local.get $attempt) (i32.const 1)))
        (if (call $get_shared (i32.const 16) (i32.const 34) (i32.const 1024) (i32.const 1028) (i32.const 1032))
          (then
            ;; Missing (bucket-slot.ts decode): a never-used full slot, written with CAS 0.
            (local.set $stored_owner (i64.const 0))
            (local.set $level (global.get $capacity))
            (local.set $last (i64.const 0))
            (local.set $cas (i32.const 0)))
          (else
            (local.set $slot (i32.load (i32.const 1024)))
            (local.set $stored_owner (i64.load (local.get $slot)))
            (local.set $level (i64.load offset=8 (local.get $slot)))
            (local.set $last (i64.load offset=16 (local.get $slot)))
            (local.set $cas (i32.load (i32.const 1032)))))
        (local.set $level (call $refill (local.get $level) (i64.sub (local.get $now) (local.get $last))))
        (if (i64.ne (local.get $stored_owner) (global.get $owner))
          (then
            ;; Another owner's bucket that is not full cannot be claimed: never here, the key is ours.
            (if (i32.and (i64.ne (local.get $stored_owner) (i64.const 0)) (i64.lt_s (local.get $level) (global.get $capacity)))
              (then unreachable))
            ;; Claimed: a full bucket, from now.
            (local.set $level (global.get $capacity))
            (local.set $last (local.get $now)))
          (else
            ;; An empty bucket (a 429 local reply) is not part of the floor: the bench never drains it.
            (if (i64.lt_s (local.get $level) (global.get $unit)) (then unreachable))
            (if (i64.gt_s (local.get $now) (local.get $last)) (then (local.set $last (local.get $now))))))
        (i64.store (i32.const 1056) (global.get $owner))
        (i64.store (i32.const 1064) (i64.sub (local.get $level) (global.get $unit)))
        (i64.store (i32.const 1072) (local.get $last))
        (local.set $result (call $set_shared (i32.const 16) (i32.const 34) (i32.const 1056) (i32.const 24) (local.get $cas)))
        ;; Lost to another worker (CasMismatch, 8): read again.
        (br_if $attempt (i32.eq (local.get $result) (i32.const 8)))
        ;; Refused by the host: no bucket answer, counted as cas_exhausted like running out of reads.
        (if (local.get $result) (then (drop (call $increment (global.get $cas_exhausted) (i64.const 1)))))))
    (drop (call $increment (global.get $ok) (i64.const 1)))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_delete") (param i32)
    (global.set $heap (i32.const 4096))))
