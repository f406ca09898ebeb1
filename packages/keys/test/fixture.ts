import { CAP_EMPTY_SET, type Cred, createInitCred, createInitUserNs, credFromDraft, prepareCreds, type UserNamespace } from "@simkernel/cred"
import { assertNoLeaks, LiveObjects } from "@simkernel/kref"
import { type KeyCaller, type KeyContainer, Keys, type KeysOptions } from "../src/index.js"

/** A caller whose credentials commitCreds() replaces, as a task's. */
export class Task implements KeyCaller {
  constructor(
    public cred: Cred,
    public keyContainer: KeyContainer | undefined = undefined,
    readonly pid = 100
  ) {}
}

export interface World {
  readonly registry: LiveObjects
  readonly ns: UserNamespace
  readonly keys: Keys
  /** The kernel clock, in seconds; tests move it. */
  now: number
  readonly root: Task
  /** A new process of another login: every id `uid`/`gid`, no capabilities, no keyrings. */
  user(uid?: number, gid?: number, groups?: ReadonlyArray<number>): Task
  /** Tear down (tasks' creds, user keyrings, the namespace) and audit for leaks. */
  teardown(): void
}

export const world = (options: Omit<KeysOptions, "registry" | "clock"> = {}): World => {
  const registry = new LiveObjects()
  const ns = createInitUserNs({ registry })
  const tasks: Array<Task> = []
  const w: World = {
    registry,
    ns,
    keys: undefined as unknown as Keys,
    now: 1000,
    root: undefined as unknown as Task,
    user(uid = 1000, gid = 1000, groups = []) {
      const draft = prepareCreds(w.root.cred)
      draft.uid = draft.euid = draft.suid = draft.fsuid = uid
      draft.gid = draft.egid = draft.sgid = draft.fsgid = gid
      draft.capEffective = draft.capPermitted = CAP_EMPTY_SET
      draft.setGroups(groups)
      draft.setThreadKeyring(undefined)
      draft.setProcessKeyring(undefined)
      draft.setSessionKeyring(undefined)
      const t = new Task(credFromDraft(draft))
      tasks.push(t)
      return t
    },
    teardown() {
      for (const t of tasks) t.cred.put()
      w.keys.shutdown()
      ns.put()
      assertNoLeaks(registry)
    }
  }
  ;(w as { keys: Keys }).keys = new Keys({ ...options, registry, clock: () => w.now })
  const root = new Task(createInitCred(ns))
  tasks.push(root)
  ;(w as { root: Task }).root = root
  return w
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
export const text = (b: Uint8Array, n: number): string => new TextDecoder().decode(b.subarray(0, n))

/** The errno of a SysError answer, or the number. */
export const errno = (r: unknown): string | number =>
  typeof r === "number" ? r : r !== null && typeof r === "object" && "errno" in r ? String((r as { errno: string }).errno) : String(r)
