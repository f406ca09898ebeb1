// `npm test`: build, typecheck, run every package's tests, the generated-docs
// checks and the consumer check, then print the closing line
// `N passed, N failed` that CI reads.
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, rmSync } from "node:fs"
import { release } from "node:os"

let passed = 0
let failed = 0
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: "inherit", ...opts }).status ?? 1

const gate = (label, cmd, args) => {
  console.log(`\n== ${label}`)
  if (run(cmd, args) === 0) {
    passed++
    return true
  }
  console.log(`FAILED: ${label}`)
  failed++
  return false
}

const built = gate("build", "pnpm", ["exec", "tsc", "-b", "tsconfig.build.json"])
if (built) {
  gate("typecheck (tests and benchmarks)", "pnpm", ["exec", "tsc", "-b", "tsconfig.json"])

  console.log("\n== vitest (every package)")
  const report = ".vitest-report.json"
  rmSync(report, { force: true })
  run("pnpm", ["exec", "vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`])
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, "utf8"))
    passed += r.numPassedTests
    failed += r.numFailedTests + r.numPendingTests + r.numTodoTests
    // a test file that failed to load counts once
    failed += r.testResults.filter((f) => f.status === "failed" && f.assertionResults.length === 0).length
  } else {
    console.log("FAILED: vitest wrote no report")
    failed++
  }

  console.log("\n== simkernel conformance (the corpus under conformance/, checked against the real kernel's recordings)")
  for (const set of ["shared", "vfs", "proc", "procfs", "container", "container/linux"]) {
    const r = spawnSync(
      process.execPath,
      ["apps/kernel/dist/main.js", "conformance", `conformance/${set}/scenarios.json`, "--check", `conformance/${set}/expected.json`, "--blocklist", "conformance/blocklist"],
      { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" }
    )
    process.stdout.write(`conformance/${set}: ${r.stdout ?? ""}`)
    const m = /^(\d+) passed, (\d+) failed$/m.exec(r.stdout ?? "")
    if (m) {
      passed += Number(m[1])
      failed += Number(m[2])
    } else {
      console.log(`FAILED: simkernel conformance ${set} did not finish`)
      failed++
    }
  }

  console.log("\n== real-kernel conformance (the recordings under conformance/ still hold on this kernel)")
  const recorded = JSON.parse(readFileSync("conformance/vfs/expected.json", "utf8")).meta.kernel
  if (process.platform !== "linux" || release().split("-")[0] !== recorded) {
    console.log(`skipped: recorded on Linux ${recorded}, this is ${process.platform} ${release()}`)
  } else {
    const linux = spawnSync("bash", ["apps/kernel/conformance-linux/test_runner.sh"], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" })
    process.stdout.write(linux.stdout ?? "")
    const counts = [...(linux.stdout ?? "").matchAll(/^(\d+) passed, (\d+) failed$/gm)]
    for (const m of counts) {
      passed += Number(m[1])
      failed += Number(m[2])
    }
    if (linux.status !== 0 && counts.every((m) => m[2] === "0")) {
      console.log("FAILED: real-kernel conformance")
      failed++
    }
  }

  console.log("\n== consumer check (packed packages in a scratch project)")
  const consumer = spawnSync(process.execPath, ["tooling/scripts/consumer-check.mjs"], {
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8"
  })
  process.stdout.write(consumer.stdout ?? "")
  const m = /^consumer: (\d+) passed, (\d+) failed$/m.exec(consumer.stdout ?? "")
  if (m && consumer.status !== null) {
    passed += Number(m[1])
    failed += Number(m[2])
  } else {
    console.log("FAILED: consumer check did not finish")
    failed++
  }
}

console.log(`\n${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
