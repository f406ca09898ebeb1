import { CONTAINER_HANDLERS } from "./container.js"
import { FS_HANDLERS } from "./fs.js"
import { KEY_HANDLERS } from "./keys.js"
import { MOUNT_HANDLERS } from "./mount.js"
import { NS_HANDLERS } from "./ns.js"
import { PROCESS_HANDLERS } from "./process.js"
import type { Handler } from "./common.js"

export type { Handler, SyscallContext } from "./common.js"

/** Every handler by syscall name: one module per group, as Linux groups the calls. */
export const HANDLERS: Readonly<Record<string, Handler>> = {
  ...FS_HANDLERS,
  ...MOUNT_HANDLERS,
  ...NS_HANDLERS,
  ...PROCESS_HANDLERS,
  ...CONTAINER_HANDLERS,
  ...KEY_HANDLERS
}
