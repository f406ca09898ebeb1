#!/usr/bin/env node
// Writes docs/compat.md from the syscall table, or with --check says
// whether the committed file is current (exit 1 when it is not).
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { renderCompat } from "./table.js"

const path = new URL("../../../../docs/compat.md", import.meta.url)
const text = renderCompat()
if (process.argv.includes("--check")) {
  const current = existsSync(path) && readFileSync(path, "utf8") === text
  console.log(current ? "docs/compat.md is current" : "docs/compat.md is out of date: run node apps/kernel/dist/syscalls/compat.js")
  process.exit(current ? 0 : 1)
}
writeFileSync(path, text)
console.log("wrote docs/compat.md")
