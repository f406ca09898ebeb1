import { CLONE_NEWUSER, CLONE_THREAD, type SysError } from "@simkernel/abi"
import { Effect } from "effect"
import { abortCreds, type Cred, credFromDraft, prepareCreds } from "./Cred.js"
import { createUserNs, type CreateUserNsOptions } from "./UserNamespace.js"

/**
 * kernel/cred.c copy_creds(): the credentials of a child made by clone(2)
 * with `cloneFlags`. A new thread (CLONE_THREAD) of a task without a thread
 * keyring shares the parent's Cred; otherwise the child gets a copy, in a
 * new user namespace for CLONE_NEWUSER (create_user_ns() errors apply),
 * without the parent's thread keyring, and without its process keyring
 * unless it is a thread of the same process. The result is the caller's
 * reference, for the child task to hold.
 */
export const copyCreds = (
  parent: Cred,
  cloneFlags: number,
  options: CreateUserNsOptions = {}
): Effect.Effect<Cred, SysError> =>
  Effect.suspend(() => {
    if ((cloneFlags & CLONE_THREAD) !== 0 && parent.threadKeyring === undefined) return Effect.succeed(parent.get())
    const draft = prepareCreds(parent)
    const finish = (): Cred => {
      draft.setThreadKeyring(undefined)
      if ((cloneFlags & CLONE_THREAD) === 0) draft.setProcessKeyring(undefined)
      return credFromDraft(draft)
    }
    if ((cloneFlags & CLONE_NEWUSER) === 0) return Effect.succeed(finish())
    return createUserNs(draft, options).pipe(
      Effect.map(finish),
      Effect.tapError(() => Effect.sync(() => abortCreds(draft)))
    )
  })
