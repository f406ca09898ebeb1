// `pnpm bench [SUITE...]`: build packages and their benchmarks, then run them.
import { spawnSync } from "node:child_process"

const run = (cmd, args) => spawnSync(cmd, args, { stdio: "inherit" }).status ?? 1
if (run("pnpm", ["exec", "tsc", "-b", "tsconfig.json"]) !== 0) process.exit(1)
process.exit(run(process.execPath, ["--expose-gc", "tooling/bench/dist/run.js", ...process.argv.slice(2)]))
