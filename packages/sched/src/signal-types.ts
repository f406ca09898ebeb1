import { _NSIG, SIG_DFL, SIG_IGN } from "@simkernel/abi"
import type { Effect } from "effect"
import type { Process } from "./Process.js"
import { EMPTY_SIGSET, type SigSet } from "./sigset.js"

/**
 * What a signal carries, as siginfo_t for the fields simkernel fills:
 * number, si_code, the sender's pid and uid (as the receiver sees them),
 * and for SIGCHLD the child's status.
 */
export interface SigInfo {
  readonly signo: number
  readonly code: number
  readonly pid: number
  readonly uid: number
  /** SIGCHLD: exit code, or the signal that killed, stopped or continued the child. */
  readonly status: number
}

/** A handler a program installs: runs on the task when it next returns from a blocking point. */
export type SigHandler = (sig: number, info: SigInfo, proc: Process) => Effect.Effect<void>

/** struct k_sigaction: SIG_DFL, SIG_IGN or a handler, sa_flags and sa_mask. */
export interface SigAction {
  readonly handler: typeof SIG_DFL | typeof SIG_IGN | SigHandler
  readonly flags: number
  readonly mask: SigSet
}

export const DEFAULT_ACTION: SigAction = Object.freeze({ handler: SIG_DFL, flags: 0, mask: EMPTY_SIGSET })

const DEFAULT_ACTIONS: ReadonlyArray<SigAction> = Object.freeze(Array.from({ length: _NSIG + 1 }, () => DEFAULT_ACTION))

/**
 * The signal handlers of a process, as struct sighand_struct: shared by
 * threads and by CLONE_SIGHAND children (`users`), copied by fork. The
 * action table is copied on first write, so a fork that changes nothing
 * allocates none.
 */
export class SigHand {
  users = 1
  private actions: ReadonlyArray<SigAction>
  private own: boolean

  constructor(from?: SigHand) {
    this.actions = from === undefined ? DEFAULT_ACTIONS : from.actions
    this.own = false
  }

  action(sig: number): SigAction {
    return this.actions[sig]!
  }

  setAction(sig: number, act: SigAction): void {
    if (!this.own) {
      this.actions = this.actions.slice()
      this.own = true
    }
    ;(this.actions as Array<SigAction>)[sig] = act
  }

  /** flush_signal_handlers(): every caught signal back to SIG_DFL (ignored ones stay ignored), for exec. */
  flushHandlers(forceDefault: boolean): void {
    for (let sig = 1; sig <= _NSIG; sig++) {
      const a = this.actions[sig]!
      if (forceDefault || typeof a.handler === "function") {
        if (a !== DEFAULT_ACTION) this.setAction(sig, DEFAULT_ACTION)
      } else if (a.flags !== 0 || a.mask !== EMPTY_SIGSET) {
        this.setAction(sig, { handler: a.handler, flags: 0, mask: EMPTY_SIGSET })
      }
    }
  }
}

/** struct sigpending: a set of pending signals and the queued siginfo of each. */
export class SigPending {
  set: SigSet = EMPTY_SIGSET
  queue: Array<SigInfo> | undefined = undefined

  add(info: SigInfo, rt: boolean, bit: SigSet): void {
    // standard signals do not queue twice (legacy_queue())
    if (!rt && (this.set & bit) !== 0n) return
    // an empty set takes `bit` itself and a first signal a one-slot queue: no garbage per signal sent to many tasks
    this.set = this.set === EMPTY_SIGSET ? bit : this.set | bit
    if (this.queue === undefined) this.queue = [info]
    else this.queue.push(info)
  }

  /** Take one instance of `sig`; the bit clears when none is left. */
  take(sig: number, bit: SigSet): SigInfo | undefined {
    const q = this.queue
    let info: SigInfo | undefined
    let more = false
    if (q !== undefined) {
      for (let i = 0; i < q.length; i++) {
        if (q[i]!.signo !== sig) continue
        if (info === undefined) {
          info = q[i]
          q.splice(i, 1)
          i--
        } else {
          more = true
          break
        }
      }
    }
    if (!more) this.set &= ~bit
    return info
  }

  /** flush_sigqueue_mask(). */
  flush(mask: SigSet): void {
    if ((this.set & mask) === 0n) return
    this.set &= ~mask
    const q = this.queue
    if (q !== undefined) this.queue = q.filter((i) => (mask & (1n << BigInt(i.signo - 1))) === 0n)
  }

  clear(): void {
    this.set = EMPTY_SIGSET
    this.queue = undefined
  }
}
