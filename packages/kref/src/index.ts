export { LiveObjects, type LiveObject, type Survivor } from "./LiveObjects.js"
export { Refcounted, RefcountDefect, releaseAll, type Held } from "./Refcounted.js"
export { Rollback, withRollback, withRollbackSync, borrow } from "./Rollback.js"
export { assertNoLeaks, LeakError } from "./testing.js"
