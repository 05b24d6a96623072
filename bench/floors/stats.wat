;; The floor for filters/stats under bench/lifecycle.ts's host, with the throughput run's
;; configuration ({}: Istio's standard metrics, reporter from the listener direction): the filter's
;; host calls per request, in the same callbacks and order, with no SDK, no label computation and
;; no expression evaluation around them.
;;   log: proxy_get_property of the label sources (xds.listener_direction, upstream_peer,
;;        xds.upstream_host_metadata, upstream.uri_san_local/peer_certificate, xds.cluster_name),
;;        :authority, xds.route_name, content-type, response.code, response.flags; then
;;        - first stream: the label tuple is new: proxy_define_metric of istio_requests_total and the
;;          three histograms with their tags, then the cache-miss counter (defined on first use) +1;
;;        - later streams: a cache hit, counted in batches of 100 as Istio's plugin did (the hit
;;          counter is defined on the first batch);
;;        then istio_requests_total +1, and each histogram recorded after reading its measure:
;;        request.duration (whole ms), request.total_size, response.total_size.
;; The host returns the same labels for every stream (NotFound for the peer and xds attributes), so
;; the floor knows the one tuple's metric names: they are the filter's tag encoding
;; ("<tag>=.=<value>;.;" ... "<metric>") of those labels. At configure, as the filter, it publishes
;; the istio_build gauge (defined first, so metric ids come out the same).
(module
  (import "env" "proxy_get_property" (func $property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_define_metric" (func $define (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $increment (param i32 i64) (result i32)))
  (import "env" "proxy_record_metric" (func $record (param i32 i64) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "xds\00listener_direction")                   ;; 22 bytes at 16
  (data (i32.const 48) "upstream_peer")                              ;; 13 bytes at 48
  (data (i32.const 64) "xds\00upstream_host_metadata")               ;; 26 bytes at 64
  (data (i32.const 96) "upstream\00uri_san_local_certificate")       ;; 34 bytes at 96
  (data (i32.const 144) "upstream\00uri_san_peer_certificate")       ;; 33 bytes at 144
  (data (i32.const 192) "xds\00cluster_name")                        ;; 16 bytes at 192
  (data (i32.const 208) ":authority")                                ;; 10 bytes at 208
  (data (i32.const 224) "xds\00route_name")                          ;; 14 bytes at 224
  (data (i32.const 240) "content-type")                              ;; 12 bytes at 240
  (data (i32.const 256) "response\00code")                           ;; 13 bytes at 256
  (data (i32.const 272) "response\00flags")                          ;; 14 bytes at 272
  (data (i32.const 288) "request\00duration")                        ;; 16 bytes at 288
  (data (i32.const 304) "request\00total_size")                      ;; 18 bytes at 304
  (data (i32.const 336) "response\00total_size")                     ;; 19 bytes at 336
  (data (i32.const 368) "component.proxy.tag.unknown;.istio_build")  ;; 40 bytes at 368
  (data (i32.const 416) "wasm_filter.stats_filter.cache.miss.metric_cache_count") ;; 54 bytes at 416
  (data (i32.const 480) "wasm_filter.stats_filter.cache.hit.metric_cache_count")  ;; 53 bytes at 480
  (data (i32.const 544) "istio_requests_total")                      ;; 20 bytes at 544
  (data (i32.const 576) "istio_request_duration_milliseconds")       ;; 35 bytes at 576
  (data (i32.const 624) "istio_request_bytes")                       ;; 19 bytes at 624
  (data (i32.const 656) "istio_response_bytes")                      ;; 20 bytes at 656
  ;; The tags of the one label tuple (805 bytes at 2048); a metric's name is built by putting its
  ;; own name right after them.
  (data (i32.const 2048) "reporter=.=source;.;source_workload=.=unknown;.;source_workload_namespace=.=unknown;.;source_principal=.=unknown;.;source_app=.=unknown;.;source_version=.=unknown;.;source_canonical_service=.=unknown;.;source_canonical_revision=.=latest;.;source_cluster=.=unknown;.;destination_workload=.=unknown;.;destination_workload_namespace=.=unknown;.;destination_principal=.=unknown;.;destination_app=.=unknown;.;destination_version=.=unknown;.;destination_service=.=example.com;.;destination_service_name=.=example.com;.;destination_service_namespace=.=unknown;.;destination_canonical_service=.=unknown;.;destination_canonical_revision=.=latest;.;destination_cluster=.=unknown;.;request_protocol=.=http;.;response_flags=.=-;.;connection_security_policy=.=unknown;.;response_code=.=200;.;grpc_response_status=.=;.;")
  ;; Out-params: value address at 1024, size at 1028, metric id at 1032.
  ;; Host-returned data goes to a bump arena from 4096, emptied when a stream is deleted.
  (global $heap (mut i32) (i32.const 4096))
  (global $requests (mut i32) (i32.const 0))
  (global $duration (mut i32) (i32.const 0))
  (global $request_bytes (mut i32) (i32.const 0))
  (global $response_bytes (mut i32) (i32.const 0))
  (global $miss (mut i32) (i32.const 0))
  (global $hit (mut i32) (i32.const 0))
  (global $pending_hits (mut i32) (i32.const 0))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func $define_metric (param $type i32) (param $name i32) (param $size i32) (result i32)
    (drop (call $define (local.get $type) (local.get $name) (local.get $size) (i32.const 1032)))
    (i32.load (i32.const 1032)))
  ;; The metric `name` with the tuple's tags.
  (func $define_tagged (param $type i32) (param $name i32) (param $size i32) (result i32)
    (memory.copy (i32.const 2853) (local.get $name) (local.get $size))
    (call $define_metric (local.get $type) (i32.const 2048) (i32.add (i32.const 805) (local.get $size))))
  (func $read_property (param $path i32) (param $size i32)
    (drop (call $property (local.get $path) (local.get $size) (i32.const 1024) (i32.const 1028))))
  ;; A histogram gets the int64 property at `path` divided by `divisor`, if the host has it.
  (func $record_measure (param $id i32) (param $path i32) (param $size i32) (param $divisor i64)
    (local $value i64)
    (if (call $property (local.get $path) (local.get $size) (i32.const 1024) (i32.const 1028)) (then (return)))
    (if (i32.ne (i32.load (i32.const 1028)) (i32.const 8)) (then (return)))
    (local.set $value (i64.load (i32.load (i32.const 1024))))
    (if (i64.lt_s (local.get $value) (i64.const 0)) (then (return)))
    (drop (call $record (local.get $id) (i64.div_s (local.get $value) (local.get $divisor)))))
  (func (export "_initialize"))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $record (call $define_metric (i32.const 1) (i32.const 368) (i32.const 40)) (i64.const 1)))
    (i32.const 1))
  (func (export "proxy_on_log") (param i32)
    (call $read_property (i32.const 16) (i32.const 22))
    (call $read_property (i32.const 48) (i32.const 13))
    (call $read_property (i32.const 64) (i32.const 26))
    (call $read_property (i32.const 96) (i32.const 34))
    (call $read_property (i32.const 144) (i32.const 33))
    (call $read_property (i32.const 192) (i32.const 16))
    (drop (call $get (i32.const 0) (i32.const 208) (i32.const 10) (i32.const 1024) (i32.const 1028)))
    (call $read_property (i32.const 224) (i32.const 14))
    (drop (call $get (i32.const 0) (i32.const 240) (i32.const 12) (i32.const 1024) (i32.const 1028)))
    (call $read_property (i32.const 256) (i32.const 13))
    (call $read_property (i32.const 272) (i32.const 14))
    (if (i32.eqz (global.get $requests))
      (then
        ;; A new label tuple (Counter 0, Histogram 2).
        (global.set $requests (call $define_tagged (i32.const 0) (i32.const 544) (i32.const 20)))
        (global.set $duration (call $define_tagged (i32.const 2) (i32.const 576) (i32.const 35)))
        (global.set $request_bytes (call $define_tagged (i32.const 2) (i32.const 624) (i32.const 19)))
        (global.set $response_bytes (call $define_tagged (i32.const 2) (i32.const 656) (i32.const 20)))
        (if (i32.eqz (global.get $miss)) (then (global.set $miss (call $define_metric (i32.const 0) (i32.const 416) (i32.const 54)))))
        (drop (call $increment (global.get $miss) (i64.const 1))))
      (else
        (global.set $pending_hits (i32.add (global.get $pending_hits) (i32.const 1)))
        (if (i32.eq (global.get $pending_hits) (i32.const 100))
          (then
            (if (i32.eqz (global.get $hit)) (then (global.set $hit (call $define_metric (i32.const 0) (i32.const 480) (i32.const 53)))))
            (drop (call $increment (global.get $hit) (i64.const 100)))
            (global.set $pending_hits (i32.const 0))))))
    (drop (call $increment (global.get $requests) (i64.const 1)))
    (call $record_measure (global.get $duration) (i32.const 288) (i32.const 16) (i64.const 1000000))
    (call $record_measure (global.get $request_bytes) (i32.const 304) (i32.const 18) (i64.const 1))
    (call $record_measure (global.get $response_bytes) (i32.const 336) (i32.const 19) (i64.const 1)))
  (func (export "proxy_on_delete") (param i32)
    (global.set $heap (i32.const 4096))))
