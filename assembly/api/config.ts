// Plugin and VM configuration (proxy-wasm-abi.md §4.2, §5.4): the bytes Envoy derives from
// PluginConfig.configuration / VmConfig.configuration (a StringValue gives its text, BytesValue its
// bytes). The plugin configuration is only readable inside onConfigure (NotFound elsewhere); the VM
// configuration at any time. Parse JSON configurations with parseJson (codec/json.ts).
import { BufferType } from "../abi/enums";
import { getBufferBytes, getBufferString } from "./buffers";

/** Bytes of the plugin configuration; null outside onConfigure. Empty if none was configured. */
export function getPluginConfiguration(): ArrayBuffer | null {
  return getBufferBytes(BufferType.PluginConfiguration);
}

/** The plugin configuration as UTF-8 text; null outside onConfigure. */
export function getPluginConfigurationString(): string | null {
  return getBufferString(BufferType.PluginConfiguration);
}

/** Bytes of the VM configuration (vm_config.configuration). */
export function getVmConfiguration(): ArrayBuffer | null {
  return getBufferBytes(BufferType.VmConfiguration);
}

export function getVmConfigurationString(): string | null {
  return getBufferString(BufferType.VmConfiguration);
}
