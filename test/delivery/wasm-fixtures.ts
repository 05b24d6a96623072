// Hand-assembled modules for the delivery tests (no compiler needed).

/** The smallest module Envoy would accept the ABI of: one empty function exported under `marker`. */
export function markerOnlyModule(marker = "proxy_abi_version_0_2_1"): Buffer {
  const name = Buffer.from(marker);
  const exportSection = Buffer.concat([Buffer.from([1, name.length]), name, Buffer.from([0, 0])]);
  return Buffer.concat([
    Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
    Buffer.from([1, 4, 1, 0x60, 0, 0]), // type section: () -> ()
    Buffer.from([3, 2, 1, 0]), // function section
    Buffer.from([7, exportSection.length]),
    exportSection,
    Buffer.from([0x0a, 4, 1, 2, 0, 0x0b]), // code section: empty body
  ]);
}
