#!/usr/bin/env node
// The README's commands start here, on a machine that may have nothing but
// Node 20 and npm: make pnpm 12.4.2 available (the global one when it is the
// pinned version, else a private copy under .bootstrap/), install the
// workspace from the lockfile, then run the requested step with that pnpm on
// PATH.  usage: node tooling/scripts/bootstrap.mjs start|test|bench [args...]
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { delimiter, dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..")
const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split("@")[1]
const steps = {
  start: ["tooling/scripts/start.mjs"],
  test: ["tooling/scripts/test.mjs"],
  bench: ["tooling/scripts/bench.mjs"]
}
const [step, ...rest] = process.argv.slice(2)
if (!(step in steps)) {
  console.error(`usage: bootstrap.mjs ${Object.keys(steps).join("|")} [args...]`)
  process.exit(2)
}

const versionOf = (bin) => {
  try {
    return execFileSync(bin, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
  } catch {
    return undefined
  }
}

const env = { ...process.env, COREPACK_ENABLE_STRICT: "0", npm_config_update_notifier: "false" }
const privateDir = join(root, ".bootstrap")
const privateBin = join(privateDir, "node_modules", ".bin")

let pnpmDir
if (versionOf("pnpm") === pinned) {
  pnpmDir = undefined
} else if (versionOf(join(privateBin, "pnpm")) === pinned) {
  pnpmDir = privateBin
} else {
  console.error(`bootstrap: installing pnpm ${pinned} into .bootstrap/`)
  const r = spawnSync(
    "npm",
    ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", privateDir, `pnpm@${pinned}`],
    { stdio: ["ignore", "inherit", "inherit"], env }
  )
  if (r.status !== 0 || versionOf(join(privateBin, "pnpm")) !== pinned) {
    console.error(`bootstrap: could not install pnpm ${pinned} with npm`)
    process.exit(1)
  }
  pnpmDir = privateBin
}
if (pnpmDir) env.PATH = `${pnpmDir}${delimiter}${env.PATH ?? ""}`

const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: "inherit", env }).status ?? 1

const frozen = existsSync(join(root, "pnpm-lock.yaml")) ? ["--frozen-lockfile"] : []
if (run("pnpm", ["install", ...frozen, "--reporter=silent"]) !== 0) {
  console.error("bootstrap: pnpm install failed")
  process.exit(1)
}
process.exit(run(process.execPath, [...steps[step], ...rest]))
