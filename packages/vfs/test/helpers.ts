import { isSysError, type SysError } from "@simkernel/abi"
import { assertNoLeaks } from "@simkernel/kref"
import { createScenarioWorld, showMountinfo, type VfsTask, type VfsWorld } from "@simkernel/vfs"
import { credFromDraft, prepareCreds, type Cred } from "@simkernel/cred"
import { afterEach, expect } from "@effect/vitest"
import { normaliseMountinfo } from "./conformance.js"

const worlds: Array<VfsWorld> = []

/** A fresh scenario world, destroyed and leak-audited after the test. */
export const makeWorld = (): VfsWorld => {
  const w = createScenarioWorld()
  worlds.push(w)
  return w
}

/** Install the per-file teardown: destroy every world made in the test, then audit its registry. */
export const useWorlds = (): void => {
  afterEach(() => {
    const ws = worlds.splice(0)
    for (const w of ws) w.destroy()
    for (const w of ws) assertNoLeaks(w.registry)
    // nothing may have landed in the process-wide default registry either
    assertNoLeaks()
  })
}

/** The errno of a result, or "ok". */
export const errnoOf = (r: unknown): string => (isSysError(r) ? r.errno : "ok")

/** Assert success and return the value. */
export const ok = <A>(r: A | SysError): A => {
  if (isSysError(r)) throw new Error(`expected success, got ${r.errno} ${r.detail ?? ""}`)
  return r
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

export const mountinfo = (w: VfsWorld): string => showMountinfo({ root: w.task.fs.root, ns: w.task.mntNs })
export const table = (w: VfsWorld) => normaliseMountinfo(mountinfo(w))
export const expectErrno = (r: unknown, errno: string): void => expect(errnoOf(r)).toBe(errno)

/** Credentials of uid/gid 1000 without capabilities, in the world's user namespace (the caller's reference). */
export const unprivileged = (w: VfsWorld, uid = 1000, gid = 1000, groups: ReadonlyArray<number> = []): Cred => {
  const draft = prepareCreds(w.task.cred)
  draft.uid = draft.euid = draft.suid = draft.fsuid = uid
  draft.gid = draft.egid = draft.sgid = draft.fsgid = gid
  draft.capEffective = draft.capPermitted = 0
  draft.setGroups(groups)
  return credFromDraft(draft)
}

/** A task view with other credentials (same fs, files, namespace); put the cred when done. */
export const asCred = (w: VfsWorld, cred: Cred): VfsTask => ({ ...w.task, cred })
