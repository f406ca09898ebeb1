/**
 * A wait queue, as include/linux/wait.h wait_queue_head_t: whoever must
 * wait for an event on a kernel object (a scheduler parking a task, an
 * Effect fiber) adds a callback; the object calls wakeUp() with the POLL*
 * events that happened. Callbacks run synchronously in the waker; add()
 * returns the function that removes the callback again.
 */
export class WaitQueue {
  private readonly waiters = new Set<(events: number) => void>()

  add(fn: (events: number) => void): () => void {
    this.waiters.add(fn)
    return () => void this.waiters.delete(fn)
  }

  /** wake_up_interruptible_poll(): run every waiter present now. */
  wakeUp(events: number): void {
    if (this.waiters.size === 0) return
    // a Set iterates safely while a waiter removes itself; waiters added meanwhile also run (they recheck their condition)
    for (const fn of this.waiters) fn(events)
  }

  get size(): number {
    return this.waiters.size
  }
}

/**
 * The answer of a blocking call that cannot go on yet, where Linux would
 * sleep (pipe_read()/pipe_write(), a FIFO open in wait_for_partner(),
 * sk_wait_data(), unix_wait_for_peer()). The caller parks on `wq` and,
 * each time it is woken, repeats the call once `ready()` says it can make
 * progress (or fail). `done` counts the bytes a write already moved before
 * it had to wait: the caller repeats the call with the rest and reports the
 * total. A non-blocking call gets EAGAIN instead.
 */
export class WouldBlock {
  readonly _tag = "WouldBlock"
  constructor(
    readonly wq: WaitQueue,
    readonly ready: () => boolean,
    readonly done = 0
  ) {}
}
