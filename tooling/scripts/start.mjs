// `npm start`: build, then boot the kernel app's default (or what the arguments ask).
import { spawnSync } from "node:child_process"

const run = (cmd, args) => spawnSync(cmd, args, { stdio: "inherit" }).status ?? 1
if (run("pnpm", ["exec", "tsc", "-b", "tsconfig.build.json"]) !== 0) process.exit(1)
process.exit(run(process.execPath, ["apps/kernel/dist/main.js", ...process.argv.slice(2)]))
