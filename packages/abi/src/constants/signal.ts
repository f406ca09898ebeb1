// x86_64 signals, arch/x86/include/uapi/asm/signal.h; default actions per signal(7).

export const SIGHUP = 1
export const SIGINT = 2
export const SIGQUIT = 3
export const SIGILL = 4
export const SIGTRAP = 5
export const SIGABRT = 6
export const SIGIOT = 6
export const SIGBUS = 7
export const SIGFPE = 8
export const SIGKILL = 9
export const SIGUSR1 = 10
export const SIGSEGV = 11
export const SIGUSR2 = 12
export const SIGPIPE = 13
export const SIGALRM = 14
export const SIGTERM = 15
export const SIGSTKFLT = 16
export const SIGCHLD = 17
export const SIGCONT = 18
export const SIGSTOP = 19
export const SIGTSTP = 20
export const SIGTTIN = 21
export const SIGTTOU = 22
export const SIGURG = 23
export const SIGXCPU = 24
export const SIGXFSZ = 25
export const SIGVTALRM = 26
export const SIGPROF = 27
export const SIGWINCH = 28
export const SIGIO = 29
export const SIGPOLL = SIGIO
export const SIGPWR = 30
export const SIGSYS = 31
/** The kernel's SIGRTMIN; glibc reserves 32 and 33 and reports 34. */
export const SIGRTMIN = 32
export const SIGRTMAX = 64
/** Number of signals: valid signal numbers are 1.._NSIG. */
export const _NSIG = 64

/** Standard signals by number (index 0 unused). Aliases SIGIOT and SIGPOLL are not listed. */
export const SIGNAL_NAMES = [
  undefined,
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGILL",
  "SIGTRAP",
  "SIGABRT",
  "SIGBUS",
  "SIGFPE",
  "SIGKILL",
  "SIGUSR1",
  "SIGSEGV",
  "SIGUSR2",
  "SIGPIPE",
  "SIGALRM",
  "SIGTERM",
  "SIGSTKFLT",
  "SIGCHLD",
  "SIGCONT",
  "SIGSTOP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGURG",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGVTALRM",
  "SIGPROF",
  "SIGWINCH",
  "SIGIO",
  "SIGPWR",
  "SIGSYS"
] as const

export type SignalName = Exclude<(typeof SIGNAL_NAMES)[number], undefined>

/** What the kernel does with a signal whose disposition is SIG_DFL. */
export type SignalDefaultAction = "term" | "core" | "ign" | "stop" | "cont"

const DEFAULT_ACTION: { readonly [K in SignalName]: SignalDefaultAction } = {
  SIGHUP: "term",
  SIGINT: "term",
  SIGQUIT: "core",
  SIGILL: "core",
  SIGTRAP: "core",
  SIGABRT: "core",
  SIGBUS: "core",
  SIGFPE: "core",
  SIGKILL: "term",
  SIGUSR1: "term",
  SIGSEGV: "core",
  SIGUSR2: "term",
  SIGPIPE: "term",
  SIGALRM: "term",
  SIGTERM: "term",
  SIGSTKFLT: "term",
  SIGCHLD: "ign",
  SIGCONT: "cont",
  SIGSTOP: "stop",
  SIGTSTP: "stop",
  SIGTTIN: "stop",
  SIGTTOU: "stop",
  SIGURG: "ign",
  SIGXCPU: "core",
  SIGXFSZ: "core",
  SIGVTALRM: "term",
  SIGPROF: "term",
  SIGWINCH: "ign",
  SIGIO: "term",
  SIGPWR: "term",
  SIGSYS: "core"
}

const ALIASES: Readonly<Record<string, number>> = { SIGIOT, SIGPOLL }

/** Name of a standard signal 1..31; undefined for real-time and invalid numbers. */
export const signalName = (sig: number): SignalName | undefined =>
  sig >= 1 && sig <= SIGSYS ? SIGNAL_NAMES[sig] : undefined

/** Number of a standard signal, alias (SIGIOT, SIGPOLL) or SIGRTMIN/SIGRTMAX. */
export const signalNumber = (name: string): number | undefined => {
  const i = SIGNAL_NAMES.indexOf(name as SignalName)
  if (i > 0) return i
  if (name === "SIGRTMIN") return SIGRTMIN
  if (name === "SIGRTMAX") return SIGRTMAX
  return Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined
}

/** signal(7)'s default action; real-time signals terminate. undefined outside 1.._NSIG. */
export const signalDefaultAction = (sig: number): SignalDefaultAction | undefined => {
  const name = signalName(sig)
  if (name !== undefined) return DEFAULT_ACTION[name]
  return Number.isInteger(sig) && sig >= SIGRTMIN && sig <= _NSIG ? "term" : undefined
}

// rt_sigaction(2) handlers and sa_flags, include/uapi/asm-generic/signal-defs.h and x86's signal.h
export const SIG_DFL = 0
export const SIG_IGN = 1
export const SA_NOCLDSTOP = 0x00000001
export const SA_NOCLDWAIT = 0x00000002
export const SA_SIGINFO = 0x00000004
export const SA_UNSUPPORTED = 0x00000400
export const SA_EXPOSE_TAGBITS = 0x00000800
export const SA_RESTORER = 0x04000000
export const SA_ONSTACK = 0x08000000
export const SA_RESTART = 0x10000000
export const SA_NODEFER = 0x40000000
export const SA_RESETHAND = 0x80000000

// rt_sigprocmask(2) how
export const SIG_BLOCK = 0
export const SIG_UNBLOCK = 1
export const SIG_SETMASK = 2

// siginfo si_code values, include/uapi/asm-generic/siginfo.h
export const SI_USER = 0
export const SI_KERNEL = 0x80
export const SI_QUEUE = -1
export const SI_TIMER = -2
export const SI_MESGQ = -3
export const SI_ASYNCIO = -4
export const SI_SIGIO = -5
export const SI_TKILL = -6
export const SI_DETHREAD = -7
export const SI_ASYNCNL = -60

// SIGCHLD si_code values
export const CLD_EXITED = 1
export const CLD_KILLED = 2
export const CLD_DUMPED = 3
export const CLD_TRAPPED = 4
export const CLD_STOPPED = 5
export const CLD_CONTINUED = 6
