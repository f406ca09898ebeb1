import type { SysError } from "@simkernel/abi"
import {
  commitCreds,
  createInitCred,
  createInitUserNs,
  type Cred,
  prepareCreds,
  procGidMapWrite,
  procSetgroupsWrite,
  procUidMapWrite,
  unshareUserns,
  type UserNamespace
} from "@simkernel/cred"
import { assertNoLeaks, LiveObjects } from "@simkernel/kref"
import { nsKinds, NsProxy } from "@simkernel/nsproxy"
import { Effect } from "effect"
import { NetNamespace, netNamespaceOps, WouldBlock } from "../src/index.js"

/** A booted world: the initial user namespace, root's credentials, init_net and init's NsProxy. */
export interface World {
  readonly live: LiveObjects
  readonly userNs: UserNamespace
  readonly cred: Cred
  readonly net: NetNamespace
  readonly nsproxy: NsProxy
  /** Put what boot() made; the caller then checks the audit. */
  teardown(): void
}

let current: World | undefined

export const boot = (seed?: number): World => {
  const live = new LiveObjects()
  const userNs = createInitUserNs({ registry: live })
  const cred = createInitCred(userNs)
  const net = NetNamespace.createInit(userNs, seed === undefined ? {} : { seed })
  const nsproxy = NsProxy.createInit(userNs, nsKinds({ net: netNamespaceOps }), { net: net.get() })
  const w: World = {
    live,
    userNs,
    cred,
    net,
    nsproxy,
    teardown: () => {
      nsproxy.put()
      net.put()
      cred.put()
      userNs.put()
    }
  }
  current = w
  return w
}

/** afterEach: tear the current world down and assert that nothing is left. */
export const auditAfterEach = (): void => {
  const w = current
  current = undefined
  if (w === undefined) return
  w.teardown()
  assertNoLeaks(w.live)
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

/** unshare(CLONE_NEWUSER) with `unshare -r`'s maps: root in a new user namespace. */
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

export const errno = (x: unknown): string | undefined =>
  x instanceof WouldBlock ? "WouldBlock" : x instanceof Error ? (x as SysError).errno : undefined

/** Unwrap a result that must not be an error. */
export const ok = <A>(x: A | SysError | WouldBlock): A => {
  if (x instanceof Error || x instanceof WouldBlock) throw new Error(`unexpected ${errno(x)}`)
  return x
}

export const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))
export const text = (b: Uint8Array): string => String.fromCharCode(...b)
export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex")
export const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"))
