// pnpm hooks for this workspace.
//
// beforePacking: the package.json that goes into a tarball (pnpm pack / pnpm publish / changeset
// publish) loses its devDependencies on private workspace packages (@mmkit/test-support and any
// other `"private": true` package under apps/, packages/ or tools/): they are never published, so a
// consumer's tools would see a dependency that cannot be resolved.
const { existsSync, readdirSync, readFileSync } = require("node:fs");
const { join } = require("node:path");

function privateWorkspacePackages() {
  const names = new Set();
  for (const group of ["apps", "packages", "tools"]) {
    const groupDir = join(__dirname, group);
    if (!existsSync(groupDir)) continue;
    for (const entry of readdirSync(groupDir)) {
      const manifest = join(groupDir, entry, "package.json");
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, "utf8"));
      if (pkg.private === true && typeof pkg.name === "string") names.add(pkg.name);
    }
  }
  return names;
}

function beforePacking(pkg) {
  if (pkg.devDependencies) {
    const hidden = privateWorkspacePackages();
    for (const name of Object.keys(pkg.devDependencies)) {
      if (hidden.has(name)) delete pkg.devDependencies[name];
    }
    if (Object.keys(pkg.devDependencies).length === 0) delete pkg.devDependencies;
  }
  return pkg;
}

module.exports = { hooks: { beforePacking } };
