/** dependency-cruiser: the test command fails on any import cycle in src/ (docs/architecture.md). */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Folders import one way only; a cycle means a seam is in the wrong place.",
      from: { path: "^src/" },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    // TypeScript 7 publishes no compiler API yet: swc parses the sources.
    parser: "swc",
    tsConfig: { fileName: "tsconfig.json" },
  },
};
