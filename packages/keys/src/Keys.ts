import {
  CAP_SYS_ADMIN,
  type ErrnoName,
  KEY_ACE_CLEAR,
  KEY_ACE_EVERYONE,
  KEY_ACE_GROUP,
  KEY_ACE_INVAL,
  KEY_ACE_JOIN,
  KEY_ACE_LINK,
  KEY_ACE_OWNER,
  KEY_ACE_POSSESSOR,
  KEY_ACE_READ,
  KEY_ACE_REVOKE,
  KEY_ACE_SEARCH,
  KEY_ACE_SET_SECURITY,
  KEY_ACE_VIEW,
  KEY_ACE_WRITE,
  KEY_GRP_ALL,
  KEY_OTH_ALL,
  KEY_POS_ALL,
  KEY_POS_LINK,
  KEY_POS_READ,
  KEY_POS_SEARCH,
  KEY_POS_SETATTR,
  KEY_POS_VIEW,
  KEY_POS_WRITE,
  KEY_REQKEY_DEFL_DEFAULT,
  KEY_REQKEY_DEFL_NO_CHANGE,
  KEY_REQKEY_DEFL_PROCESS_KEYRING,
  KEY_REQKEY_DEFL_REQUESTOR_KEYRING,
  KEY_REQKEY_DEFL_SESSION_KEYRING,
  KEY_REQKEY_DEFL_THREAD_KEYRING,
  KEY_REQKEY_DEFL_USER_KEYRING,
  KEY_REQKEY_DEFL_USER_SESSION_KEYRING,
  KEY_SPEC_PROCESS_KEYRING,
  KEY_SPEC_REQKEY_AUTH_KEY,
  KEY_SPEC_REQUESTOR_KEYRING,
  KEY_SPEC_SESSION_KEYRING,
  KEY_SPEC_THREAD_KEYRING,
  KEY_SPEC_USER_KEYRING,
  KEY_SPEC_USER_SESSION_KEYRING,
  KEY_USR_ALL,
  KEY_USR_LINK,
  KEY_USR_READ,
  KEY_USR_VIEW,
  KEYCTL_CAPS0_CAPABILITIES,
  KEYCTL_CAPS0_INVALIDATE,
  KEYCTL_CAPS0_MOVE,
  KEYCTL_CAPS1_NS_KEYRING_NAME,
  KEYCTL_MOVE_EXCL,
  SysError,
  sysError
} from "@simkernel/abi"
import {
  capable,
  commitCreds,
  type CredHolder,
  type CredValues,
  fromKgidMunged,
  fromKuid,
  fromKuidMunged,
  gidValid,
  inGroupP,
  INVALID_GID,
  type Kgid,
  type Kuid,
  kuidHasMapping,
  makeKgid,
  makeKuid,
  type NewCred,
  prepareCreds,
  uidValid,
  type UserNamespace
} from "@simkernel/cred"
import { LiveObjects, WouldBlock } from "@simkernel/kref"
import {
  indexKeyOf,
  Key,
  type KeyAce,
  type KeyContainer,
  type KeyType,
  KEY_TYPE_KEYRING,
  KEY_TYPE_REQUEST_KEY_AUTH,
  KEY_TYPES,
  type KeyUser
} from "./Key.js"

/** The task making a key call: its credentials (replaced by commitCreds), its container, its pid. */
export interface KeyCaller extends CredHolder {
  /** The caller's container, if the container package put it in one. */
  readonly keyContainer?: KeyContainer | undefined
  /** The caller's tgid as the kernel log and /proc/keys show it. */
  readonly pid?: number | undefined
}

/** What the `/sbin/request-key` handler is given, as call_sbin_request_key()'s argv and session keyring. */
export interface RequestKeyUpcall {
  readonly op: string
  readonly keyId: number
  readonly type: string
  readonly description: string
  readonly calloutInfo: string
  readonly authKeyId: number
  /** The requestor's fsuid and fsgid in the initial user namespace. */
  readonly uid: number
  readonly gid: number
  readonly threadKeyring: number
  readonly processKeyring: number
  readonly sessionKeyring: number
  /** KEYCTL_INSTANTIATE with the authority of this request; `keyring` 0 links nowhere else. */
  instantiate(payload: Uint8Array, keyring?: number): SysError | undefined
  /** KEYCTL_REJECT (KEYCTL_NEGATE when `error` is ENOKEY). */
  reject(timeout: number, error?: ErrnoName): SysError | undefined
}

/** A pluggable `/sbin/request-key`: it runs before request_key() returns. */
export type RequestKeyHelper = (upcall: RequestKeyUpcall) => void

export interface KeysOptions {
  /** Where keys register for the leak audit. */
  readonly registry?: LiveObjects
  /** The kernel's real-time clock in seconds (ktime_get_real_seconds()). */
  readonly clock?: () => number
  /** `/sbin/request-key`; without one, construction fails with ENOKEY. */
  readonly requestKeyHelper?: RequestKeyHelper
  /** Seed for serial numbers, so that a kernel's serials repeat run to run. */
  readonly serialSeed?: number
}

/** A request_key() that must sleep until its key is constructed (wait_for_key_construction()). */
export class KeyConstructionWait extends WouldBlock {
  constructor(readonly key: Key) {
    super(key.waitQueue, () => !key.underConstruction)
  }
}

/** A seed intercept (KEYCTL_CONTAINER_INTERCEPT): request_key() of `type` in the container links its authorisation key into `dest`. */
interface Intercept {
  readonly type: string
  readonly nsId: number
  readonly dest: Key
}

interface ContainerKeys {
  keyring: Key | undefined
  readonly intercepts: Array<Intercept>
}

interface UserKeyrings {
  readonly user: Key
  readonly session: Key
}

/** A key and whether the caller possesses it (key_ref_t's possession bit). */
interface KeyRef {
  readonly key: Key
  readonly possessed: boolean
}

/** Who asks: credentials for the mask and ACEs, the container for the seed's container subjects. */
interface Subject {
  readonly cred: CredValues
  readonly container: KeyContainer | undefined
}

/** What request_key_auth QUERY fills (the seed's struct keyctl_query_request_key_auth). */
export interface RequestKeyAuthInfo {
  op: string
  fsuid: number
  fsgid: number
  target_key: number
  thread_keyring: number
  process_keyring: number
  session_keyring: number
}

/** KEY_DEFER_PERM_CHECK: lookup_user_key() leaves validity and permission to its caller. */
const DEFER = -1
const KEY_MAX_DESC_SIZE = 4096
const PAGE_SIZE = 4096
/** The largest payload add_key(2) and KEYCTL_INSTANTIATE take. */
const MAX_INSTANTIATE = 1024 * 1024 - 1
/** keyring_search: nested keyrings deeper than this are not searched (KEYRING_SEARCH_MAX_DEPTH). */
const KEYRING_SEARCH_MAX_DEPTH = 6
/** key_negative_timeout: a failed construction leaves a negative key for 60 s. */
const KEY_NEGATIVE_TIMEOUT = 60
/** key_gc_delay: a revoked or expired key stays linked this long. */
const KEY_GC_DELAY = 300
const FIND_LRU_ROUNDS = 10
/** KEYQUOTA_LINK_BYTES: each link in a keyring is charged to the keyring's owner. */
const KEYQUOTA_LINK_BYTES = 4

const ok = <T>(v: T | SysError): v is T => !(v instanceof SysError)

/**
 * The mainline mask bits of one class, as the seed's ACL bits: what the
 * 2019 series granted when it turned a mask into ACEs (key_acl_to_perm()
 * read backwards): WRITE also revokes and clears, SEARCH also invalidates
 * and joins, SETATTR also revokes.
 */
const maskToAce = (m: number): number => {
  let a = m & (KEY_ACE_VIEW | KEY_ACE_READ | KEY_ACE_WRITE | KEY_ACE_SEARCH | KEY_ACE_LINK | KEY_ACE_SET_SECURITY)
  if (m & KEY_ACE_WRITE) a |= KEY_ACE_REVOKE | KEY_ACE_CLEAR
  if (m & KEY_ACE_SEARCH) a |= KEY_ACE_INVAL | KEY_ACE_JOIN
  if (m & KEY_ACE_SET_SECURITY) a |= KEY_ACE_REVOKE
  return a
}

const utf8 = new TextEncoder()
const byteLength = (s: string): number => utf8.encode(s).length

/** key_get_type_from_user(): EFAULT, EINVAL for "" or 32 bytes and more, EPERM for an internal ".type". */
const checkTypeName = (type: string | null, syscall: string): SysError | undefined => {
  if (type === null) return sysError("EFAULT", syscall)
  const n = byteLength(type)
  if (n === 0 || n >= 32) return sysError("EINVAL", syscall, "type name length")
  if (type.startsWith(".")) return sysError("EPERM", syscall, "internal key type")
  return undefined
}

/** strndup_user(s, KEY_MAX_DESC_SIZE): EFAULT for NULL, EINVAL when it does not fit. */
const checkDescription = (d: string | null, syscall: string): SysError | undefined => {
  if (d === null) return sysError("EFAULT", syscall)
  if (byteLength(d) >= KEY_MAX_DESC_SIZE) return sysError("EINVAL", syscall, "description too long")
  return undefined
}

/** The first `plen` bytes of a user payload, as copy_from_user() takes them: EFAULT for NULL or a short buffer; null for none. */
const copyPayload = (payload: Uint8Array | null, plen: number, syscall: string): Uint8Array | null | SysError => {
  if (!(plen > 0)) return null
  if (payload === null || payload.length < plen) return sysError("EFAULT", syscall)
  return payload.subarray(0, plen)
}

/**
 * The key subsystem of one simulated kernel, as security/keys: the serial
 * table, per-user quotas (key_user), the user and user-session keyrings of
 * each user namespace, the seed's per-container keyrings and intercepts,
 * and the syscalls add_key(2), request_key(2) and keyctl(2) as methods
 * taking the calling task and Linux's arguments.
 */
export class Keys {
  readonly registry: LiveObjects
  readonly clock: () => number
  requestKeyHelper: RequestKeyHelper | undefined
  /** /proc/sys/kernel/keys/maxkeys, maxbytes, root_maxkeys, root_maxbytes. */
  maxkeys = 200
  maxbytes = 20000
  rootMaxkeys = 1000000
  rootMaxbytes = 25000000
  /** /proc/sys/kernel/keys/gc_delay. */
  gcDelay = KEY_GC_DELAY
  private readonly serials = new Map<number, Key>()
  private readonly users = new Map<Kuid, KeyUser>()
  private readonly userKeyrings = new Map<UserNamespace, Map<Kuid, UserKeyrings>>()
  private readonly containers = new Map<KeyContainer, ContainerKeys>()
  /** Containers whose keyring was ever set: the seed's container keeps it until freed, so a second set stays EBUSY after its keys are released. */
  private readonly keyringWasSet = new WeakSet<KeyContainer>()
  private serialState: number

  constructor(options: KeysOptions = {}) {
    this.registry = options.registry ?? LiveObjects.default
    this.clock = options.clock ?? (() => Math.floor(Date.now() / 1000))
    this.requestKeyHelper = options.requestKeyHelper
    this.serialState = (options.serialSeed ?? 0x2545f491) >>> 0 || 1
  }

  // ---- allocation, quota, serials (security/keys/key.c) ----

  /** key_alloc_serial(): a random-looking positive int32 of at least 3, unique; deterministic per seed. */
  private allocSerial(): number {
    for (;;) {
      let x = this.serialState
      x ^= x << 13
      x >>>= 0
      x ^= x >>> 17
      x ^= x << 5
      x >>>= 0
      this.serialState = x
      const serial = x >>> 1
      if (serial >= 3 && !this.serials.has(serial)) return serial
    }
  }

  /** key_user_lookup(). */
  private keyUser(uid: Kuid): KeyUser {
    let u = this.users.get(uid)
    if (u === undefined) {
      u = { uid, nkeys: 0, nikeys: 0, qnkeys: 0, qnbytes: 0 }
      this.users.set(uid, u)
    }
    return u
  }

  maxKeysFor(uid: Kuid): number {
    return uid === 0 ? this.rootMaxkeys : this.maxkeys
  }

  maxBytesFor(uid: Kuid): number {
    return uid === 0 ? this.rootMaxbytes : this.maxbytes
  }

  /** The key_user records, for /proc/key-users. */
  keyUsers(): ReadonlyArray<KeyUser> {
    return [...this.users.values()].sort((a, b) => a.uid - b.uid)
  }

  /** Every live key by serial, for /proc/keys. */
  allKeys(): ReadonlyArray<Key> {
    return [...this.serials.values()].sort((a, b) => a.id - b.id)
  }

  /** The key with this serial, if it is alive (key_lookup() without the ref). */
  keyById(id: number): Key | undefined {
    return this.serials.get(id)
  }

  /**
   * key_alloc(): a new uninstantiated key owned by `uid`, charged to that
   * uid's quota unless `inQuota` is false (EDQUOT past maxkeys/maxbytes
   * unless `overrun`, as KEY_ALLOC_QUOTA_OVERRUN). The caller's reference.
   */
  private keyAlloc(
    type: KeyType,
    description: string,
    uid: Kuid,
    gid: Kgid,
    ns: UserNamespace,
    perm: number,
    inQuota: boolean,
    overrun = false
  ): Key | SysError {
    const quotaLen = byteLength(description) + 1
    const user = this.keyUser(uid)
    if (inQuota) {
      if (!overrun && (user.qnkeys + 1 > this.maxKeysFor(uid) || user.qnbytes + quotaLen > this.maxBytesFor(uid))) {
        if (user.nkeys === 0) this.users.delete(uid)
        return sysError("EDQUOT", undefined, "key quota")
      }
      user.qnkeys++
      user.qnbytes += quotaLen
    }
    user.nkeys++
    const key = new Key(this.registry, {
      id: this.allocSerial(),
      type,
      description,
      uid,
      gid,
      perm,
      user,
      userNs: ns,
      inQuota,
      quotaLen,
      release: (k) => this.keyRelease(k)
    })
    this.serials.set(key.id, key)
    return key
  }

  /** The accounting half of key_gc_unused_keys(): the key leaves the serial table and its owner's quota. */
  private keyRelease(key: Key): void {
    this.serials.delete(key.id)
    const user = key.user
    user.nkeys--
    if (key.state !== "uninstantiated") user.nikeys--
    if (key.inQuota) {
      user.qnkeys--
      user.qnbytes -= key.quotaLen
    }
    if (user.nkeys === 0) this.users.delete(user.uid)
  }

  /** key_payload_reserve(): charge a payload size change to the owner's quota. */
  private payloadReserve(key: Key, dataLen: number): SysError | undefined {
    const delta = dataLen - key.dataLen
    if (key.inQuota && delta !== 0) {
      const user = key.user
      if (delta > 0 && user.qnbytes + delta > this.maxBytesFor(user.uid)) return sysError("EDQUOT", undefined, "key quota")
      user.qnbytes += delta
      key.quotaLen += delta
    }
    key.dataLen = dataLen
    return undefined
  }

  /** Charge bytes past the limit, as the kernel's own keyrings may (KEY_ALLOC_QUOTA_OVERRUN). */
  private forceReserve(key: Key, dataLen: number): void {
    const delta = dataLen - key.dataLen
    if (key.inQuota) {
      key.user.qnbytes += delta
      key.quotaLen += delta
    }
    key.dataLen = dataLen
  }

  /** keyring_alloc(): a new, instantiated, empty keyring. */
  private keyringAlloc(description: string, uid: Kuid, gid: Kgid, ns: UserNamespace, perm: number, inQuota: boolean, overrun = false): Key | SysError {
    const k = this.keyAlloc(KEY_TYPE_KEYRING, description, uid, gid, ns, perm, inQuota, overrun)
    if (ok(k)) {
      this.markInstantiated(k)
      k.state = "positive"
    }
    return k
  }

  private markInstantiated(key: Key): void {
    if (key.state === "uninstantiated") key.user.nikeys++
  }

  /** The type's preparse: EINVAL for a payload it refuses. */
  private preparse(type: KeyType, payload: Uint8Array | null): SysError | undefined {
    if (type === KEY_TYPE_KEYRING) return payload !== null && payload.length !== 0 ? sysError("EINVAL", undefined, "keyring payload") : undefined
    if (payload === null || payload.length === 0 || payload.length > type.maxPayload) return sysError("EINVAL", undefined, "payload size")
    return undefined
  }

  /** The type's instantiate/update op: install the payload and charge it. */
  private setPayload(key: Key, payload: Uint8Array | null): SysError | undefined {
    if (key.type === KEY_TYPE_KEYRING) return undefined
    const data = payload === null ? new Uint8Array(0) : payload.slice()
    const e = this.payloadReserve(key, data.length)
    if (e !== undefined) return e
    key.payload = data
    return undefined
  }

  // ---- validity and permission (security/keys/permission.c) ----

  private now(): number {
    return this.clock()
  }

  /** key_validate(): ENOKEY invalidated, EKEYREVOKED revoked, EKEYEXPIRED past its expiry. */
  private keyValidate(key: Key): SysError | undefined {
    if (key.invalidated) return sysError("ENOKEY")
    if (key.revoked) return sysError("EKEYREVOKED")
    if (key.expiry !== 0 && this.now() >= key.expiry) return sysError("EKEYEXPIRED")
    return undefined
  }

  /**
   * key_task_permission(): the mask's class (user, else group, else other,
   * plus possessor when possessed) as ACL bits, together with every ACE of
   * the seed's ACL that names the caller; EACCES unless all of `need` is granted.
   */
  private permission(ref: KeyRef, subj: Subject, need: number): SysError | undefined {
    return (this.allowed(ref, subj) & need) === need ? undefined : sysError("EACCES")
  }

  private allowed(ref: KeyRef, subj: Subject): number {
    const key = ref.key
    const cred = subj.cred
    const p = key.perm
    let kperm: number
    if (key.uid === cred.fsuid) kperm = (p >>> 16) & 0x3f
    else if (gidValid(key.gid) && (p & KEY_GRP_ALL) !== 0 && inGroupP(cred, key.gid)) kperm = (p >>> 8) & 0x3f
    else kperm = p & 0x3f
    if (ref.possessed) kperm |= (p >>> 24) & 0x3f
    let allow = maskToAce(kperm)
    for (const ace of key.acl) if (this.aceMatches(ace, ref, subj)) allow |= ace.perm
    return allow
  }

  private aceMatches(ace: KeyAce, ref: KeyRef, subj: Subject): boolean {
    switch (ace.type) {
      case "standard":
        switch (ace.subject) {
          case KEY_ACE_POSSESSOR:
            return ref.possessed
          case KEY_ACE_OWNER:
            return ref.key.uid === subj.cred.fsuid
          case KEY_ACE_GROUP:
            return gidValid(ref.key.gid) && inGroupP(subj.cred, ref.key.gid)
          case KEY_ACE_EVERYONE:
            return true
          default:
            return false
        }
      case "container":
        return subj.container === ace.container
      case "container_name":
        return subj.container !== undefined && subj.container.name === ace.name
    }
  }

  private subjectOf(caller: KeyCaller): Subject {
    return { cred: caller.cred, container: caller.keyContainer }
  }

  // ---- search (security/keys/keyring.c, process_keys.c) ----

  private isDead(key: Key): boolean {
    return key.invalidated || key.revoked
  }

  /**
   * keyring_search_rcu(): depth-first through `top` and the keyrings it
   * links (SEARCH needed on each), for a key `match` accepts. A match that
   * is revoked, expired, not searchable or negative is skipped, leaving its
   * error as the answer if nothing better turns up; EAGAIN: nothing matched.
   */
  private searchKeyring(top: KeyRef, match: (k: Key) => boolean, subj: Subject, checkState = true): KeyRef | SysError {
    if (!top.key.isKeyring) return sysError("ENOTDIR")
    const e = this.permission(top, subj, KEY_ACE_SEARCH)
    if (e !== undefined) return e
    const now = this.now()
    let skipped: SysError | undefined
    const visit = (k: Key): KeyRef | undefined => {
      if (!match(k)) return undefined
      if (checkState) {
        if (this.isDead(k)) {
          skipped = sysError("EKEYREVOKED")
          return undefined
        }
        if (k.expiry !== 0 && now >= k.expiry) {
          skipped = sysError("EKEYEXPIRED")
          return undefined
        }
      }
      const ref = { key: k, possessed: top.possessed }
      if (this.permission(ref, subj, KEY_ACE_SEARCH) !== undefined) {
        skipped = sysError("EACCES")
        return undefined
      }
      if (checkState && k.state === "negative") {
        skipped = sysError(k.rejectError)
        return undefined
      }
      k.lastUsed = now
      return ref
    }
    const selfMatch = visit(top.key)
    if (selfMatch !== undefined) return selfMatch
    const walk = (ring: Key, depth: number): KeyRef | undefined => {
      const links = ring.links!
      for (const k of links.values()) {
        const r = visit(k)
        if (r !== undefined) {
          ring.lastUsed = now
          return r
        }
      }
      if (depth >= KEYRING_SEARCH_MAX_DEPTH) return undefined
      for (const k of links.values()) {
        if (!k.isKeyring || this.isDead(k)) continue
        if (this.permission({ key: k, possessed: top.possessed }, subj, KEY_ACE_SEARCH) !== undefined) continue
        const r = walk(k, depth + 1)
        if (r !== undefined) return r
      }
      return undefined
    }
    return walk(top.key, 1) ?? skipped ?? sysError("EAGAIN")
  }

  /**
   * search_cred_keyrings_rcu(): the thread, process and session keyrings
   * (the user-session keyring, if it exists, when there is no session keyring), each
   * possessed. A "not found" or negative answer from any keyring wins over
   * other errors, as Linux decides.
   */
  private searchCredKeyrings(cred: CredValues, subj: Subject, match: (k: Key) => boolean, checkState: boolean): KeyRef | SysError {
    let ret: SysError | undefined
    let err: SysError | undefined
    const session = (cred.sessionKeyring as Key | undefined) ?? this.userKeyrings.get(cred.userNs)?.get(cred.uid)?.session
    for (const ring of [cred.threadKeyring as Key | undefined, cred.processKeyring as Key | undefined, session]) {
      if (ring === undefined) continue
      const r = this.searchKeyring({ key: ring, possessed: true }, match, subj, checkState)
      if (ok(r)) return r
      if (r.errno === "EAGAIN" || r.errno === "ENOKEY") ret = r
      else err = r
    }
    return ret ?? err ?? sysError("EAGAIN")
  }

  /**
   * search_process_keyrings_rcu(): the caller's own keyrings, then (the
   * seed) its container's keyring, not possessed, then, for a task holding
   * request_key authority, the requestor's keyrings.
   */
  private searchProcessKeyrings(caller: KeyCaller, match: (k: Key) => boolean, checkState = true): KeyRef | SysError {
    const subj = this.subjectOf(caller)
    let r = this.searchCredKeyrings(caller.cred, subj, match, checkState)
    if (ok(r) || r.errno !== "EAGAIN") return r
    const container = caller.keyContainer
    const ring = container === undefined ? undefined : this.containers.get(container)?.keyring
    if (ring !== undefined) {
      const c = this.searchKeyring({ key: ring, possessed: false }, match, subj, checkState)
      if (ok(c) || c.errno !== "EAGAIN") return c
    }
    const authKey = caller.cred.requestKeyAuth as Key | undefined
    const auth = authKey?.auth
    if (authKey !== undefined && auth !== undefined && !authKey.revoked) {
      r = this.searchCredKeyrings(auth.cred, { cred: auth.cred, container: auth.container }, match, checkState)
      if (ok(r)) return { key: r.key, possessed: true }
    }
    return r
  }

  /** lookup_user_key_possessed(): can the caller reach `key` from its keyrings? */
  private isPossessed(caller: KeyCaller, key: Key): boolean {
    const r = this.searchProcessKeyrings(caller, (k) => k === key, false)
    return ok(r) && r.possessed
  }

  /** proc_keys_show()'s filter: VIEW, possession counted when the mask lets a possessor view. */
  mayView(caller: KeyCaller, key: Key): boolean {
    const possessed = (key.perm & KEY_POS_VIEW) !== 0 && this.isPossessed(caller, key)
    return this.permission({ key, possessed }, this.subjectOf(caller), KEY_ACE_VIEW) === undefined
  }

  // ---- the caller's keyrings (security/keys/process_keys.c) ----

  /**
   * look_up_user_keyrings(): the "_uid.N" and "_uid_ses.N" keyrings of the
   * cred's real uid in its user namespace, made on first use with the user
   * keyring linked into the user-session keyring.
   */
  private lookUpUserKeyrings(cred: CredValues): UserKeyrings {
    const ns = cred.userNs
    let byUid = this.userKeyrings.get(ns)
    if (byUid === undefined) {
      byUid = new Map()
      this.userKeyrings.set(ns, byUid)
    }
    const found = byUid.get(cred.uid)
    if (found !== undefined) return found
    const n = fromKuid(ns, cred.uid)
    const perm = (KEY_POS_ALL & ~KEY_POS_SETATTR) | KEY_USR_ALL
    const user = this.keyringAlloc(`_uid.${n}`, cred.uid, INVALID_GID, ns, perm, true, true) as Key
    const session = this.keyringAlloc(`_uid_ses.${n}`, cred.uid, INVALID_GID, ns, perm, true, true) as Key
    session.links!.set(user.indexKey, user.get())
    this.forceReserve(session, KEYQUOTA_LINK_BYTES)
    user.uidKeyring = true
    session.uidKeyring = true
    const rings = { user, session }
    byUid.set(cred.uid, rings)
    return rings
  }

  private commit(caller: KeyCaller, change: (draft: NewCred) => void): void {
    const draft = prepareCreds(caller.cred)
    change(draft)
    commitCreds(caller, draft)
  }

  /**
   * The caller's thread or process keyring; a missing one is ENOKEY, or with
   * `create` made as install_thread_keyring() / install_process_keyring() do:
   * a "_tid" or "_pid" keyring in new credentials.
   */
  private ownKeyring(caller: KeyCaller, which: "thread" | "process", create: boolean): Key | SysError {
    const c = caller.cred
    const current = (which === "thread" ? c.threadKeyring : c.processKeyring) as Key | undefined
    if (current !== undefined) return current
    if (!create) return sysError("ENOKEY")
    const ring = this.keyringAlloc(which === "thread" ? "_tid" : "_pid", c.uid, c.gid, c.userNs, KEY_POS_ALL | KEY_USR_VIEW, true, true)
    if (!ok(ring)) return ring
    this.commit(caller, (d) => (which === "thread" ? d.setThreadKeyring(ring) : d.setProcessKeyring(ring)))
    return ring
  }

  private installSessionKeyring(caller: KeyCaller, ring: Key): void {
    this.commit(caller, (d) => d.setSessionKeyring(ring.get()))
  }

  /** find_keyring_by_name(): a live keyring of this name in the caller's user namespace it may JOIN. */
  private findKeyringByName(caller: KeyCaller, name: string): Key | undefined {
    const subj = this.subjectOf(caller)
    const ns = caller.cred.userNs
    for (const k of this.serials.values()) {
      if (!k.isKeyring || k.description !== name || k.userNs !== ns || this.isDead(k)) continue
      if (k.expiry !== 0 && this.now() >= k.expiry) continue
      if (!kuidHasMapping(ns, k.uid)) continue
      if (this.permission({ key: k, possessed: false }, subj, KEY_ACE_JOIN) !== undefined) continue
      return k
    }
    return undefined
  }

  /**
   * join_session_keyring(): a new anonymous "_ses" keyring (possessor all,
   * user view and read) for `name` null, else the named keyring (made if
   * missing, user view, read and link too), installed as the session keyring.
   */
  private joinSessionKeyring(caller: KeyCaller, name: string | null): number | SysError {
    const c = caller.cred
    const perm = KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ | KEY_USR_LINK
    if (name === null) {
      const ring = this.keyringAlloc("_ses", c.uid, c.gid, c.userNs, KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ, true, true)
      if (!ok(ring)) return ring
      this.commit(caller, (d) => d.setSessionKeyring(ring))
      return ring.id
    }
    const found = this.findKeyringByName(caller, name)
    if (found !== undefined) {
      if (found !== c.sessionKeyring) this.installSessionKeyring(caller, found)
      return found.id
    }
    const ring = this.keyringAlloc(name, c.uid, c.gid, c.userNs, perm, true)
    if (!ok(ring)) return ring
    this.commit(caller, (d) => d.setSessionKeyring(ring))
    return ring.id
  }

  /**
   * lookup_user_key(): a key id or KEY_SPEC_* value to a key the caller may
   * use for `need` (ACL bits; DEFER skips the check). `create` makes the
   * caller's missing thread, process or session keyring; `partial` accepts
   * keys that are not (positively) instantiated. The special keyrings are
   * possessed; other keys are when the caller's keyrings reach them.
   */
  private lookupUserKey(caller: KeyCaller, id: number, create: boolean, partial: boolean, need: number): KeyRef | SysError {
    let key: Key | undefined
    let possessed = true
    const cred = () => caller.cred
    switch (id) {
      case KEY_SPEC_THREAD_KEYRING:
      case KEY_SPEC_PROCESS_KEYRING: {
        const r = this.ownKeyring(caller, id === KEY_SPEC_THREAD_KEYRING ? "thread" : "process", create)
        if (!ok(r)) return r
        key = r
        break
      }
      case KEY_SPEC_SESSION_KEYRING: {
        // a session keyring is always installed on access; with create, a
        // task whose session is a user keyring gets an anonymous one of its own
        const current = cred().sessionKeyring as Key | undefined
        const userSession = current === undefined ? this.lookUpUserKeyrings(cred()).session : undefined
        if (create && (current === undefined || current.uidKeyring)) {
          const r = this.joinSessionKeyring(caller, null)
          if (!ok(r)) return r
        } else if (userSession !== undefined) this.installSessionKeyring(caller, userSession)
        key = cred().sessionKeyring as Key
        break
      }
      case KEY_SPEC_USER_KEYRING:
        key = this.lookUpUserKeyrings(cred()).user
        break
      case KEY_SPEC_USER_SESSION_KEYRING:
        key = this.lookUpUserKeyrings(cred()).session
        break
      case KEY_SPEC_REQKEY_AUTH_KEY:
        key = cred().requestKeyAuth as Key | undefined
        if (key === undefined) return sysError("ENOKEY")
        break
      case KEY_SPEC_REQUESTOR_KEYRING: {
        const auth = (cred().requestKeyAuth as Key | undefined)?.auth
        key = auth?.destKeyring
        if (key === undefined) return sysError("ENOKEY")
        break
      }
      default: {
        if (id < 1) return sysError("EINVAL", undefined, "bad key id")
        key = this.serials.get(id)
        if (key === undefined) return sysError("ENOKEY")
        possessed = this.isPossessed(caller, key)
      }
    }
    const ref = { key, possessed }
    if (need !== DEFER) {
      if (!partial && key.state === "negative") return sysError(key.rejectError)
      const v = this.keyValidate(key)
      if (v !== undefined) return v
    }
    if (need !== DEFER && need !== 0) {
      const e = this.permission(ref, this.subjectOf(caller), need)
      if (e !== undefined) return e
    }
    return ref
  }

  // ---- linking (security/keys/keyring.c key_link()) ----

  /** Would linking keyring `key` into `ring` make a cycle, or nest keyrings too deep (keyring_detect_cycle())? */
  private detectCycle(ring: Key, key: Key): SysError | undefined {
    const depthBelow = (k: Key, seen: Set<Key>): number | "cycle" => {
      if (k === ring) return "cycle"
      if (seen.has(k)) return 0
      seen.add(k)
      let d = 0
      for (const sub of k.links!.values()) {
        if (!sub.isKeyring) continue
        const r = depthBelow(sub, seen)
        if (r === "cycle") return r
        d = Math.max(d, r + 1)
      }
      return d
    }
    const r = depthBelow(key, new Set())
    if (r === "cycle") return sysError("EDEADLK")
    if (r + 1 >= KEYRING_SEARCH_MAX_DEPTH) return sysError("ELOOP")
    return undefined
  }

  /** key_link(): link `key` into `ring`, displacing a key of the same type and description. */
  private keyLink(ring: Key, key: Key): SysError | undefined {
    if (!ring.isKeyring) return sysError("ENOTDIR")
    if (ring.revoked || ring.invalidated) return sysError("EKEYREVOKED")
    if (key.isKeyring) {
      const e = this.detectCycle(ring, key)
      if (e !== undefined) return e
    }
    const links = ring.links!
    const old = links.get(key.indexKey)
    if (old === key) return undefined
    if (old === undefined) {
      const q = this.payloadReserve(ring, ring.dataLen + KEYQUOTA_LINK_BYTES)
      if (q !== undefined) return q
    }
    links.set(key.indexKey, key.get())
    old?.put()
    return undefined
  }

  /** Drop one link's charge from a keyring (__key_unlink()). */
  private unchargeLink(ring: Key): void {
    this.payloadReserve(ring, Math.max(0, ring.dataLen - KEYQUOTA_LINK_BYTES))
  }

  /** keyring_clear(), and a revoked keyring: every link goes, and its charge. */
  private keyringClear(ring: Key): void {
    ring.clearLinks()
    this.payloadReserve(ring, 0)
  }

  /** key_unlink(): ENOENT when `key` is not in `ring`. */
  private keyUnlink(ring: Key, key: Key): SysError | undefined {
    const links = ring.links!
    if (links.get(key.indexKey) !== key) return sysError("ENOENT")
    links.delete(key.indexKey)
    this.unchargeLink(ring)
    key.put()
    return undefined
  }

  /** Unlink `key` from every keyring (what the garbage collector does to an invalidated or dead key). */
  private unlinkEverywhere(key: Key): void {
    key.get()
    for (const ring of [...this.serials.values()]) {
      if (ring.links !== undefined && ring.links.get(key.indexKey) === key) {
        ring.links.delete(key.indexKey)
        this.unchargeLink(ring)
        key.put()
      }
    }
    key.put()
  }

  /**
   * key_garbage_collector(): invalidated keys, and keys revoked or expired
   * more than gc_delay seconds ago, are unlinked from every keyring.
   */
  gc(): void {
    const now = this.now()
    for (const key of [...this.serials.values()]) {
      if (key.freed) continue
      const deadSince = key.revoked ? key.revokedAt : key.expiry !== 0 && now >= key.expiry ? key.expiry : undefined
      if (key.invalidated || (deadSince !== undefined && now >= deadSince + this.gcDelay)) this.unlinkEverywhere(key)
    }
  }

  // ---- instantiation ----

  /** Mark construction finished and wake whoever waits for it. */
  private constructionDone(key: Key): void {
    key.underConstruction = false
    key.waitQueue.wakeUp(0)
  }

  /** key_instantiate_and_link(): EBUSY unless uninstantiated; then payload, link, and the authority used up. */
  private instantiateAndLink(key: Key, payload: Uint8Array | null, ring: Key | undefined, authKey: Key | undefined): SysError | undefined {
    const p = this.preparse(key.type, payload)
    if (p !== undefined) return p
    if (key.state !== "uninstantiated") return sysError("EBUSY")
    const e = this.setPayload(key, payload)
    if (e !== undefined) return e
    this.markInstantiated(key)
    key.state = "positive"
    return this.finishConstruction(key, ring, authKey)
  }

  /** key_reject_and_link(): a negative key answering `error` until `timeout` seconds from now. */
  private rejectAndLink(key: Key, timeout: number, error: ErrnoName, ring: Key | undefined, authKey: Key | undefined): SysError | undefined {
    if (key.state !== "uninstantiated") return sysError("EBUSY")
    this.markInstantiated(key)
    key.state = "negative"
    key.rejectError = error
    key.expiry = this.now() + timeout
    return this.finishConstruction(key, ring, authKey)
  }

  /** The end both of those share: link the key into `ring`, use up the authority, wake whoever waits for the construction. */
  private finishConstruction(key: Key, ring: Key | undefined, authKey: Key | undefined): SysError | undefined {
    if (ring !== undefined) {
      const l = this.keyLink(ring, key)
      if (l !== undefined) return l
    }
    if (authKey !== undefined) this.keyInvalidate(authKey)
    this.constructionDone(key)
    return undefined
  }

  /** key_invalidate(): the key is gone for every lookup and leaves every keyring now. */
  private keyInvalidate(key: Key): void {
    if (key.invalidated) return
    key.invalidated = true
    if (key.type === KEY_TYPE_REQUEST_KEY_AUTH) key.clearAuth()
    this.unlinkEverywhere(key)
  }

  /** key_revoke(): unusable from now, payload dropped; the garbage collector unlinks it after gc_delay. */
  private keyRevoke(key: Key): void {
    if (key.revoked) return
    key.revoked = true
    key.revokedAt = this.now()
    if (key.isKeyring) this.keyringClear(key)
    else if (key.type === KEY_TYPE_REQUEST_KEY_AUTH) key.clearAuth()
    else if (key.payload !== undefined) {
      key.payload = undefined
      this.payloadReserve(key, 0)
    }
  }

  // ---- add_key(2) ----

  /**
   * add_key(2): make a key (or update one of the same type and description
   * in the keyring) and link it into the keyring `ringid`. Returns its serial.
   */
  addKey(caller: KeyCaller, type: string | null, description: string | null, payload: Uint8Array | null, plen: number, ringid: number): number | SysError {
    if (plen < 0 || plen > MAX_INSTANTIATE) return sysError("EINVAL", "add_key", "payload too large")
    const te = checkTypeName(type, "add_key")
    if (te !== undefined) return te
    let desc: string | null = null
    if (description !== null) {
      const de = checkDescription(description, "add_key")
      if (de !== undefined) return de
      desc = description === "" ? null : description
    }
    const data = copyPayload(payload, plen, "add_key")
    if (!ok(data)) return data
    const ringRef = this.lookupUserKey(caller, ringid, true, false, KEY_ACE_WRITE)
    if (!ok(ringRef)) return ringRef
    return this.keyCreateOrUpdate(caller, ringRef.key, type!, desc, data)
  }

  /** key_create_or_update(). */
  private keyCreateOrUpdate(caller: KeyCaller, ring: Key, typeName: string, desc: string | null, data: Uint8Array | null): number | SysError {
    const type = KEY_TYPES.get(typeName)
    if (type === undefined || type === KEY_TYPE_REQUEST_KEY_AUTH) return sysError("ENODEV", "add_key", "unknown key type")
    if (!ring.isKeyring) return sysError("ENOTDIR", "add_key")
    const p = this.preparse(type, data)
    if (p !== undefined) return p
    if (desc === null) return sysError("EINVAL", "add_key", "no description")
    if (type.vetDescription !== undefined && !type.vetDescription(desc)) return sysError("EINVAL", "add_key", "description")
    const subj = this.subjectOf(caller)
    if (type.updatable) {
      const existing = ring.links!.get(indexKeyOf(type.name, desc))
      if (existing !== undefined && !this.isDead(existing)) {
        const e = this.permission({ key: existing, possessed: true }, subj, KEY_ACE_WRITE)
        if (e !== undefined) return e
        const u = this.keyUpdate(existing, data)
        return u ?? existing.id
      }
    }
    const cred = caller.cred
    let perm = KEY_POS_VIEW | KEY_POS_SEARCH | KEY_POS_LINK | KEY_POS_SETATTR | KEY_USR_VIEW
    if (type.readable) perm |= KEY_POS_READ
    if (type === KEY_TYPE_KEYRING || type.updatable) perm |= KEY_POS_WRITE
    const key = this.keyAlloc(type, desc, cred.fsuid, cred.fsgid, cred.userNs, perm, true)
    if (!ok(key)) return key
    const e = this.instantiateAndLink(key, data, ring, undefined)
    if (e !== undefined) {
      key.put()
      return e
    }
    const id = key.id
    key.put()
    return id
  }

  /** key_update() / __key_update(): a new payload; a negative key becomes positive. */
  private keyUpdate(key: Key, data: Uint8Array | null): SysError | undefined {
    const e = this.setPayload(key, data)
    if (e !== undefined) return e
    if (key.state === "negative") {
      key.state = "positive"
      key.expiry = 0
    }
    return undefined
  }

  // ---- request_key(2) ----

  /**
   * request_key(2): find a key by type and description in the caller's
   * keyrings (and, the seed, its container's keyring); failing that, with
   * callout info, construct it through the container's intercept or the
   * `/sbin/request-key` handler. A construction that an intercept hands to a
   * supervisor answers a KeyConstructionWait: sleep on it, then call
   * requestKeyFinish().
   */
  requestKey(
    caller: KeyCaller,
    type: string | null,
    description: string | null,
    calloutInfo: string | null,
    destRingid: number
  ): number | SysError | KeyConstructionWait {
    const te = checkTypeName(type, "request_key")
    if (te !== undefined) return te
    const de = checkDescription(description, "request_key")
    if (de !== undefined) return de
    if (calloutInfo !== null && byteLength(calloutInfo) >= PAGE_SIZE) return sysError("EINVAL", "request_key", "callout info too long")
    const dest = this.destinationKeyring(caller, destRingid)
    if (!ok(dest)) return dest
    const ktype = KEY_TYPES.get(type!)
    if (ktype === undefined) return sysError("ENOKEY", "request_key", "unknown key type")
    return this.requestKeyAndLink(caller, ktype, description!, calloutInfo, dest)
  }

  /** request_key_and_link(). */
  private requestKeyAndLink(
    caller: KeyCaller,
    type: KeyType,
    description: string,
    calloutInfo: string | null,
    dest: Key | undefined
  ): number | SysError | KeyConstructionWait {
    const index = indexKeyOf(type.name, description)
    const found = this.searchProcessKeyrings(caller, (k) => k.indexKey === index)
    if (ok(found)) {
      const key = found.key
      if (dest !== undefined) {
        const e = this.permission(found, this.subjectOf(caller), KEY_ACE_LINK)
        if (e !== undefined) return e
        const l = this.keyLink(dest, key)
        if (l !== undefined) return l
      }
      if (key.underConstruction) return new KeyConstructionWait(key.get())
      return key.id
    }
    if (found.errno !== "EAGAIN") return found
    if (calloutInfo === null) return sysError("ENOKEY", "request_key", "no callout info")
    if (type === KEY_TYPE_KEYRING) return sysError("EPERM", "request_key", "keyrings are not constructed")
    return this.constructKeyAndLink(caller, type, description, calloutInfo, dest)
  }

  /** construct_get_dest_keyring(): the explicit keyring, else the one KEY_REQKEY_DEFL_* names; WRITE needed. */
  private constructDestKeyring(caller: KeyCaller, dest: Key | undefined): Key | SysError {
    if (dest !== undefined) return dest
    const cred = caller.cred
    let ring: Key | undefined
    const jit = cred.jitKeyring
    const chain: Array<number> = []
    switch (jit) {
      case KEY_REQKEY_DEFL_DEFAULT:
      case KEY_REQKEY_DEFL_REQUESTOR_KEYRING: {
        const authKey = cred.requestKeyAuth as Key | undefined
        if (authKey !== undefined && !authKey.revoked) ring = authKey.auth?.destKeyring
        chain.push(
          KEY_REQKEY_DEFL_THREAD_KEYRING,
          KEY_REQKEY_DEFL_PROCESS_KEYRING,
          KEY_REQKEY_DEFL_SESSION_KEYRING,
          KEY_REQKEY_DEFL_USER_SESSION_KEYRING
        )
        break
      }
      case KEY_REQKEY_DEFL_THREAD_KEYRING:
        chain.push(jit, KEY_REQKEY_DEFL_PROCESS_KEYRING, KEY_REQKEY_DEFL_SESSION_KEYRING, KEY_REQKEY_DEFL_USER_SESSION_KEYRING)
        break
      case KEY_REQKEY_DEFL_PROCESS_KEYRING:
        chain.push(jit, KEY_REQKEY_DEFL_SESSION_KEYRING, KEY_REQKEY_DEFL_USER_SESSION_KEYRING)
        break
      case KEY_REQKEY_DEFL_SESSION_KEYRING:
        chain.push(jit, KEY_REQKEY_DEFL_USER_SESSION_KEYRING)
        break
      default:
        chain.push(jit)
    }
    for (const which of chain) {
      if (ring !== undefined) break
      switch (which) {
        case KEY_REQKEY_DEFL_THREAD_KEYRING:
          ring = cred.threadKeyring as Key | undefined
          break
        case KEY_REQKEY_DEFL_PROCESS_KEYRING:
          ring = cred.processKeyring as Key | undefined
          break
        case KEY_REQKEY_DEFL_SESSION_KEYRING:
          ring = cred.sessionKeyring as Key | undefined
          break
        case KEY_REQKEY_DEFL_USER_SESSION_KEYRING:
          ring = this.lookUpUserKeyrings(cred).session
          break
        case KEY_REQKEY_DEFL_USER_KEYRING:
          ring = this.lookUpUserKeyrings(cred).user
          break
      }
    }
    if (ring === undefined) return sysError("ENOKEY")
    const e = this.permission({ key: ring, possessed: true }, this.subjectOf(caller), KEY_ACE_WRITE)
    return e ?? ring
  }

  /** construct_key_and_link(): allocate the key under construction, link it, then the upcall. */
  private constructKeyAndLink(
    caller: KeyCaller,
    type: KeyType,
    description: string,
    calloutInfo: string,
    explicitDest: Key | undefined
  ): number | SysError | KeyConstructionWait {
    const dest = this.constructDestKeyring(caller, explicitDest)
    if (!ok(dest)) return dest
    const cred = caller.cred
    let perm = KEY_POS_VIEW | KEY_POS_SEARCH | KEY_POS_LINK | KEY_POS_SETATTR | KEY_USR_VIEW
    if (type.readable) perm |= KEY_POS_READ
    if (type.updatable) perm |= KEY_POS_WRITE
    const key = this.keyAlloc(type, description, cred.fsuid, cred.fsgid, cred.userNs, perm, true)
    if (!ok(key)) return key
    key.underConstruction = true
    const l = this.keyLink(dest, key)
    if (l !== undefined) {
      key.put()
      return l
    }
    const authKey = this.requestKeyAuthNew(caller, key, "create", calloutInfo, dest)
    if (!ok(authKey)) {
      this.rejectAndLink(key, KEY_NEGATIVE_TIMEOUT, "ENOKEY", undefined, undefined)
      key.put()
      return authKey
    }
    const intercept = this.matchIntercept(caller.keyContainer, type.name)
    if (intercept !== undefined) {
      const e = this.keyLink(intercept.dest, authKey)
      authKey.put()
      if (e !== undefined) {
        this.rejectAndLink(key, KEY_NEGATIVE_TIMEOUT, "ENOKEY", undefined, undefined)
        key.put()
        return e
      }
      return new KeyConstructionWait(key)
    }
    this.callSbinRequestKey(key, authKey, calloutInfo)
    if (key.underConstruction) this.rejectAndLink(key, KEY_NEGATIVE_TIMEOUT, "ENOKEY", undefined, authKey)
    this.keyInvalidate(authKey)
    authKey.put()
    return this.requestKeyFinish(new KeyConstructionWait(key))
  }

  /**
   * After a KeyConstructionWait ends: the key's serial, or the error a
   * negative, revoked or expired key answers, or EINTR when the sleep was
   * interrupted before construction finished; drops the wait's reference.
   */
  requestKeyFinish(wait: KeyConstructionWait): number | SysError {
    const key = wait.key
    const r: number | SysError = key.underConstruction
      ? sysError("EINTR", "request_key")
      : key.state === "negative"
        ? sysError(key.rejectError, "request_key")
        : (this.keyValidate(key) ?? key.id)
    key.put()
    return r
  }

  /** request_key_auth_new(): the ".request_key_auth" key that carries the authority to instantiate `target`. */
  private requestKeyAuthNew(caller: KeyCaller, target: Key, op: string, calloutInfo: string, dest: Key): Key | SysError {
    const cred = caller.cred
    const perm = KEY_POS_VIEW | KEY_POS_READ | KEY_POS_SEARCH | KEY_USR_VIEW
    const auth = this.keyAlloc(KEY_TYPE_REQUEST_KEY_AUTH, target.id.toString(16), cred.fsuid, cred.fsgid, cred.userNs, perm, false)
    if (!ok(auth)) return auth
    auth.auth = {
      op,
      targetKey: target.get(),
      destKeyring: dest.get(),
      cred: cred.get(),
      calloutInfo: utf8.encode(calloutInfo),
      container: caller.keyContainer,
      pid: caller.pid ?? 0
    }
    this.markInstantiated(auth)
    auth.state = "positive"
    return auth
  }

  /** call_sbin_request_key(): hand the request to the pluggable helper, which may instantiate or reject. */
  private callSbinRequestKey(key: Key, authKey: Key, calloutInfo: string): void {
    const helper = this.requestKeyHelper
    const auth = authKey.auth
    if (helper === undefined || auth === undefined) return
    const cred = auth.cred
    const initNs = cred.userNs.initNs
    const upcall: RequestKeyUpcall = {
      op: auth.op,
      keyId: key.id,
      type: key.type.name,
      description: key.description,
      calloutInfo,
      authKeyId: authKey.id,
      uid: fromKuidMunged(initNs, cred.fsuid),
      gid: fromKgidMunged(initNs, cred.fsgid),
      threadKeyring: (cred.threadKeyring as Key | undefined)?.id ?? 0,
      processKeyring: (cred.processKeyring as Key | undefined)?.id ?? 0,
      sessionKeyring: (cred.sessionKeyring as Key | undefined)?.id ?? 0,
      instantiate: (payload, keyring = 0) => {
        if (authKey.invalidated || authKey.revoked) return sysError("EKEYREVOKED")
        const ring = keyring === 0 ? undefined : this.keyById(keyring)
        if (keyring !== 0 && ring === undefined) return sysError("ENOKEY")
        return this.instantiateAndLink(key, payload, ring, authKey)
      },
      reject: (timeout, error = "ENOKEY") => {
        if (authKey.invalidated || authKey.revoked) return sysError("EKEYREVOKED")
        return this.rejectAndLink(key, timeout, error, undefined, authKey)
      }
    }
    helper(upcall)
  }

  // ---- the seed's container keyring and intercepts (security/keys/container.c, 2019) ----

  private containerKeys(container: KeyContainer): ContainerKeys {
    let c = this.containers.get(container)
    if (c === undefined) {
      c = { keyring: undefined, intercepts: [] }
      this.containers.set(container, c)
    }
    return c
  }

  /** The trap request_key() of `type` in `container` hits: the first match, "*" being last. */
  private matchIntercept(container: KeyContainer | undefined, type: string): Intercept | undefined {
    if (container === undefined) return undefined
    const traps = this.containers.get(container)?.intercepts
    return traps?.find((t) => t.type === type || t.type === "*")
  }

  /** The container's keyring, if one was set. */
  containerKeyring(container: KeyContainer): Key | undefined {
    return this.containers.get(container)?.keyring
  }

  /**
   * KEYCTL_SET_CONTAINER_KEYRING after the fd checks: SEARCH needed on the
   * keyring (the lookup's error otherwise); EBUSY once one is set.
   */
  setContainerKeyring(caller: KeyCaller, container: KeyContainer, ringid: number): number | SysError {
    const ref = this.lookupUserKey(caller, ringid, false, false, KEY_ACE_SEARCH)
    if (!ok(ref)) return ref
    const c = this.containerKeys(container)
    if (c.keyring !== undefined || this.keyringWasSet.has(container)) return sysError("EBUSY", "keyctl", "container keyring already set")
    c.keyring = ref.key.get()
    this.keyringWasSet.add(container)
    return 0
  }

  /**
   * KEYCTL_CONTAINER_INTERCEPT after the fd checks: `destRingid` 0 removes
   * the trap for `type` (every trap for a null type) and answers how many
   * went; otherwise WRITE is needed on the destination and a second trap
   * for one type is EEXIST.
   */
  containerIntercept(caller: KeyCaller, container: KeyContainer, type: string | null, nsId: number, destRingid: number): number | SysError {
    if (type !== null && type !== "*") {
      const te = checkTypeName(type, "keyctl")
      if (te !== undefined) return te
    }
    const c = this.containerKeys(container)
    if (destRingid === 0) {
      let removed = 0
      for (let i = c.intercepts.length - 1; i >= 0; i--) {
        const t = c.intercepts[i]!
        if (type === null || t.type === type) {
          c.intercepts.splice(i, 1)
          t.dest.put()
          removed++
        }
      }
      return removed
    }
    const ref = this.lookupUserKey(caller, destRingid, true, false, KEY_ACE_WRITE)
    if (!ok(ref)) return ref
    if (!ref.key.isKeyring) return sysError("ENOTDIR", "keyctl")
    if (c.intercepts.some((t) => t.type === type)) return sysError("EEXIST", "keyctl", "intercept exists")
    const trap = { type: type!, nsId, dest: ref.key.get() }
    const star = c.intercepts.findIndex((t) => t.type === "*")
    if (type === "*" || star < 0) c.intercepts.push(trap)
    else c.intercepts.splice(star, 0, trap)
    return 0
  }

  /** The container is being freed: drop its keyring and intercept keyrings. */
  releaseContainer(container: KeyContainer): void {
    const c = this.containers.get(container)
    if (c === undefined) return
    this.containers.delete(container)
    for (const t of c.intercepts.splice(0)) t.dest.put()
    const ring = c.keyring
    c.keyring = undefined
    ring?.put()
  }

  /** Kernel shutdown: drop the user keyrings of every namespace and every container's keys. */
  shutdown(): void {
    for (const container of [...this.containers.keys()]) this.releaseContainer(container)
    for (const byUid of this.userKeyrings.values()) {
      for (const rings of byUid.values()) {
        rings.session.put()
        rings.user.put()
      }
    }
    this.userKeyrings.clear()
  }

  // ---- keyctl(2) commands (security/keys/keyctl.c) ----

  /** KEYCTL_GET_KEYRING_ID. */
  getKeyringId(caller: KeyCaller, id: number, create: boolean): number | SysError {
    const r = this.lookupUserKey(caller, id, create, false, KEY_ACE_SEARCH)
    return ok(r) ? r.key.id : r
  }

  /** KEYCTL_JOIN_SESSION_KEYRING: EPERM for a name starting with '.'. */
  keyctlJoinSessionKeyring(caller: KeyCaller, name: string | null): number | SysError {
    if (name !== null) {
      const de = checkDescription(name, "keyctl")
      if (de !== undefined) return de
      if (name.startsWith(".")) return sysError("EPERM", "keyctl", "internal keyring name")
    }
    return this.joinSessionKeyring(caller, name)
  }

  /** The keyring a found or made key is linked into: none for 0, else one the caller may WRITE (made if it is a missing special keyring). */
  private destinationKeyring(caller: KeyCaller, destRingid: number): Key | undefined | SysError {
    if (destRingid === 0) return undefined
    const d = this.lookupUserKey(caller, destRingid, true, false, KEY_ACE_WRITE)
    return ok(d) ? d.key : d
  }

  /** KEYCTL_UPDATE: EOPNOTSUPP for a type without an update op. */
  keyctlUpdate(caller: KeyCaller, id: number, payload: Uint8Array | null, plen: number): number | SysError {
    if (plen < 0 || plen > PAGE_SIZE) return sysError("EINVAL", "keyctl")
    const data = copyPayload(payload, plen, "keyctl")
    if (!ok(data)) return data
    const ref = this.lookupUserKey(caller, id, true, false, KEY_ACE_WRITE)
    if (!ok(ref)) return ref
    const key = ref.key
    if (!key.type.updatable) return sysError("EOPNOTSUPP", "keyctl")
    const p = this.preparse(key.type, data)
    if (p !== undefined) return p
    return this.keyUpdate(key, data) ?? 0
  }

  /** KEYCTL_REVOKE: WRITE or SETATTR (the ACL's REVOKE). */
  keyctlRevoke(caller: KeyCaller, id: number): number | SysError {
    const ref = this.lookupUserKey(caller, id, false, false, KEY_ACE_REVOKE)
    if (!ok(ref)) return ref
    this.keyRevoke(ref.key)
    return 0
  }

  /** KEYCTL_INVALIDATE: SEARCH (the ACL's INVAL). */
  keyctlInvalidate(caller: KeyCaller, id: number): number | SysError {
    const ref = this.lookupUserKey(caller, id, false, false, KEY_ACE_INVAL)
    if (!ok(ref)) return ref
    this.keyInvalidate(ref.key)
    return 0
  }

  /**
   * KEYCTL_CHOWN: -1 leaves an id; only CAP_SYS_ADMIN gives a key to
   * another uid or to a group the caller is not in; the new owner's quota
   * must hold it (EDQUOT).
   */
  keyctlChown(caller: KeyCaller, id: number, user: number, group: number): number | SysError {
    const ns = caller.cred.userNs
    const uidArg = user >>> 0
    const gidArg = group >>> 0
    const uid = makeKuid(ns, uidArg)
    const gid = makeKgid(ns, gidArg)
    if ((uidArg !== 0xffffffff && !uidValid(uid)) || (gidArg !== 0xffffffff && !gidValid(gid))) return sysError("EINVAL", "keyctl")
    if (uidArg === 0xffffffff && gidArg === 0xffffffff) return 0
    const ref = this.lookupUserKey(caller, id, true, true, KEY_ACE_SET_SECURITY)
    if (!ok(ref)) return ref
    const key = ref.key
    const admin = capable(caller.cred, CAP_SYS_ADMIN)
    if (!admin) {
      if (uidArg !== 0xffffffff && key.uid !== uid) return sysError("EACCES", "keyctl")
      if (gidArg !== 0xffffffff && gid !== key.gid && !inGroupP(caller.cred, gid)) return sysError("EACCES", "keyctl")
    }
    if (uidArg !== 0xffffffff && uid !== key.uid) {
      const next = this.keyUser(uid)
      if (key.inQuota && (next.qnkeys + 1 > this.maxKeysFor(uid) || next.qnbytes + key.quotaLen > this.maxBytesFor(uid))) {
        if (next.nkeys === 0) this.users.delete(uid)
        return sysError("EDQUOT", "keyctl")
      }
      const old = key.user
      if (key.inQuota) {
        next.qnkeys++
        next.qnbytes += key.quotaLen
        old.qnkeys--
        old.qnbytes -= key.quotaLen
      }
      next.nkeys++
      old.nkeys--
      if (key.state !== "uninstantiated") {
        next.nikeys++
        old.nikeys--
      }
      if (old.nkeys === 0) this.users.delete(old.uid)
      key.user = next
      key.uid = uid
    }
    if (gidArg !== 0xffffffff) key.gid = gid
    return 0
  }

  /** KEYCTL_SETPERM: EINVAL for bits outside the mask; the owner or CAP_SYS_ADMIN only. */
  keyctlSetperm(caller: KeyCaller, id: number, perm: number): number | SysError {
    const p = perm >>> 0
    if ((p & ~(KEY_POS_ALL | KEY_USR_ALL | KEY_GRP_ALL | KEY_OTH_ALL)) !== 0) return sysError("EINVAL", "keyctl")
    const ref = this.lookupUserKey(caller, id, true, true, KEY_ACE_SET_SECURITY)
    if (!ok(ref)) return ref
    if (!capable(caller.cred, CAP_SYS_ADMIN) && ref.key.uid !== caller.cred.fsuid) return sysError("EACCES", "keyctl")
    ref.key.perm = p
    return 0
  }

  /** Does the caller hold the authority to instantiate `id` (key_get_instantiation_authkey() on its assumed key)? */
  private holdsAuthorityFor(caller: KeyCaller, id: number): boolean {
    const authKey = caller.cred.requestKeyAuth as Key | undefined
    return authKey !== undefined && !authKey.revoked && authKey.auth?.targetKey.id === id
  }

  /** lookup for VIEW, falling back to the instantiation authority, as keyctl_describe_key() does. */
  private lookupForView(caller: KeyCaller, id: number): KeyRef | SysError {
    const ref = this.lookupUserKey(caller, id, true, true, KEY_ACE_VIEW)
    if (ok(ref) || ref.errno !== "EACCES" || !this.holdsAuthorityFor(caller, id)) return ref
    return this.lookupUserKey(caller, id, false, true, 0)
  }

  /**
   * KEYCTL_DESCRIBE: "type;uid;gid;perm;description" with ids as the
   * caller's namespace sees them. Returns the length with the NUL; copies
   * only into a buffer that holds it all.
   */
  keyctlDescribe(caller: KeyCaller, id: number, buffer: Uint8Array | null, buflen: number): number | SysError {
    const ref = this.lookupForView(caller, id)
    if (!ok(ref)) return ref
    const key = ref.key
    const ns = caller.cred.userNs
    const text = `${key.type.name};${fromKuidMunged(ns, key.uid)};${fromKgidMunged(ns, key.gid)};${(key.perm >>> 0).toString(16).padStart(8, "0")};${key.description}`
    return copyString(text, buffer, buflen)
  }

  /** KEYCTL_CLEAR: WRITE (the ACL's CLEAR); ENOTDIR for a key that is not a keyring. */
  keyctlClear(caller: KeyCaller, ringid: number): number | SysError {
    const ref = this.lookupUserKey(caller, ringid, true, false, KEY_ACE_CLEAR)
    if (!ok(ref)) return ref
    if (!ref.key.isKeyring) return sysError("ENOTDIR", "keyctl")
    this.keyringClear(ref.key)
    return 0
  }

  /** KEYCTL_LINK: WRITE on the keyring, LINK on the key. */
  keyctlLink(caller: KeyCaller, id: number, ringid: number): number | SysError {
    const ring = this.lookupUserKey(caller, ringid, true, false, KEY_ACE_WRITE)
    if (!ok(ring)) return ring
    const key = this.lookupUserKey(caller, id, true, true, KEY_ACE_LINK)
    if (!ok(key)) return key
    return this.keyLink(ring.key, key.key) ?? 0
  }

  /** KEYCTL_UNLINK: WRITE on the keyring; ENOENT when the key is not in it. */
  keyctlUnlink(caller: KeyCaller, id: number, ringid: number): number | SysError {
    const ring = this.lookupUserKey(caller, ringid, false, false, KEY_ACE_WRITE)
    if (!ok(ring)) return ring
    const key = this.lookupUserKey(caller, id, false, true, DEFER)
    if (!ok(key)) return key
    if (!ring.key.isKeyring) return sysError("ENOTDIR", "keyctl")
    return this.keyUnlink(ring.key, key.key) ?? 0
  }

  /** KEYCTL_MOVE: LINK on the key, WRITE on both keyrings; KEYCTL_MOVE_EXCL refuses to displace (EEXIST). */
  keyctlMove(caller: KeyCaller, id: number, fromRingid: number, toRingid: number, flags: number): number | SysError {
    if ((flags & ~KEYCTL_MOVE_EXCL) !== 0) return sysError("EINVAL", "keyctl")
    const key = this.lookupUserKey(caller, id, true, true, KEY_ACE_LINK)
    if (!ok(key)) return key
    const from = this.lookupUserKey(caller, fromRingid, false, false, KEY_ACE_WRITE)
    if (!ok(from)) return from
    const to = this.lookupUserKey(caller, toRingid, true, false, KEY_ACE_WRITE)
    if (!ok(to)) return to
    if (from.key === to.key) return 0
    if (!from.key.isKeyring || !to.key.isKeyring) return sysError("ENOTDIR", "keyctl")
    const k = key.key
    if (from.key.links!.get(k.indexKey) !== k) return sysError("ENOENT", "keyctl")
    if ((flags & KEYCTL_MOVE_EXCL) !== 0 && to.key.links!.has(k.indexKey)) return sysError("EEXIST", "keyctl")
    const l = this.keyLink(to.key, k)
    if (l !== undefined) return l
    return this.keyUnlink(from.key, k) ?? 0
  }

  /** KEYCTL_SEARCH: SEARCH on the keyring; a found key linked into `destRingid` needs LINK. */
  keyctlSearch(caller: KeyCaller, ringid: number, type: string | null, description: string | null, destRingid: number): number | SysError {
    const te = checkTypeName(type, "keyctl")
    if (te !== undefined) return te
    const de = checkDescription(description, "keyctl")
    if (de !== undefined) return de
    const ring = this.lookupUserKey(caller, ringid, false, false, KEY_ACE_SEARCH)
    if (!ok(ring)) return ring
    const dest = this.destinationKeyring(caller, destRingid)
    if (!ok(dest)) return dest
    const ktype = KEY_TYPES.get(type!)
    if (ktype === undefined) return sysError("ENOKEY", "keyctl")
    const index = indexKeyOf(ktype.name, description!)
    const found = this.searchKeyring(ring, (k) => k.indexKey === index, this.subjectOf(caller))
    if (!ok(found)) return found.errno === "EAGAIN" ? sysError("ENOKEY", "keyctl") : found
    if (dest !== undefined) {
      const e = this.permission(found, this.subjectOf(caller), KEY_ACE_LINK)
      if (e !== undefined) return e
      const l = this.keyLink(dest, found.key)
      if (l !== undefined) return l
    }
    return found.key.id
  }

  /**
   * KEYCTL_READ: READ, or possession; any lookup failure is ENOKEY; a
   * negative key its error; EOPNOTSUPP for an unreadable type (logon).
   * Returns the payload size; copies what fits (whole serials for a keyring).
   */
  keyctlRead(caller: KeyCaller, id: number, buffer: Uint8Array | null, buflen: number): number | SysError {
    const ref = this.lookupUserKey(caller, id, false, false, DEFER)
    if (!ok(ref)) return sysError("ENOKEY", "keyctl")
    const key = ref.key
    if (key.state === "negative") return sysError(key.rejectError, "keyctl")
    const e = this.permission(ref, this.subjectOf(caller), KEY_ACE_READ)
    if (e !== undefined && !ref.possessed) return e
    if (!key.type.readable) return sysError("EOPNOTSUPP", "keyctl")
    const v = this.keyValidate(key)
    if (v !== undefined) return v
    const n = Math.max(0, Math.min(buflen, buffer?.length ?? 0))
    if (key.isKeyring) {
      const ids = [...key.links!.values()].map((k) => k.id)
      if (buffer !== null) {
        const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
        for (let i = 0; i < ids.length && (i + 1) * 4 <= n; i++) view.setInt32(i * 4, ids[i]!, true)
      }
      return ids.length * 4
    }
    if (key.type === KEY_TYPE_REQUEST_KEY_AUTH) {
      const info = key.auth?.calloutInfo ?? new Uint8Array(0)
      if (buffer !== null) buffer.set(info.subarray(0, n))
      return info.length
    }
    const data = key.payload ?? new Uint8Array(0)
    if (buffer !== null) buffer.set(data.subarray(0, n))
    return data.length
  }

  /** The authority the caller assumed, for INSTANTIATE/REJECT: EPERM without it or for another key. */
  private assumedAuthority(caller: KeyCaller, id: number): Key | SysError {
    const authKey = caller.cred.requestKeyAuth as Key | undefined
    if (authKey === undefined || authKey.auth === undefined || authKey.auth.targetKey.id !== id) return sysError("EPERM", "keyctl", "no authority")
    return authKey
  }

  /** get_instantiation_keyring(): 0 none, a keyring id (WRITE), a KEY_SPEC_* the requestor's destination, else EINVAL/ENOKEY. */
  private instantiationKeyring(caller: KeyCaller, ringid: number, authKey: Key): Key | undefined | SysError {
    if (ringid === 0) return undefined
    if (ringid > 0) {
      const r = this.lookupUserKey(caller, ringid, true, false, KEY_ACE_WRITE)
      return ok(r) ? r.key : r
    }
    if (ringid === KEY_SPEC_REQKEY_AUTH_KEY) return sysError("EINVAL", "keyctl")
    if (ringid >= KEY_SPEC_REQUESTOR_KEYRING) return authKey.auth?.destKeyring
    return sysError("ENOKEY", "keyctl")
  }

  /** Drop the caller's assumed authority (keyctl_change_reqkey_auth(NULL)). */
  private dropAuthority(caller: KeyCaller): void {
    if (caller.cred.requestKeyAuth !== undefined) this.commit(caller, (d) => d.setRequestKeyAuth(undefined))
  }

  /** KEYCTL_INSTANTIATE: with the assumed authority for `id`. */
  keyctlInstantiate(caller: KeyCaller, id: number, payload: Uint8Array | null, plen: number, ringid: number): number | SysError {
    if (plen < 0 || plen > MAX_INSTANTIATE) return sysError("EINVAL", "keyctl")
    const authKey = this.assumedAuthority(caller, id)
    if (!ok(authKey)) return authKey
    const data = copyPayload(payload, plen, "keyctl")
    if (!ok(data)) return data
    const ring = this.instantiationKeyring(caller, ringid, authKey)
    if (!ok(ring)) return ring
    const e = this.instantiateAndLink(authKey.auth!.targetKey, data, ring, authKey)
    if (e !== undefined) return e
    this.dropAuthority(caller)
    return 0
  }

  /** KEYCTL_REJECT (and KEYCTL_NEGATE, with ENOKEY): EINVAL for an error that is not an errno. */
  keyctlReject(caller: KeyCaller, id: number, timeout: number, error: ErrnoName | number, ringid: number): number | SysError {
    if (typeof error === "number") return sysError("EINVAL", "keyctl")
    const authKey = this.assumedAuthority(caller, id)
    if (!ok(authKey)) return authKey
    const ring = this.instantiationKeyring(caller, ringid, authKey)
    if (!ok(ring)) return ring
    const e = this.rejectAndLink(authKey.auth!.targetKey, timeout >>> 0, error, ring, authKey)
    if (e !== undefined) return e
    this.dropAuthority(caller)
    return 0
  }

  /** KEYCTL_SET_REQKEY_KEYRING: returns the old setting; THREAD and PROCESS make their keyring. */
  keyctlSetReqkeyKeyring(caller: KeyCaller, defl: number): number | SysError {
    const old = caller.cred.jitKeyring
    if (defl === KEY_REQKEY_DEFL_NO_CHANGE) return old
    switch (defl) {
      case KEY_REQKEY_DEFL_THREAD_KEYRING:
      case KEY_REQKEY_DEFL_PROCESS_KEYRING: {
        const r = this.ownKeyring(caller, defl === KEY_REQKEY_DEFL_THREAD_KEYRING ? "thread" : "process", true)
        if (!ok(r)) return r
        break
      }
      case KEY_REQKEY_DEFL_DEFAULT:
      case KEY_REQKEY_DEFL_SESSION_KEYRING:
      case KEY_REQKEY_DEFL_USER_KEYRING:
      case KEY_REQKEY_DEFL_USER_SESSION_KEYRING:
      case KEY_REQKEY_DEFL_REQUESTOR_KEYRING:
        break
      default:
        return sysError("EINVAL", "keyctl")
    }
    this.commit(caller, (d) => {
      d.jitKeyring = defl
    })
    return old
  }

  /** KEYCTL_SET_TIMEOUT: SETATTR, or the authority to instantiate it; 0 means never. */
  keyctlSetTimeout(caller: KeyCaller, id: number, timeout: number): number | SysError {
    let ref = this.lookupUserKey(caller, id, true, true, KEY_ACE_SET_SECURITY)
    if (!ok(ref) && ref.errno === "EACCES" && this.holdsAuthorityFor(caller, id)) ref = this.lookupUserKey(caller, id, false, true, 0)
    if (!ok(ref)) return ref
    const t = timeout >>> 0
    ref.key.expiry = t === 0 ? 0 : this.now() + t
    return 0
  }

  /**
   * KEYCTL_ASSUME_AUTHORITY: 0 drops it; otherwise the caller must possess
   * the authorisation key for key `id` (ENOKEY), not revoked (EKEYREVOKED).
   */
  keyctlAssumeAuthority(caller: KeyCaller, id: number): number | SysError {
    if (id < 0) return sysError("EINVAL", "keyctl")
    if (id === 0) {
      this.dropAuthority(caller)
      return 0
    }
    const desc = id.toString(16)
    const found = this.searchProcessKeyrings(caller, (k) => k.type === KEY_TYPE_REQUEST_KEY_AUTH && k.description === desc, false)
    if (!ok(found)) return sysError("ENOKEY", "keyctl")
    const authKey = found.key
    if (authKey.revoked || authKey.invalidated || authKey.auth === undefined) return sysError("EKEYREVOKED", "keyctl")
    this.commit(caller, (d) => d.setRequestKeyAuth(authKey.get()))
    return authKey.id
  }

  /** KEYCTL_GET_SECURITY: no LSM labels keys here, so the label is "" (1 byte with its NUL). */
  keyctlGetSecurity(caller: KeyCaller, id: number, buffer: Uint8Array | null, buflen: number): number | SysError {
    const ref = this.lookupForView(caller, id)
    if (!ok(ref)) return ref
    return copyString("", buffer, buflen)
  }

  /** KEYCTL_CAPABILITIES: two bytes of KEYCTL_CAPS0_* / KEYCTL_CAPS1_*. */
  keyctlCapabilities(buffer: Uint8Array | null, buflen: number): number {
    const caps = [KEYCTL_CAPS0_CAPABILITIES | KEYCTL_CAPS0_INVALIDATE | KEYCTL_CAPS0_MOVE, KEYCTL_CAPS1_NS_KEYRING_NAME]
    if (buffer !== null) for (let i = 0; i < Math.min(buflen, buffer.length, caps.length); i++) buffer[i] = caps[i]!
    return caps.length
  }

  /**
   * KEYCTL_QUERY_REQUEST_KEY_AUTH (the seed): what an authorisation key
   * carries. The caller needs VIEW on it; EINVAL for a key of another type.
   */
  keyctlQueryRequestKeyAuth(caller: KeyCaller, authId: number, out: RequestKeyAuthInfo): number | SysError {
    const ref = this.lookupUserKey(caller, authId, false, true, KEY_ACE_VIEW)
    if (!ok(ref)) return ref
    const auth = ref.key.auth
    if (ref.key.type !== KEY_TYPE_REQUEST_KEY_AUTH || auth === undefined) return sysError("EINVAL", "keyctl", "not an authorisation key")
    const ns = caller.cred.userNs
    out.op = auth.op
    out.fsuid = fromKuidMunged(ns, auth.cred.fsuid)
    out.fsgid = fromKgidMunged(ns, auth.cred.fsgid)
    out.target_key = auth.targetKey.id
    out.thread_keyring = (auth.cred.threadKeyring as Key | undefined)?.id ?? 0
    out.process_keyring = (auth.cred.processKeyring as Key | undefined)?.id ?? 0
    out.session_keyring = (auth.cred.sessionKeyring as Key | undefined)?.id ?? 0
    return 0
  }

  /**
   * KEYCTL_FIND_LRU (the seed): the least recently used key of `type`
   * linked directly in the keyring that it has not returned before (it is
   * then marked seen); once all are seen the marks are cleared, in up to
   * ten rounds.
   */
  keyctlFindLru(caller: KeyCaller, ringid: number, type: string | null): number | SysError {
    if (type === null) return sysError("EINVAL", "keyctl")
    const n = byteLength(type)
    if (n === 0 || n >= 32) return sysError("EINVAL", "keyctl")
    const ring = this.lookupUserKey(caller, ringid, false, false, KEY_ACE_SEARCH)
    if (!ok(ring)) return ring
    if (!ring.key.isKeyring) return sysError("ENOTDIR", "keyctl")
    const candidates = [...ring.key.links!.values()].filter((k) => k.type.name === type && !this.isDead(k) && this.keyValidate(k) === undefined)
    if (candidates.length === 0) return sysError("ENOKEY", "keyctl")
    for (let round = 0; round < FIND_LRU_ROUNDS; round++) {
      let best: Key | undefined
      for (const k of candidates) if (!k.seen && (best === undefined || k.lastUsed < best.lastUsed)) best = k
      if (best !== undefined) {
        best.seen = true
        return best.id
      }
      for (const k of candidates) k.seen = false
    }
    return sysError("ENOKEY", "keyctl")
  }

  /**
   * KEYCTL_GRANT_PERMISSION (the seed): set, change or (perm 0) remove the
   * ACE for a subject. ENOENT for an unknown subject; SET_SECURITY needed on
   * the key, and the owner or CAP_SYS_ADMIN.
   */
  keyctlGrantPermission(
    caller: KeyCaller,
    id: number,
    subject: { readonly type: "standard"; readonly subject: number } | { readonly type: "container"; readonly container: KeyContainer } | { readonly type: "container_name"; readonly name: string },
    perm: number
  ): number | SysError {
    if (subject.type === "standard" && (subject.subject < 0 || subject.subject > KEY_ACE_POSSESSOR)) return sysError("ENOENT", "keyctl")
    const ref = this.lookupUserKey(caller, id, false, true, KEY_ACE_SET_SECURITY)
    if (!ok(ref)) return ref
    const key = ref.key
    if (!capable(caller.cred, CAP_SYS_ADMIN) && key.uid !== caller.cred.fsuid) return sysError("EACCES", "keyctl")
    const same = (a: KeyAce): boolean => {
      switch (subject.type) {
        case "standard":
          return a.type === "standard" && a.subject === subject.subject
        case "container":
          return a.type === "container" && a.container === subject.container
        case "container_name":
          return a.type === "container_name" && a.name === subject.name
      }
    }
    const i = key.acl.findIndex(same)
    const p = perm >>> 0
    if (i >= 0) {
      if (p === 0) key.acl.splice(i, 1)
      else key.acl[i]!.perm = p
    } else if (p !== 0) key.acl.push({ ...subject, perm: p } as KeyAce)
    return 0
  }
}

/** Copy a NUL-terminated string out if the whole of it fits; the answer is its length with the NUL. */
const copyString = (text: string, buffer: Uint8Array | null, buflen: number): number => {
  const bytes = utf8.encode(`${text}\u0000`)
  if (buffer !== null && buflen >= bytes.length && buffer.length >= bytes.length) buffer.set(bytes)
  return bytes.length
}

