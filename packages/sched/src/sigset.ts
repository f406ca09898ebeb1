import { _NSIG, SIGCONT, SIGKILL, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, signalDefaultAction } from "@simkernel/abi"

/**
 * A signal set, as sigset_t: bit (n - 1) stands for signal n, 1.._NSIG.
 * A bigint, because 64 signals do not fit the 32-bit integer operators.
 */
export type SigSet = bigint

export const EMPTY_SIGSET: SigSet = 0n

const BITS: ReadonlyArray<SigSet> = Array.from({ length: _NSIG + 1 }, (_, n) => (n === 0 ? 0n : 1n << BigInt(n - 1)))

/** sigmask(sig). */
export const sigmask = (sig: number): SigSet => BITS[sig]!

export const sigismember = (set: SigSet, sig: number): boolean => (set & BITS[sig]!) !== 0n

/** Every valid signal. */
export const SIGSET_FULL: SigSet = (1n << BigInt(_NSIG)) - 1n

/** SIGKILL and SIGSTOP: never blocked, caught or ignored (sig_kernel_only). */
export const SIG_KERNEL_ONLY_MASK: SigSet = sigmask(SIGKILL) | sigmask(SIGSTOP)

/** The stop signals (sig_kernel_stop). */
export const SIG_KERNEL_STOP_MASK: SigSet = sigmask(SIGSTOP) | sigmask(SIGTSTP) | sigmask(SIGTTIN) | sigmask(SIGTTOU)

/** valid_signal(): 1.._NSIG (0 is the existence probe, handled by callers). */
export const validSignal = (sig: number): boolean => Number.isInteger(sig) && sig >= 0 && sig <= _NSIG

export const sigKernelOnly = (sig: number): boolean => sig === SIGKILL || sig === SIGSTOP

export const sigKernelStop = (sig: number): boolean => sig < 32 && sigismember(SIG_KERNEL_STOP_MASK, sig)

/** sig_kernel_ignore(): SIG_DFL means "ignore" (SIGCHLD, SIGURG, SIGWINCH; SIGCONT's default only resumes). */
export const sigKernelIgnore = (sig: number): boolean => {
  const a = signalDefaultAction(sig)
  return a === "ign" || sig === SIGCONT
}

/** The lowest signal in a set, 0 when empty (next_signal() prefers the synchronous ones; none here). */
export const firstSignal = (set: SigSet): number => {
  if (set === 0n) return 0
  let sig = 1
  let s = set
  if ((s & 0xffffffffn) === 0n) {
    s >>= 32n
    sig += 32
  }
  let lo = Number(s & 0xffffffffn)
  while ((lo & 1) === 0) {
    lo >>>= 1
    sig++
  }
  return sig
}

/** The members of a set, ascending. */
export const sigsetMembers = (set: SigSet): Array<number> => {
  const out: Array<number> = []
  for (let sig = 1; sig <= _NSIG; sig++) if ((set & BITS[sig]!) !== 0n) out.push(sig)
  return out
}

/** A set from a list of signals. */
export const sigsetOf = (...sigs: ReadonlyArray<number>): SigSet => {
  let s = 0n
  for (const sig of sigs) s |= BITS[sig]!
  return s
}
