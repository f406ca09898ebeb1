import { LiveObjects } from "./LiveObjects.js"

/** Thrown by assertNoLeaks: the audit found objects that outlived the teardown. */
export class LeakError extends Error {
  override readonly name = "LeakError"
  constructor(readonly report: string) {
    super(report)
  }
}

/**
 * The end-of-test audit: throws a LeakError listing each survivor when any
 * object is still live. The registry is cleared either way, so one leaking
 * test does not fail the tests after it.
 */
export const assertNoLeaks = (registry: LiveObjects = LiveObjects.default): void => {
  const leaked = registry.size() > 0
  const report = leaked ? registry.report() : ""
  registry.clear()
  if (leaked) throw new LeakError(report)
}
