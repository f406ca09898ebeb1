import { Effect, Exit } from "effect"
import { releaseAll, type Held, type Refcounted } from "./Refcounted.js"

/**
 * Undo steps for a multi-step constructor, like the bad_fork_cleanup_*
 * labels of kernel/fork.c: each step that acquired something registers how
 * to give it back; on failure they run in reverse order, on success never.
 */
export class Rollback {
  private readonly steps: Array<Held> = []
  private done = false

  /** Register an undo step. */
  add(undo: () => void): void {
    this.steps.push(undo)
  }

  /** Register a reference to put on failure, and return it. */
  own<T extends Refcounted>(obj: T): T {
    this.steps.push(obj)
    return obj
  }

  /** Keep everything: the constructor succeeded. */
  commit(): void {
    this.done = true
    this.steps.length = 0
  }

  /** Undo everything registered, newest first. Idempotent. */
  rollback(): void {
    if (this.done) return
    this.done = true
    const steps = this.steps.splice(0)
    releaseAll(steps)
  }
}

/**
 * Run a synchronous multi-step constructor: if `body` throws, every step it
 * registered is undone (newest first) and the exception propagates.
 */
export const withRollbackSync = <A>(body: (rb: Rollback) => A): A => {
  const rb = new Rollback()
  try {
    const a = body(rb)
    rb.commit()
    return a
  } catch (e) {
    rb.rollback()
    throw e
  }
}

/**
 * Run an effectful multi-step constructor: on failure, defect or
 * interruption every registered step is undone, newest first; on success
 * nothing is.
 */
export const withRollback = <A, E, R>(body: (rb: Rollback) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    const rb = new Rollback()
    return Effect.onExit(body(rb), (exit) => Effect.sync(() => (Exit.isSuccess(exit) ? rb.commit() : rb.rollback())))
  })

/**
 * Borrow a reference for the life of the current Scope:
 * Effect.acquireRelease(get, put).
 */
export const borrow = <T extends Refcounted>(obj: T) =>
  Effect.acquireRelease(
    Effect.sync(() => obj.get()),
    (o) => Effect.sync(() => void o.put())
  )
