import type { Dentry } from "./Dentry.js"
import type { Mount } from "./Mount.js"

/** include/linux/path.h struct path: a dentry as seen through a mount. Borrowed unless a holder says otherwise. */
export interface Path {
  readonly mnt: Mount
  readonly dentry: Dentry
}
