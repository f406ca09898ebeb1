// The consumer check: pack every published package, install the tarballs
// with npm into a scratch project outside the workspace, then compile and run
// each README's example there (the ```ts block after `<!-- example -->`; when
// a ```text block follows `<!-- output -->`, stdout must match it exactly).
// This proves each package works on its own, as a user installs it.
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../..")
const rootPkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
const pin = (name) => rootPkg.devDependencies[name]

const packages = []
for (const group of ["packages", "apps"]) {
  const dir = join(root, group)
  if (!existsSync(dir)) continue
  for (const name of readdirSync(dir).sort()) {
    const pkgDir = join(dir, name)
    const file = join(pkgDir, "package.json")
    if (!existsSync(file)) continue
    const pkg = JSON.parse(readFileSync(file, "utf8"))
    if (!pkg.private) packages.push({ dir: pkgDir, name: pkg.name, short: name })
  }
}

const extract = (readme, marker, lang) => {
  const at = readme.indexOf(marker)
  if (at < 0) return undefined
  const m = new RegExp("```" + lang + "\\n([\\s\\S]*?)\\n```").exec(readme.slice(at))
  return m ? m[1] + "\n" : undefined
}

const scratch = mkdtempSync(join(tmpdir(), "simkernel-consumer-"))
let passed = 0
let failed = 0
const fail = (what, detail) => {
  failed++
  console.log(`FAIL ${what}${detail ? `\n${detail}` : ""}`)
}
try {
  const tarballs = join(scratch, "tarballs")
  mkdirSync(tarballs)
  const deps = {}
  for (const p of packages) {
    const out = execFileSync("pnpm", ["pack", "--pack-destination", tarballs], { cwd: p.dir, encoding: "utf8" })
    const tgz = out.trim().split("\n").filter((l) => l.endsWith(".tgz")).pop()
    deps[p.name] = `file:${tgz.startsWith("/") ? tgz : join(tarballs, tgz)}`
  }
  writeFileSync(
    join(scratch, "package.json"),
    JSON.stringify(
      {
        name: "simkernel-consumer",
        private: true,
        type: "module",
        dependencies: { ...deps, typescript: pin("typescript"), "@types/node": pin("@types/node") },
        overrides: deps
      },
      null,
      2
    )
  )
  writeFileSync(
    join(scratch, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "es2022",
        module: "nodenext",
        moduleResolution: "nodenext",
        strict: true,
        skipLibCheck: true,
        types: ["node"],
        outDir: "out",
        rootDir: "examples"
      },
      include: ["examples"]
    })
  )
  const install = spawnSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: scratch,
    encoding: "utf8"
  })
  if (install.status !== 0) {
    fail("npm install of the packed tarballs", install.stderr)
  } else {
    mkdirSync(join(scratch, "examples"))
    const examples = []
    for (const p of packages) {
      const readme = existsSync(join(p.dir, "README.md")) ? readFileSync(join(p.dir, "README.md"), "utf8") : ""
      const code = extract(readme, "<!-- example -->", "ts")
      if (code === undefined) {
        fail(`${p.name}: README has no runnable example (a \`\`\`ts block after <!-- example -->)`)
        continue
      }
      writeFileSync(join(scratch, "examples", `${p.short}.ts`), code)
      examples.push({ ...p, output: extract(readme, "<!-- output -->", "text") })
    }
    const tsc = spawnSync(join(scratch, "node_modules", ".bin", "tsc"), ["-p", "."], { cwd: scratch, encoding: "utf8" })
    const tscErrors = tsc.stdout ?? ""
    for (const e of examples) {
      const mine = tscErrors.split("\n").filter((l) => l.startsWith(`examples/${e.short}.ts`))
      if (mine.length > 0) {
        fail(`${e.name}: README example does not compile`, mine.join("\n"))
        continue
      }
      const r = spawnSync(process.execPath, [join("out", `${e.short}.js`)], { cwd: scratch, encoding: "utf8", timeout: 60_000 })
      if (r.status !== 0) {
        fail(`${e.name}: README example exited with ${r.status}`, `${r.stdout}${r.stderr}`)
      } else if (e.output !== undefined && r.stdout !== e.output) {
        fail(`${e.name}: README example printed something else`, `expected:\n${e.output}got:\n${r.stdout}`)
      } else {
        passed++
        console.log(`ok   ${e.name}: README example runs from the packed tarball`)
      }
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
console.log(`consumer: ${passed} passed, ${failed} failed`)
