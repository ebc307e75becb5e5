// Rebuilds ../codemirror.bundle.js and ../codemirror.LICENSE from the pinned packages of
// package-lock.json:   cd playground/static/build && npm ci && npm run build
// The output is committed, so neither the page nor the tests need node; the page loads nothing
// from anywhere else. tests/playground/test_static.py checks the bundle's sha256.
import { build } from "esbuild";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, "..", "codemirror.bundle.js");

const result = await build({
  entryPoints: [join(here, "editor-entry.mjs")],
  bundle: true,
  format: "iife",
  globalName: "CM",
  minify: true,
  target: ["es2020"],
  legalComments: "none",
  metafile: true,
  write: false,
});
writeFileSync(output, result.outputFiles[0].contents);

// Every package that contributed code to the bundle, with its version and licence text.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (match) { packages.set(match[1], join(here, "node_modules", match[1])); }
}
const sections = [...packages.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, dir]) => {
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = ["LICENSE", "LICENSE.md", "LICENSE.txt"].map((f) => join(dir, f)).find(existsSync);
  if (!file) { throw new Error(`${name} ships no licence file`); }
  return `${name}@${meta.version} (${meta.license})\n\n${readFileSync(file, "utf8").trim()}\n`;
});
const header = "codemirror.bundle.js bundles these packages; each is used under the licence below.\n";
writeFileSync(join(here, "..", "codemirror.LICENSE"), [header, ...sections].join("\n" + "-".repeat(72) + "\n\n"));
console.log(`wrote ${output} (${result.outputFiles[0].contents.length} bytes) from ${packages.size} packages`);
