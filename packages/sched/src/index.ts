export { type ExecLookup, Kernel, type KernelOptions, type ProgramEntry, type SecurityHooks, type TaskHooks } from "./Kernel.js"
export { Process, type PollFd, type Program, WAIT_NONE } from "./Process.js"
export {
  DEAD,
  type ExitState,
  JOBCTL_STOP_PENDING,
  PF_EXITING,
  PF_FORKNOEXEC,
  PF_SIGNALED,
  RUNNING,
  type SchedState,
  SIGNAL_CLD_CONTINUED,
  SIGNAL_CLD_STOPPED,
  SIGNAL_GROUP_EXIT,
  SIGNAL_STOP_CONTINUED,
  SIGNAL_STOP_STOPPED,
  SIGNAL_UNKILLABLE,
  SignalStruct,
  Task,
  type WaitChan,
  ZOMBIE
} from "./Task.js"
export { Pid, pidNrNs } from "./Pid.js"
export {
  allocPid,
  checkpointRestoreNsCapable,
  freePid,
  PID_MAX_DEFAULT,
  PID_MAX_LIMIT,
  PidNamespace,
  pidNamespaceOps,
  RESERVED_PIDS
} from "./PidNamespace.js"
export {
  checkCloneFlags,
  clone3Args,
  type CloneArgs,
  cloneArgsFromLegacy,
  type CloneResult,
  copyProcess,
  kernelClone,
  type KernelCloneArgs
} from "./fork.js"
export { doExit, doGroupExit, doNotifyParent, releaseTask, zapPidNsProcesses } from "./exit.js"
export { doWait, eligibleChild, type Rusage, type WaitOpts, type WaitResult, wait4Opts, waitidOpts } from "./wait.js"
export {
  checkKillPermission,
  type Delivered,
  doSigaction,
  doTkill,
  getSignal,
  groupSendSigInfo,
  killPgrpInfo,
  killSomething,
  type PidType,
  sendSignalLocked,
  type Sender,
  signalPending,
  sigprocmask,
  sigqueueKill
} from "./signal.js"
export { DEFAULT_ACTION, type SigAction, SigHand, type SigHandler, type SigInfo, SigPending } from "./signal-types.js"
export {
  EMPTY_SIGSET,
  firstSignal,
  SIG_KERNEL_ONLY_MASK,
  SIG_KERNEL_STOP_MASK,
  sigismember,
  sigmask,
  type SigSet,
  SIGSET_FULL,
  sigsetMembers,
  sigsetOf,
  validSignal
} from "./sigset.js"
export { type FdAdapter, type FilesStruct, type FsStructLike, PidfdFile, SimpleFdTable, simpleFdAdapter } from "./files.js"
export { pidfdGet, pidfdOpen, pidfdSendSignal, ptraceMayAccess, setnsByPidfd } from "./pidfd.js"
export { getpgid, getsid, prctl, setpgid, setsid } from "./sys.js"
export { doExecve } from "./exec.js"
export { parseSimkernelShebang, pidfdFops, pidfdFromFile, TaskVfsView, vfsExecLookup, vfsFdAdapter } from "./vfs.js"
export { bootOnVfsWorld, SchedKernel } from "./layer.js"
