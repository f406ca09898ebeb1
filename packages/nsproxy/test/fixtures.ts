import { sysError, type SysError } from "@simkernel/abi"
import {
  commitCreds,
  createInitCred,
  createInitUserNs,
  type Cred,
  NsCommon,
  prepareCreds,
  procGidMapWrite,
  procSetgroupsWrite,
  procUidMapWrite,
  unshareUserns,
  type UserNamespace
} from "@simkernel/cred"
import { LiveObjects } from "@simkernel/kref"
import { Effect } from "effect"
import { type NamespaceOps, type NsKinds, nsKinds, NsProxy, type SetnsCaller } from "../src/index.js"

/** A stand-in for a registered namespace type (the VFS's mnt, sched's pid). */
export class FakeNamespace extends NsCommon {
  constructor(
    readonly kind: "mnt" | "pid" | "net",
    owner: UserNamespace,
    inum: number,
    readonly parentNs?: FakeNamespace
  ) {
    super({ ownerNs: owner, inum })
    if (parentNs !== undefined) this.hold(parentNs.get())
  }
}

export const fakeOps = (kind: "mnt" | "pid" | "net"): NamespaceOps<FakeNamespace> => ({
  kind,
  copy: (old, userNs) => {
    const inum = userNs.inums.alloc()
    return inum === undefined ? sysError("ENOSPC", "unshare") : new FakeNamespace(kind, userNs, inum, kind === "pid" ? old : undefined)
  },
  install: (nsset, ns) => {
    nsset.nsproxy.replace(kind === "pid" ? "pidForChildren" : kind, ns.get())
    return undefined
  },
  getParent: (ns) => (ns.parentNs === undefined ? sysError("EPERM", "ioctl") : ns.parentNs.get())
})

/** A booted namespace world: the initial user namespace, root's credentials and init's NsProxy. */
export interface World {
  readonly live: LiveObjects
  readonly userNs: UserNamespace
  readonly task: { cred: Cred; nsproxy: NsProxy | undefined }
  teardown(): void
}

export const boot = (kinds?: (base: NsKinds) => NsKinds): World => {
  const live = new LiveObjects()
  const userNs = createInitUserNs({ registry: live })
  const base = nsKinds({ mnt: fakeOps("mnt"), pid: fakeOps("pid"), net: fakeOps("net") })
  const nsproxy = NsProxy.createInit(userNs, kinds ? kinds(base) : base, {
    mnt: new FakeNamespace("mnt", userNs, 0xeffffff8),
    pid: new FakeNamespace("pid", userNs, 0xeffffffc),
    net: new FakeNamespace("net", userNs, 0xeffffff9)
  })
  const task = { cred: createInitCred(userNs), nsproxy: nsproxy as NsProxy | undefined }
  return {
    live,
    userNs,
    task,
    teardown: () => {
      task.nsproxy?.put()
      task.cred.put()
      userNs.put()
    }
  }
}

/** Credentials of an ordinary user: uid/gid 1000 and no capabilities. */
export const unprivileged = (cred: Cred, uid = 1000): Cred => {
  const holder = { cred: cred.get() }
  const draft = prepareCreds(cred)
  draft.uid = draft.euid = draft.suid = draft.fsuid = uid
  draft.gid = draft.egid = draft.sgid = draft.fsgid = uid
  draft.capEffective = draft.capPermitted = draft.capInheritable = draft.capAmbient = 0
  commitCreds(holder, draft)
  return holder.cred
}

/**
 * unshare(CLONE_NEWUSER) by `cred` with the map `unshare -r` writes
 * (0 -> the creator's uid and gid, setgroups denied): root in a new user
 * namespace. Returns the new credentials.
 */
export const mapRootUser = (cred: Cred): Cred => {
  const draft = Effect.runSync(unshareUserns(cred))
  const holder = { cred: cred.get() }
  commitCreds(holder, draft)
  const ns = holder.cred.userNs
  Effect.runSync(procSetgroupsWrite(ns, "deny", holder.cred))
  Effect.runSync(procUidMapWrite(ns, `0 ${cred.euid} 1`, holder.cred))
  Effect.runSync(procGidMapWrite(ns, `0 ${cred.egid} 1`, holder.cred))
  return holder.cred
}

export const caller = (task: { cred: Cred; nsproxy: NsProxy | undefined }, extra: Partial<SetnsCaller> = {}): SetnsCaller => ({
  nsproxy: task.nsproxy!,
  cred: task.cred,
  fsUsers: 1,
  threads: 1,
  ...extra
})

export const isErr = (x: unknown): x is SysError => x instanceof Error

export const errno = (x: unknown): string | undefined => (x instanceof Error ? (x as SysError).errno : undefined)
