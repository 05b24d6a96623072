// A proxy-wasm module that does nothing, in WAT: it exports what an SDK module that handles no
// event exports per stream (context create and delete; the build leaves the event callbacks out,
// host/optimize/unused-callbacks.ts) and makes no host call. The bench measures it where the host's
// own cost must be separated from a module's: the emulator baseline (emulated.ts) and the
// throughput run's "no-op filters" (proxy-throughput.ts), whose cost is the per-filter plumbing
// that no SDK or filter can go below.
export const noopPluginWat = `(module
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "malloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap)) (global.set $heap (i32.add (local.get $p) (local.get $n))) (local.get $p))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))`;
