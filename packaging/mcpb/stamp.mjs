// Writes the bundle's manifest with the build's version. MCPB versions are
// semver, git describe's are not always: v1.2.3 and v1.2.3-4-gabcdef
// become 1.2.3 and 1.2.3-4-gabcdef; a bare commit (no tag yet) becomes
// 0.0.0-<commit>.
//   node stamp.mjs VERSION IN OUT
import { readFileSync, writeFileSync } from "node:fs";

const [version, input, output] = process.argv.slice(2);
if (!version || !input || !output) {
  console.error("usage: node stamp.mjs VERSION IN OUT");
  process.exit(2);
}
const semver = /^v?\d+\.\d+\.\d+/.test(version)
  ? version.replace(/^v/, "")
  : `0.0.0-${version}`;
const manifest = JSON.parse(readFileSync(input, "utf8"));
manifest.version = semver;
writeFileSync(output, JSON.stringify(manifest, null, 2) + "\n");
