import {
  CAP_SETFCAP,
  CAP_SETGID,
  CAP_SETUID,
  CAP_SYS_ADMIN,
  MAX_USER_NS_LEVEL,
  PROC_USER_INIT_INO,
  type SysError,
  sysFail
} from "@simkernel/abi"
import { LiveObjects } from "@simkernel/kref"
import { Effect } from "effect"
import { capCapable } from "./commoncap.js"
import { abortCreds, type Cred, type CredValues, type NewCred, prepareCreds } from "./Cred.js"
import { CAP_EMPTY_SET, CAP_FULL_SET, capRaised } from "./kernelCap.js"
import { NsCommon, NsInumAllocator, nsAllocInum } from "./NsCommon.js"
import { SECUREBITS_DEFAULT } from "./securebits.js"
import { INVALID_ID, type IdMap, MAP_WRITE_MAX, parseIdMap, UidGidMap, type UidGidExtent } from "./UidGidMap.js"
import {
  fromKgid,
  fromKprojid,
  fromKuid,
  GLOBAL_ROOT_GID,
  GLOBAL_ROOT_UID,
  type Kgid,
  kgidHasMapping,
  type Kuid,
  kuidHasMapping,
  makeKgid,
  makeKuid
} from "./uidgid.js"

const internal: unique symbol = Symbol("userns.internal")

/** The default of the max_user_namespaces sysctl in every namespace: INT_MAX. */
const UCOUNT_MAX_DEFAULT = 2147483647

interface UserNamespaceInit {
  readonly parent: UserNamespace | undefined
  readonly inum: number
  readonly owner: Kuid
  readonly group: Kgid
  readonly setgroupsAllowed: boolean
  readonly parentCouldSetfcap: boolean
  readonly registry: LiveObjects | undefined
  readonly maxUserNamespaces: number
}

/**
 * A user namespace, as include/linux/user_namespace.h struct
 * user_namespace: the id maps that translate its uids and gids to kernel
 * ids, its parent (a held reference, which is also its owning namespace),
 * its nesting level, and the kernel uid and gid of the task that created
 * it. Capabilities a Cred holds apply in the Cred's user namespace and
 * below it (see capCapable()).
 */
export class UserNamespace extends NsCommon {
  readonly kind = "user"
  /** 0 for the initial namespace, parent's level + 1 below. */
  readonly level: number
  /** Kernel uid of the creator's euid: this uid has every capability in the namespace from its parent. */
  readonly owner: Kuid
  /** Kernel gid of the creator's egid. */
  readonly group: Kgid
  /** The creator had CAP_SETFCAP when it made the namespace (checked when mapping uid 0 of the parent). */
  readonly parentCouldSetfcap: boolean
  readonly uidMap: IdMap
  readonly gidMap: IdMap
  readonly projidMap: IdMap
  /** The nsfs inode number allocator of this namespace hierarchy (one per simulated kernel). */
  readonly inums: NsInumAllocator
  /** The registry every object of this hierarchy lives in. */
  readonly liveObjects: LiveObjects
  /** The initial user namespace of this hierarchy (not a counted reference: the parent chain keeps it alive). */
  readonly initNs: UserNamespace
  /**
   * The user.max_user_namespaces sysctl of this namespace: how many user
   * namespaces each uid may have created below it (ENOSPC beyond).
   */
  maxUserNamespaces: number
  private setgroupsFlag: boolean
  /** ucounts UCOUNT_USER_NAMESPACES: namespaces below this one, by the uid that made them here. */
  private readonly nsCounts = new Map<Kuid, number>()

  /** Made only by createInitUserNs() and createUserNs(). Takes its own reference to the parent. */
  constructor(_token: typeof internal, init: UserNamespaceInit) {
    super({ ownerNs: init.parent, inum: init.inum, registry: init.registry, origin: "user namespace" })
    const parent = init.parent
    this.level = parent === undefined ? 0 : parent.level + 1
    this.owner = init.owner
    this.group = init.group
    this.parentCouldSetfcap = init.parentCouldSetfcap
    this.uidMap = new UidGidMap()
    this.gidMap = new UidGidMap()
    this.projidMap = new UidGidMap()
    this.inums = parent === undefined ? new NsInumAllocator() : parent.inums
    this.liveObjects = parent === undefined ? (init.registry ?? LiveObjects.default) : parent.liveObjects
    this.initNs = parent === undefined ? this : parent.initNs
    this.maxUserNamespaces = init.maxUserNamespaces
    this.setgroupsFlag = init.setgroupsAllowed
  }

  /** The parent namespace (the owner, in ns_common terms); undefined for the initial namespace. */
  get parent(): UserNamespace | undefined {
    return this.ownerNs
  }

  /** USERNS_SETGROUPS_ALLOWED: /proc/<pid>/setgroups reads "allow". */
  get setgroupsAllowed(): boolean {
    return this.setgroupsFlag
  }

  /** User namespaces created below this one by tasks whose euid was `uid` here (nested ones included). */
  userNamespaceCount(uid: Kuid): number {
    return this.nsCounts.get(uid) ?? 0
  }

  /** Clear USERNS_SETGROUPS_ALLOWED (procSetgroupsWrite "deny"). */
  denySetgroups(_token: typeof internal): void {
    this.setgroupsFlag = false
  }

  /**
   * inc_ucount(UCOUNT_USER_NAMESPACES): count a new namespace made here by
   * `uid`, then in each ancestor against the uid that made the namespace
   * below it; false (nothing counted) when a max_user_namespaces is reached.
   */
  incUserNamespaces(_token: typeof internal, uid: Kuid): boolean {
    const done: Array<readonly [UserNamespace, Kuid]> = []
    for (let iter: UserNamespace | undefined = this, u = uid; iter !== undefined; u = iter.owner, iter = iter.parent) {
      const n = iter.nsCounts.get(u) ?? 0
      if (n >= iter.maxUserNamespaces) {
        for (const [m, v] of done) m.decCount(v)
        return false
      }
      iter.nsCounts.set(u, n + 1)
      done.push([iter, u])
    }
    return true
  }

  /** dec_ucount(UCOUNT_USER_NAMESPACES): undo incUserNamespaces(). */
  decUserNamespaces(_token: typeof internal, uid: Kuid): void {
    for (let iter: UserNamespace | undefined = this, u = uid; iter !== undefined; u = iter.owner, iter = iter.parent) {
      iter.decCount(u)
    }
  }

  private decCount(uid: Kuid): void {
    const n = (this.nsCounts.get(uid) ?? 0) - 1
    if (n > 0) this.nsCounts.set(uid, n)
    else this.nsCounts.delete(uid)
  }

  protected override destroy(): void {
    const parent = this.parent
    if (parent !== undefined) parent.decUserNamespaces(internal, this.owner)
  }
}

/** The identity map of the initial namespace: "0 0 4294967295" (every id but (uid_t)-1). */
const IDENTITY: ReadonlyArray<UidGidExtent> = [{ first: 0, lowerFirst: 0, count: 4294967295 }]

export interface InitUserNsOptions {
  /** The registry for this kernel's objects (LiveObjects.default if omitted). */
  readonly registry?: LiveObjects
  /** The initial max_user_namespaces sysctl (Linux derives it from memory; INT_MAX here). */
  readonly maxUserNamespaces?: number
}

/**
 * init_user_ns: the root of a user namespace hierarchy, with the fixed
 * inode number PROC_USER_INIT_INO, identity uid, gid and project id maps,
 * and setgroups allowed. Returns the caller's reference; createInitCred()
 * makes the matching first credentials.
 */
export const createInitUserNs = (options: InitUserNsOptions = {}): UserNamespace => {
  const ns = new UserNamespace(internal, {
    parent: undefined,
    inum: PROC_USER_INIT_INO,
    owner: GLOBAL_ROOT_UID,
    group: GLOBAL_ROOT_GID,
    setgroupsAllowed: true,
    parentCouldSetfcap: false,
    registry: options.registry,
    maxUserNamespaces: options.maxUserNamespaces ?? UCOUNT_MAX_DEFAULT
  })
  ;(ns.uidMap as UidGidMap).install(IDENTITY)
  ;(ns.gidMap as UidGidMap).install(IDENTITY)
  ;(ns.projidMap as UidGidMap).install(IDENTITY)
  return ns
}

/**
 * set_cred_user_ns(): move prepared credentials into `ns` (taking over the
 * caller's reference) with the capabilities a namespace's creator, or a
 * setns(2) caller, gets there: full effective, permitted and bounding sets,
 * empty inheritable and ambient sets, no securebits, and no
 * request_key authorisation key.
 */
export const setCredUserNs = (draft: NewCred, ns: UserNamespace): void => {
  draft.securebits = SECUREBITS_DEFAULT
  draft.capInheritable = CAP_EMPTY_SET
  draft.capPermitted = CAP_FULL_SET
  draft.capEffective = CAP_FULL_SET
  draft.capAmbient = CAP_EMPTY_SET
  draft.capBset = CAP_FULL_SET
  draft.setRequestKeyAuth(undefined)
  draft.setUserNs(ns)
}

export interface CreateUserNsOptions {
  /** The creating task's root is not the root of its mount namespace (current_chrooted()): EPERM. */
  readonly chrooted?: boolean
}

/**
 * create_user_ns(): make a user namespace below the draft's one, owned by
 * the draft's euid and egid, and move the draft into it with a full set of
 * capabilities there (setCredUserNs()). The ids stay as they were: they read
 * as the overflow id 65534 inside until uid_map and gid_map are written.
 * Fails with
 * - ENOSPC when the parent is at level 33 (the deepest level is 33: probed
 *   on Linux 6.18, where the 34th nested unshare(CLONE_NEWUSER) fails; the
 *   man page's EUSERS is Linux 3.11 to 4.8), or when a max_user_namespaces
 *   limit of this or an ancestor namespace is reached;
 * - EPERM when the creator is chrooted, or its euid or egid has no mapping
 *   in the parent namespace.
 */
export const createUserNs = (draft: NewCred, options: CreateUserNsOptions = {}): Effect.Effect<void, SysError> =>
  Effect.suspend(() => {
    const parent = draft.userNs
    const owner = draft.euid
    const group = draft.egid
    if (parent.level > MAX_USER_NS_LEVEL) return sysFail("ENOSPC", "unshare", "user namespaces nested too deep")
    if (!parent.incUserNamespaces(internal, owner)) return sysFail("ENOSPC", "unshare", "max_user_namespaces reached")
    const undo = (): void => parent.decUserNamespaces(internal, owner)
    if (options.chrooted === true) {
      undo()
      return sysFail("EPERM", "unshare", "a chrooted task may not create a user namespace")
    }
    if (!kuidHasMapping(parent, owner) || !kgidHasMapping(parent, group)) {
      undo()
      return sysFail("EPERM", "unshare", "the creator's euid or egid is not mapped in the parent namespace")
    }
    return nsAllocInum(parent).pipe(
      Effect.tapError(() => Effect.sync(undo)),
      Effect.map((inum) => {
        const ns = new UserNamespace(internal, {
          parent,
          inum,
          owner,
          group,
          setgroupsAllowed: parent.setgroupsAllowed,
          parentCouldSetfcap: capRaised(draft.capEffective, CAP_SETFCAP),
          registry: undefined,
          maxUserNamespaces: UCOUNT_MAX_DEFAULT
        })
        setCredUserNs(draft, ns)
      })
    )
  })

/**
 * unshare_userns(): prepared credentials of `old` moved into a new user
 * namespace, for unshare(CLONE_NEWUSER) to commit.
 */
export const unshareUserns = (old: Cred, options: CreateUserNsOptions = {}): Effect.Effect<NewCred, SysError> =>
  Effect.suspend(() => {
    const draft = prepareCreds(old)
    return createUserNs(draft, options).pipe(
      Effect.as(draft),
      Effect.tapError(() => Effect.sync(() => abortCreds(draft)))
    )
  })

/**
 * The credential half of userns_install() (setns(2) to a user namespace):
 * EINVAL when `current` is already in `ns` (re-entering must not regain
 * capabilities), EPERM without CAP_SYS_ADMIN in `ns`; then the draft moves
 * there as setCredUserNs() describes. The task-level rules (EINVAL for a
 * multithreaded caller or a shared fs_struct) are the caller's.
 */
export const usernsInstall = (current: CredValues, draft: NewCred, ns: UserNamespace): Effect.Effect<void, SysError> =>
  Effect.suspend(() => {
    if (ns === current.userNs) return sysFail("EINVAL", "setns", "already in this user namespace")
    if (!capCapable(current, ns, CAP_SYS_ADMIN))
      return sysFail("EPERM", "setns", "CAP_SYS_ADMIN in the target user namespace is required")
    setCredUserNs(draft, ns.get())
    return Effect.void
  })

/** in_userns(): is `child` the same namespace as `ancestor` or below it? */
export const inUserns = (ancestor: UserNamespace, child: UserNamespace): boolean => {
  let ns = child
  while (ns.level > ancestor.level) ns = ns.parent!
  return ns === ancestor
}

/** current_in_userns(): is the cred's namespace `target` or below it? */
export const currentInUserns = (cred: CredValues, target: UserNamespace): boolean => inUserns(target, cred.userNs)

/** userns_may_setgroups(): setgroups(2) is allowed once a gid map exists and "deny" was not written. */
export const usernsMaySetgroups = (ns: UserNamespace): boolean => ns.gidMap.nrExtents !== 0 && ns.setgroupsAllowed

type MapKind = "uid_map" | "gid_map" | "projid_map"

const CAP_FOR: { readonly [K in MapKind]: number } = { uid_map: CAP_SETUID, gid_map: CAP_SETGID, projid_map: -1 }

const mapOf = (ns: UserNamespace, kind: MapKind): IdMap =>
  kind === "uid_map" ? ns.uidMap : kind === "gid_map" ? ns.gidMap : ns.projidMap

const encoder = new TextEncoder()
const toBytes = (buf: string | Uint8Array): Uint8Array => (typeof buf === "string" ? encoder.encode(buf) : buf)

/**
 * verify_root_map(): mapping uid 0 of the parent needs CAP_SETFCAP: the
 * namespace's creator must have had it (when it writes its own map), or the
 * opener of the map file must have it over the parent namespace.
 */
const verifyRootMap = (ns: UserNamespace, extents: ReadonlyArray<UidGidExtent>, opener: CredValues): boolean => {
  if (!extents.some((e) => e.lowerFirst === 0)) return true
  if (ns === opener.userNs) return ns.parentCouldSetfcap
  return capCapable(opener, ns.parent!, CAP_SETFCAP)
}

/**
 * new_idmap_permitted(): without privilege, the opener of the map file may
 * map exactly one id, its own euid for uid_map, or its own egid for gid_map
 * after setgroups was set to "deny", and only when it owns the namespace.
 * Anything else needs CAP_SETUID (CAP_SETGID) over the parent namespace in
 * both the writer and the opener. projid_map needs no privilege.
 */
const newIdmapPermitted = (
  ns: UserNamespace,
  kind: MapKind,
  extents: ReadonlyArray<UidGidExtent>,
  writer: CredValues,
  opener: CredValues
): boolean => {
  const parent = ns.parent!
  if (kind === "uid_map" && !verifyRootMap(ns, extents, opener)) return false
  if (extents.length === 1 && extents[0]!.count === 1 && ns.owner === opener.euid) {
    const id = extents[0]!.lowerFirst
    if (kind === "uid_map" && makeKuid(parent, id) === opener.euid) return true
    if (kind === "gid_map" && !ns.setgroupsAllowed && makeKgid(parent, id) === opener.egid) return true
  }
  const cap = CAP_FOR[kind]
  if (cap < 0) return true
  return capCapable(writer, parent, cap) && capCapable(opener, parent, cap)
}

/**
 * proc_uid_map_write() and map_write(): write a map of `ns` through its
 * /proc/<pid>/{uid,gid,projid}_map file, opened by `opener` (file->f_cred)
 * and written by `writer` (the current task). Returns the bytes written.
 * EPERM for the initial namespace, when the opener is in neither `ns` nor
 * its parent, when the map was already written, when the opener lacks
 * CAP_SYS_ADMIN in `ns` (uid and gid maps), when the ids are not allowed
 * (see newIdmapPermitted) or a lower range is not mapped in the parent;
 * EINVAL for a write at an offset, of a page or more, or that fails to
 * parse (see parseIdMap).
 */
const procMapWrite = (
  kind: MapKind,
  ns: UserNamespace,
  buf: string | Uint8Array,
  writer: CredValues,
  opener: CredValues,
  pos: number
): Effect.Effect<number, SysError> =>
  Effect.suspend(() => {
    const parent = ns.parent
    if (parent === undefined) return sysFail("EPERM", "write", `the initial user namespace's ${kind} is fixed`)
    const seqNs = opener.userNs
    if (seqNs !== ns && seqNs !== parent)
      return sysFail("EPERM", "write", `the opener of ${kind} is in neither the namespace nor its parent`)
    const bytes = toBytes(buf)
    if (pos !== 0 || bytes.length >= MAP_WRITE_MAX)
      return sysFail("EINVAL", "write", `${kind} takes one write of less than a page at offset 0`)
    const map = mapOf(ns, kind)
    if (map.nrExtents !== 0) return sysFail("EPERM", "write", `${kind} can be written only once`)
    if (CAP_FOR[kind] >= 0 && !capCapable(opener, ns, CAP_SYS_ADMIN))
      return sysFail("EPERM", "write", `the opener of ${kind} needs CAP_SYS_ADMIN in the namespace`)
    const extents = parseIdMap(bytes)
    if (extents === undefined) return sysFail("EINVAL", "write", `malformed ${kind}`)
    if (!newIdmapPermitted(ns, kind, extents, writer, opener))
      return sysFail("EPERM", "write", `not permitted to map these ids in ${kind}`)
    const parentMap = mapOf(parent, kind)
    const installed: Array<UidGidExtent> = []
    for (const e of extents) {
      const lowerFirst = parentMap.mapIdRangeDown(e.lowerFirst, e.count)
      if (lowerFirst === INVALID_ID)
        return sysFail(
          "EPERM",
          "write",
          `${kind} range ${e.lowerFirst}+${e.count} is not mapped in the parent namespace`
        )
      installed.push({ first: e.first, lowerFirst, count: e.count })
    }
    ;(map as UidGidMap).install(installed)
    return Effect.succeed(bytes.length)
  })

/** Write /proc/<pid>/uid_map of `ns` (see procMapWrite rules above). `opener` defaults to the writer. */
export const procUidMapWrite = (
  ns: UserNamespace,
  buf: string | Uint8Array,
  writer: CredValues,
  opener: CredValues = writer,
  pos = 0
): Effect.Effect<number, SysError> => procMapWrite("uid_map", ns, buf, writer, opener, pos)

/** Write /proc/<pid>/gid_map of `ns`. Unprivileged writers must write "deny" to setgroups first. */
export const procGidMapWrite = (
  ns: UserNamespace,
  buf: string | Uint8Array,
  writer: CredValues,
  opener: CredValues = writer,
  pos = 0
): Effect.Effect<number, SysError> => procMapWrite("gid_map", ns, buf, writer, opener, pos)

/** Write /proc/<pid>/projid_map of `ns`: no capability is needed, only parent-mapped project ids. */
export const procProjidMapWrite = (
  ns: UserNamespace,
  buf: string | Uint8Array,
  writer: CredValues,
  opener: CredValues = writer,
  pos = 0
): Effect.Effect<number, SysError> => procMapWrite("projid_map", ns, buf, writer, opener, pos)

const pad10 = (n: number): string => String(n).padStart(10, " ")

const mapShow = (ns: UserNamespace, kind: MapKind, opener: CredValues): string => {
  let lowerNs = opener.userNs
  if (lowerNs === ns && ns.parent !== undefined) lowerNs = ns.parent
  const up = kind === "uid_map" ? fromKuid : kind === "gid_map" ? fromKgid : fromKprojid
  let out = ""
  for (const e of mapOf(ns, kind).extents()) {
    out += `${pad10(e.first)} ${pad10(up(lowerNs, e.lowerFirst))} ${pad10(e.count)}\n`
  }
  return out
}

/**
 * uid_m_show(): /proc/<pid>/uid_map of `ns` as a task whose credentials
 * are `opener` reads it ("%10u %10u %10u\n" per extent). The middle column
 * is the lower id as the opener's namespace sees it, except that an opener
 * inside `ns` sees the parent's ids; an id with no mapping there shows as
 * 4294967295. Empty until the map is written.
 */
export const procUidMapShow = (ns: UserNamespace, opener: CredValues): string => mapShow(ns, "uid_map", opener)
/** gid_m_show(). */
export const procGidMapShow = (ns: UserNamespace, opener: CredValues): string => mapShow(ns, "gid_map", opener)
/** projid_m_show(). */
export const procProjidMapShow = (ns: UserNamespace, opener: CredValues): string => mapShow(ns, "projid_map", opener)

/** proc_setgroups_show(): "allow\n" or "deny\n". */
export const procSetgroupsShow = (ns: UserNamespace): string => (ns.setgroupsAllowed ? "allow\n" : "deny\n")

/**
 * proc_setgroups_open(): opening /proc/<pid>/setgroups for writing needs
 * CAP_SYS_ADMIN in the namespace (EACCES otherwise).
 */
export const procSetgroupsOpen = (
  ns: UserNamespace,
  opener: CredValues,
  write: boolean
): Effect.Effect<void, SysError> =>
  write && !capCapable(opener, ns, CAP_SYS_ADMIN)
    ? sysFail("EACCES", "open", "writing setgroups needs CAP_SYS_ADMIN in the namespace")
    : Effect.void

const SETGROUPS_WRITE_MAX = 8
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0

/**
 * proc_setgroups_write(): write "allow" or "deny" (trailing white space
 * allowed) to /proc/<pid>/setgroups of `ns`, through a file opened by
 * `opener` (procSetgroupsOpen() is checked first: EACCES). "deny" is one
 * way: "allow" after it is EPERM, and so is "deny" once gid_map is written.
 * EINVAL for anything else, a write at an offset, or 8 bytes or more.
 * Returns the bytes written.
 */
export const procSetgroupsWrite = (
  ns: UserNamespace,
  buf: string | Uint8Array,
  opener: CredValues,
  pos = 0
): Effect.Effect<number, SysError> =>
  Effect.flatMap(procSetgroupsOpen(ns, opener, true), () => {
    const bytes = toBytes(buf)
    if (pos !== 0 || bytes.length >= SETGROUPS_WRITE_MAX)
      return sysFail("EINVAL", "write", 'setgroups takes "allow" or "deny"')
    const nul = bytes.indexOf(0)
    const text = bytes.subarray(0, nul < 0 ? bytes.length : nul)
    const word = (w: string): boolean => text.length >= w.length && [...w].every((c, i) => text[i] === c.charCodeAt(0))
    let allow: boolean
    let i: number
    if (word("allow")) {
      allow = true
      i = 5
    } else if (word("deny")) {
      allow = false
      i = 4
    } else return sysFail("EINVAL", "write", 'setgroups takes "allow" or "deny"')
    while (i < text.length && isSpace(text[i]!)) i++
    if (i !== text.length) return sysFail("EINVAL", "write", "trailing characters after the setgroups word")
    if (allow) {
      if (!ns.setgroupsAllowed) return sysFail("EPERM", "write", "setgroups was denied and cannot be allowed again")
    } else {
      if (ns.gidMap.nrExtents !== 0)
        return sysFail("EPERM", "write", "setgroups cannot be denied after gid_map is written")
      ns.denySetgroups(internal)
    }
    return Effect.succeed(bytes.length)
  })
