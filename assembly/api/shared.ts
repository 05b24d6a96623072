// Shared data and shared queues (proxy-wasm-abi.md §2.8): process-wide, scoped by vm_id, shared by
// every worker's VM. Istio's WasmPlugins get an empty vm_id, so all of them share one namespace:
// prefix keys with the plugin name (filters.md §0).
import {
  proxy_dequeue_shared_queue, proxy_enqueue_shared_queue, proxy_get_shared_data, proxy_register_shared_queue,
  proxy_resolve_shared_queue, proxy_set_shared_data,
} from "../abi/imports";
import { WasmResult } from "../abi/enums";
import {
  OUT_PTR, OUT_SIZE, OUT_VALUE, clearOut, encodeArg, encodedSize, maxUtf8, putUtf8, reserveScratch, takeBytes,
} from "../runtime/memory";
import { lastWasmResult, setLastResult } from "../runtime/state";

export class SharedData {
  constructor(public value: ArrayBuffer, public cas: u32) {}
}

/** Value and CAS of `key`; null if absent (NotFound) — there is no delete in the ABI. */
export function getSharedData(key: string): SharedData | null {
  const k = encodeArg(key);
  clearOut();
  if (setLastResult(proxy_get_shared_data(k, encodedSize, OUT_PTR, OUT_SIZE, OUT_VALUE)) != WasmResult.Ok) return null;
  const cas = load<u32>(OUT_VALUE);
  return new SharedData(takeBytes(), cas);
}

/**
 * Stores `value` under `key`. With `cas` from getSharedData the write only succeeds if nobody wrote
 * since (else CasMismatch); `cas` 0 writes unconditionally. A key that does not exist yet is
 * written whatever the cas, so two workers creating it at once both succeed (last one wins).
 */
export function setSharedData(key: string, value: ArrayBuffer, cas: u32 = 0): WasmResult {
  const k = encodeArg(key);
  return proxy_set_shared_data(k, encodedSize, changetype<usize>(value), value.byteLength, cas);
}

/** The step of updateSharedData: computes the new value from the current one. */
export interface SharedDataUpdate {
  /** `current` is null if the key does not exist. Return null to leave the value unchanged and stop. */
  update(current: ArrayBuffer | null): ArrayBuffer | null;
}

/**
 * Read-modify-write with compare-and-swap, retried while another worker wins the race (Istio's
 * local rate limiter pattern). Returns Ok when written or when `update` declined (returned null),
 * CasMismatch when every attempt lost, or the host's error.
 */
export function updateSharedData(key: string, update: SharedDataUpdate, maxAttempts: i32 = 8): WasmResult {
  let result = WasmResult.CasMismatch;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const current = getSharedData(key);
    if (current === null && lastWasmResult() != WasmResult.NotFound) return lastWasmResult();
    const next = update.update(current === null ? null : current.value);
    if (next === null) return WasmResult.Ok;
    result = setSharedData(key, next, current === null ? 0 : current.cas);
    if (result != WasmResult.CasMismatch) return result;
  }
  return result;
}

/**
 * Registers (or re-registers) the queue `name` of this VM's vm_id; this plugin's root context then
 * receives onQueueReady for it (the latest registrant gets the notifications). Returns the token,
 * or 0.
 */
export function registerSharedQueue(name: string): u32 {
  const n = encodeArg(name);
  store<u32>(OUT_VALUE, 0);
  if (setLastResult(proxy_register_shared_queue(n, encodedSize, OUT_VALUE)) != WasmResult.Ok) return 0;
  return load<u32>(OUT_VALUE);
}

/** Token of the queue `name` registered by the VM `vmId` ("" = this VM's vm_id); 0 if none. */
export function resolveSharedQueue(vmId: string, name: string): u32 {
  const base = reserveScratch(maxUtf8(vmId) + maxUtf8(name));
  const vmIdSize = putUtf8(vmId, base);
  const nameSize = putUtf8(name, base + vmIdSize);
  store<u32>(OUT_VALUE, 0);
  const result = proxy_resolve_shared_queue(base, vmIdSize, base + vmIdSize, nameSize, OUT_VALUE);
  if (setLastResult(result) != WasmResult.Ok) return 0;
  return load<u32>(OUT_VALUE);
}

/** Appends an item and notifies the registrant; NotFound for an unknown token. */
export function enqueueSharedQueue(token: u32, data: ArrayBuffer): WasmResult {
  return proxy_enqueue_shared_queue(token, changetype<usize>(data), data.byteLength);
}

/** Takes the oldest item; null when the queue is empty (lastWasmResult: Empty) or unknown (NotFound). */
export function dequeueSharedQueue(token: u32): ArrayBuffer | null {
  clearOut();
  if (setLastResult(proxy_dequeue_shared_queue(token, OUT_PTR, OUT_SIZE)) != WasmResult.Ok) return null;
  return takeBytes();
}
