// Scaffolds packages/NAME with the files every package carries.
// usage: node tooling/scripts/new-package.mjs NAME "description" [dep ...]
import { mkdirSync, writeFileSync, existsSync } from "node:fs"
import { join } from "node:path"

const [name, description, ...deps] = process.argv.slice(2)
if (!name || !description) {
  console.error("usage: new-package.mjs NAME DESCRIPTION [DEP ...]")
  process.exit(2)
}
const dir = join("packages", name)
if (existsSync(dir)) {
  console.error(`${dir} exists`)
  process.exit(1)
}
mkdirSync(join(dir, "src"), { recursive: true })
mkdirSync(join(dir, "test"), { recursive: true })
mkdirSync(join(dir, "bench"), { recursive: true })
const dependencies = { effect: "4.1.0" }
const devDependencies = { "@simkernel/bench": "workspace:*" }
for (const d of deps) dependencies[`@simkernel/${d}`] = "workspace:^"
const pkg = {
  name: `@simkernel/${name}`,
  version: "0.0.0",
  description,
  license: "MIT",
  type: "module",
  sideEffects: false,
  exports: { ".": { types: "./dist/index.d.ts", import: "./dist/index.js" } },
  files: ["dist", "src", "README.md", "CHANGELOG.md", "LICENSE"],
  publishConfig: { access: "public" },
  repository: { type: "git", url: "simkernel", directory: dir },
  scripts: {
    build: "tsc -b",
    typecheck: "tsc -b tsconfig.test.json",
    test: "vitest run"
  },
  dependencies,
  devDependencies
}
const json = (v) => JSON.stringify(v, null, 2) + "\n"
writeFileSync(join(dir, "package.json"), json(pkg))
writeFileSync(
  join(dir, "tsconfig.json"),
  json({
    extends: "../../tsconfig.base.json",
    compilerOptions: { rootDir: "src", outDir: "dist", tsBuildInfoFile: "dist/.tsbuildinfo" },
    include: ["src"],
    references: deps.map((d) => ({ path: `../${d}` }))
  })
)
writeFileSync(
  join(dir, "tsconfig.test.json"),
  json({
    extends: "../../tsconfig.base.json",
    compilerOptions: { noEmit: true, composite: false, incremental: false, declaration: false, declarationMap: false, rootDir: "." },
    include: ["test"],
    references: [{ path: "." }]
  })
)
writeFileSync(
  join(dir, "tsconfig.bench.json"),
  json({
    extends: "../../tsconfig.base.json",
    compilerOptions: { rootDir: "bench", outDir: "dist-bench", tsBuildInfoFile: "dist-bench/.tsbuildinfo" },
    include: ["bench"],
    references: [{ path: "." }, { path: "../../tooling/bench" }]
  })
)
writeFileSync(
  join(dir, "vitest.config.ts"),
  `import { project } from "../../tooling/vitest/preset.mjs"\n\nexport default project("${name}")\n`
)
writeFileSync(join(dir, "LICENSE"), (await import("node:fs")).readFileSync("LICENSE", "utf8"))
console.log(`created ${dir}`)
