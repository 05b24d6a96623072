// as-pect runs the AssemblyScript unit tests of the SDK's pure code (codecs): `npm run test:as`.
// Specs live in assembly/__tests__/*.spec.ts; they compile with as-pect.asconfig.json, not the
// module asconfig.json (specs run under as-pect's own host, with its env.abort and runtime tracing).
export default {
  // Filters keep the specs of their pure helpers in filters/<name>/__tests__/.
  entries: ["assembly/__tests__/**/*.spec.ts", "filters/**/__tests__/**/*.spec.ts"],
  include: ["assembly/__tests__/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    return instantiate(binary, createImports({ env: { memory } }));
  },
  outputBinary: false,
};
