export { boot, shutdown, type Kernel, type ShutdownReport } from "./Kernel.js"
export { cli } from "./cli.js"
