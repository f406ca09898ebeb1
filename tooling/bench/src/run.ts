#!/usr/bin/env node
/**
 * `pnpm bench [SUITE...]`: runs every package's compiled benchmarks
 * (packages/* and apps/*, dist-bench/*.bench.js), prints one table per suite
 * and writes bench-results/latest.json plus a timestamped copy.
 */
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import type { Case, NativeAnchor, Suite } from "./index.js"
import { measureLoop } from "./measure.js"

interface Row {
  readonly suite: string
  readonly name: string
  readonly kind: "anchor" | "bench" | "memory" | "scaling"
  readonly nsPerOp?: number
  readonly opsPerSec?: number
  readonly bytes?: number
  readonly ratios?: Record<string, number>
  readonly target?: string
  readonly status: "ok" | "over" | "skipped" | "info"
  readonly note?: string
}

const root = resolve(process.argv[1] ?? ".", "../../../..")
const filters = process.argv.slice(2)

const findSuites = (): Array<string> => {
  const files: Array<string> = []
  for (const group of ["packages", "apps"]) {
    const dir = join(root, group)
    if (!existsSync(dir)) continue
    for (const pkg of readdirSync(dir).sort()) {
      const benchDir = join(dir, pkg, "dist-bench")
      if (!existsSync(benchDir)) continue
      for (const f of readdirSync(benchDir).sort()) if (f.endsWith(".bench.js")) files.push(join(benchDir, f))
    }
  }
  return files
}

const isRoot = (): boolean => typeof process.getuid === "function" && process.getuid() === 0

const hasCc = (): boolean => {
  try {
    execFileSync("cc", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

const runNative = (anchor: NativeAnchor): { ns?: number; why?: string } => {
  if (!hasCc()) return { why: "no C compiler (cc) on this machine" }
  if (anchor.needsRoot && !isRoot()) return { why: "needs root" }
  if (process.platform !== "linux") return { why: "not Linux" }
  const dir = mkdtempSync(join(tmpdir(), "simkernel-bench-"))
  const src = join(dir, "anchor.c")
  const bin = join(dir, "anchor")
  writeFileSync(src, anchor.source)
  try {
    execFileSync("cc", ["-O2", "-o", bin, src], { stdio: "pipe" })
    const out = execFileSync(bin, [], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
    const m = /ns_per_op\s+([0-9.]+)/.exec(out)
    return m ? { ns: Number(m[1]) } : { why: `anchor printed no ns_per_op: ${out.trim()}` }
  } catch (e) {
    return { why: `anchor failed: ${(e as Error).message.split("\n")[0]}` }
  }
}

const gc = (): void => {
  const g = (globalThis as { gc?: () => void }).gc
  if (g) {
    g()
    g()
  }
}

const fmtNs = (ns: number): string =>
  ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(1)} ns`
const fmtBytes = (b: number): string => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MB` : `${(b / 1024).toFixed(1)} KB`)

const runSuite = async (suite: Suite): Promise<Array<Row>> => {
  const rows: Array<Row> = []
  const anchors = new Map<string, number>()
  // bench rows are finished once every anchor of the suite is measured
  const pending: Array<() => Row> = []
  // Real-kernel anchors run last: what they leave the kernel to clean up
  // (RCU frees of namespaces and mounts) would slow the rows after them.
  const ordered: Array<Case> = [
    ...suite.cases.filter((c) => c.type === "anchor"),
    ...suite.cases.filter((c) => c.type !== "anchor" && c.type !== "native"),
    ...suite.cases.filter((c) => c.type === "native")
  ]
  for (const c of ordered) {
    switch (c.type) {
      case "anchor": {
        const ns = await measureLoop(c.loop)
        anchors.set(c.name, ns)
        rows.push({ suite: suite.name, name: c.name, kind: "anchor", nsPerOp: ns, opsPerSec: 1e9 / ns, status: "info" })
        break
      }
      case "native": {
        const r = runNative(c.anchor)
        if (r.ns !== undefined) {
          anchors.set(c.anchor.name, r.ns)
          rows.push({ suite: suite.name, name: c.anchor.name, kind: "anchor", nsPerOp: r.ns, opsPerSec: 1e9 / r.ns, status: "info" })
        } else {
          rows.push({ suite: suite.name, name: c.anchor.name, kind: "anchor", status: "skipped", note: r.why ?? "" })
        }
        break
      }
      case "bench": {
        const ns = await measureLoop(c.loop)
        pending.push(() => {
          const ratios: Record<string, number> = {}
          for (const [a, ans] of anchors) ratios[a] = ns / ans
          let status: Row["status"] = "info"
          const targets: Array<string> = []
          if (c.options.targetNs !== undefined) {
            targets.push(`<= ${fmtNs(c.options.targetNs)}`)
            status = ns <= c.options.targetNs ? "ok" : "over"
          }
          if (c.options.vs !== undefined && c.options.targetRatio !== undefined) {
            targets.push(`<= ${c.options.targetRatio}x ${c.options.vs}`)
            const ratio = ratios[c.options.vs]
            if (ratio === undefined) status = status === "over" ? "over" : "skipped"
            else if (ratio > c.options.targetRatio) status = "over"
            else if (status !== "over") status = "ok"
          }
          return {
            suite: suite.name,
            name: c.name,
            kind: "bench",
            nsPerOp: ns,
            opsPerSec: 1e9 / ns,
            ratios,
            target: targets.join(", "),
            status,
            ...(c.options.note ? { note: c.options.note } : {})
          }
        })
        break
      }
      case "memory": {
        gc()
        const before = process.memoryUsage().heapUsed
        const kept = await c.build()
        gc()
        const bytes = process.memoryUsage().heapUsed - before
        rows.push({
          suite: suite.name,
          name: c.name,
          kind: "memory",
          bytes,
          target: `<= ${fmtBytes(c.options.targetBytes)}`,
          status: bytes <= c.options.targetBytes ? "ok" : "over",
          ...(c.options.note ? { note: c.options.note } : {})
        })
        if (kept === Symbol.for("never")) console.log(kept)
        break
      }
      case "scaling": {
        const times: Array<number> = []
        for (const size of c.options.sizes) times.push(await measureLoop(await c.make(size), 50_000_000, 9, c.options.clock ?? "wall"))
        const sizes = c.options.sizes
        sizes.forEach((size, i) => {
          const j = c.options.against === "previous" ? Math.max(i - 1, 0) : 0
          const ref = sizes[j]!
          const expected = c.options.shape === "linear" ? size / ref : 1
          const ratio = times[i]! / times[j]!
          rows.push({
            suite: suite.name,
            name: `${c.name} [n=${size}]`,
            kind: "scaling",
            nsPerOp: times[i]!,
            opsPerSec: 1e9 / times[i]!,
            ratios: { [`n=${ref}`]: ratio },
            target: i === 0 ? "" : `<= ${(c.options.maxRatio * expected).toFixed(2)}x n=${ref}`,
            status: i === 0 ? "info" : ratio <= c.options.maxRatio * expected ? "ok" : "over"
          })
        })
        break
      }
    }
  }
  const benchRows = pending.map((finish) => finish())
  const anchorRows = rows.filter((r) => r.kind === "anchor")
  return [...anchorRows, ...benchRows, ...rows.filter((r) => r.kind !== "anchor")]
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + " ".repeat(n - s.length))

const printTable = (name: string, rows: ReadonlyArray<Row>): void => {
  console.log(`\n## ${name}`)
  const lines = rows.map((r) => [
    r.name,
    r.nsPerOp !== undefined ? fmtNs(r.nsPerOp) : r.bytes !== undefined ? fmtBytes(r.bytes) : "-",
    r.opsPerSec !== undefined ? Math.round(r.opsPerSec).toLocaleString("en-US") : "-",
    r.ratios ? Object.entries(r.ratios).map(([a, x]) => `${x.toFixed(2)}x ${a}`).join("; ") : "",
    r.target ?? "",
    r.status + (r.note ? ` (${r.note})` : "")
  ])
  const head = ["case", "ns/op", "ops/s", "ratio to anchors", "target", "status"]
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  console.log(head.map((h, i) => pad(h, widths[i]!)).join(" | "))
  console.log(widths.map((w) => "-".repeat(w)).join("-|-"))
  for (const l of lines) console.log(l.map((c, i) => pad(c, widths[i]!)).join(" | "))
}

/** The suite in `file`, if it passes the filters: its rows, also written as JSON to `out`. */
const runChild = async (file: string, out: string): Promise<void> => {
  const mod = (await import(pathToFileURL(file).href)) as { default: Suite }
  const suite = mod.default
  if (filters.length > 0 && !filters.some((x) => suite.name.includes(x))) return
  const rows = await runSuite(suite)
  printTable(suite.name, rows)
  writeFileSync(out, JSON.stringify(rows))
}

/**
 * Each suite in a process of its own (this script again, with the same
 * node flags), so no suite measures against the heap, the JIT state or
 * the kept-up kernels another suite left behind.
 */
const main = async (): Promise<void> => {
  const child = process.env["SIMKERNEL_BENCH_SUITE"]
  const childOut = process.env["SIMKERNEL_BENCH_OUT"]
  if (child !== undefined && childOut !== undefined) return runChild(child, childOut)
  const files = findSuites()
  if (files.length === 0) {
    console.log("no benchmarks found (build first: pnpm run build)")
    return
  }
  const all: Array<Row> = []
  const scratch = mkdtempSync(join(tmpdir(), "simkernel-bench-"))
  try {
    for (const [i, f] of files.entries()) {
      const out = join(scratch, `${i}.json`)
      const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...filters], {
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, SIMKERNEL_BENCH_SUITE: f, SIMKERNEL_BENCH_OUT: out }
      })
      if (r.status !== 0) {
        console.log(`\n## ${f}: the suite's process failed (status ${r.status ?? r.signal})`)
        process.exitCode = 1
        continue
      }
      if (existsSync(out)) all.push(...(JSON.parse(readFileSync(out, "utf8")) as Array<Row>))
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  const over = all.filter((r) => r.status === "over")
  console.log(`\n${all.filter((r) => r.status === "ok").length} on target, ${over.length} over target`)
  const outDir = join(root, "bench-results")
  mkdirSync(outDir, { recursive: true })
  const result = JSON.stringify(
    { date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`, rows: all },
    null,
    2
  )
  writeFileSync(join(outDir, "latest.json"), result + "\n")
  writeFileSync(join(outDir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`), result + "\n")
}

await main()
