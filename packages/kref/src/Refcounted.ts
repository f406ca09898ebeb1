import { LiveObjects } from "./LiveObjects.js"

/** A refcount misuse: a kernel bug, surfaced as a defect, never as an errno. */
export class RefcountDefect extends Error {
  override readonly name = "RefcountDefect"
  constructor(
    readonly kind: string,
    readonly serial: number,
    readonly operation: "get" | "put"
  ) {
    super(`${operation} on freed ${kind}#${serial}`)
  }
}

/** Something a Refcounted object releases when it is freed: another object, or an undo step. */
export type Held = Refcounted | (() => void)

/**
 * A kernel object with a reference count, as include/linux/kref.h: it is born
 * holding one reference, `get` adds one, `put` drops one and frees the object
 * at zero. Freeing runs `destroy()`, then puts what the object holds in
 * reverse order of acquisition, then removes it from the live registry.
 * get and put are plain synchronous calls because they sit on every hot path.
 */
export abstract class Refcounted {
  abstract readonly kind: string
  readonly serial: number
  readonly origin: string | undefined
  private refs = 1
  private held: Array<Held> | undefined
  private readonly registry: LiveObjects

  constructor(registry: LiveObjects = LiveObjects.default, origin?: string) {
    this.registry = registry
    this.serial = registry.allocSerial()
    this.origin = registry.originFor(origin)
    registry.add(this)
  }

  /** kref_get: take a reference. A get on a freed object is a defect. */
  get(): this {
    if (this.refs <= 0) throw new RefcountDefect(this.kind, this.serial, "get")
    this.refs++
    return this
  }

  /** kref_get_unless_zero: take a reference unless the object is being freed. */
  tryGet(): boolean {
    if (this.refs <= 0) return false
    this.refs++
    return true
  }

  /** kref_put: drop a reference; returns true when this put freed the object. */
  put(): boolean {
    if (this.refs <= 0) throw new RefcountDefect(this.kind, this.serial, "put")
    if (--this.refs > 0) return false
    this.free()
    return true
  }

  count(): number {
    return this.refs
  }

  get freed(): boolean {
    return this.refs <= 0
  }

  /**
   * Hand the object an already-taken reference (or an undo step) to release
   * when it is freed. Returns the argument, so `this.ns = this.hold(ns.get())`.
   */
  protected hold<T extends Held>(item: T): T {
    ;(this.held ??= []).push(item)
    return item
  }

  /** The object's own teardown, run before what it holds is released. */
  protected destroy(): void {}

  private free(): void {
    try {
      this.destroy()
    } finally {
      const held = this.held
      this.held = undefined
      if (held !== undefined) releaseAll(held)
      this.registry.remove(this)
    }
  }
}

/** Release a list of held items in reverse order; every item runs even if one throws. */
export const releaseAll = (items: ReadonlyArray<Held>): void => {
  let failure: unknown
  let failed = false
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!
    try {
      if (typeof item === "function") item()
      else item.put()
    } catch (e) {
      if (!failed) {
        failed = true
        failure = e
      }
    }
  }
  if (failed) throw failure
}
