import { AT_FDCWD, O_CREAT, O_RDONLY, O_WRONLY } from "@simkernel/abi"
import { createUserNs, credFromDraft, prepareCreds, procGidMapWrite, procUidMapWrite, type Cred } from "@simkernel/cred"
import { chroot, close, fchownat, fstatat, mkdirat, openat, type VfsWorld } from "@simkernel/vfs"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { asCred, expectErrno, makeWorld, ok, unprivileged, useWorlds } from "./helpers.js"

useWorlds()

/** Credentials in a new user namespace mapping 0 -> 1000 only, acting as kernel uid/gid 1000 (root there). */
const rootOfChildNs = (w: VfsWorld): Cred => {
  const draft = prepareCreds(w.task.cred)
  Effect.runSync(createUserNs(draft))
  draft.uid = draft.euid = draft.suid = draft.fsuid = 1000
  draft.gid = draft.egid = draft.sgid = draft.fsgid = 1000
  const cred = credFromDraft(draft)
  Effect.runSync(procUidMapWrite(cred.userNs, "0 1000 1", w.task.cred))
  Effect.runSync(procGidMapWrite(cred.userNs, "0 1000 1", w.task.cred))
  return cred
}

describe("capabilities act only on inodes mapped in the caller's user namespace", () => {
  it("root of a child namespace overrides permissions on its own files only", () => {
    const w = makeWorld()
    const t = w.task
    const mk = (path: string, uid: number, gid: number) => {
      close(t, ok(openat(t, AT_FDCWD, path, O_CREAT | O_WRONLY, 0o600)))
      ok(fchownat(t, AT_FDCWD, path, uid, gid, 0))
    }
    mk("/host", 0, 0)
    mk("/mine", 1000, 1000)
    mk("/other", 1001, 1000)
    ok(mkdirat(t, AT_FDCWD, "/hostdir", 0o700))
    const cred = rootOfChildNs(w)
    const c = asCred(w, cred)
    expectErrno(openat(c, AT_FDCWD, "/host", O_RDONLY, 0), "EACCES")
    expectErrno(openat(c, AT_FDCWD, "/other", O_RDONLY, 0), "EACCES")
    close(t, ok(openat(c, AT_FDCWD, "/mine", O_RDONLY, 0)))
    expectErrno(fstatat(c, AT_FDCWD, "/hostdir/x", 0), "EACCES")
    // uid 0 of the host is not mapped: stat shows the overflow id
    expect(ok(fstatat(c, AT_FDCWD, "/host", 0)).uid).toBe(65534)
    expect(ok(fstatat(c, AT_FDCWD, "/mine", 0)).uid).toBe(0)
    // chown to an id the namespace cannot name is EINVAL; CAP_CHOWN needs the inode mapped
    expectErrno(fchownat(c, AT_FDCWD, "/mine", 5, -1, 0), "EINVAL")
    expectErrno(fchownat(c, AT_FDCWD, "/host", 0, -1, 0), "EPERM")
    // CAP_SYS_CHROOT in its own namespace is enough for chroot(2)
    ok(chroot(c, "/"))
    cred.put()
  })

  it("chroot needs CAP_SYS_CHROOT", () => {
    const w = makeWorld()
    const cred = unprivileged(w)
    expectErrno(chroot(asCred(w, cred), "/"), "EPERM")
    cred.put()
  })
})
