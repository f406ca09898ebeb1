/**
 * procfs for the kernel app (fs/proc): the "proc" filesystem type, one
 * view per PID namespace. Boot calls registerProcfs(vfs, sched) once.
 */
export { asTask, currentTask, ptraceMayAccessFsCreds } from "./access.js"
export { showCmdline, showEnviron, showStat, showStatus, showTimensOffsets, taskStateLong } from "./format.js"
export { type ProcFsInfo, procfsSetPidNs, procfsType, registerProcfs } from "./procfs.js"
