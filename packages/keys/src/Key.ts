import type { ErrnoName } from "@simkernel/abi"
import type { Cred, Kgid, Kuid, UserNamespace } from "@simkernel/cred"
import { type LiveObjects, Refcounted, WaitQueue } from "@simkernel/kref"

/** A container as the key subsystem sees it: the container package passes its objects in. */
export interface KeyContainer {
  readonly name: string
}

/** A key type, as include/linux/key-type.h struct key_type (the parts userspace can observe). */
export interface KeyType {
  readonly name: string
  /** The largest payload the type's preparse accepts; 0 for a type that takes none. */
  readonly maxPayload: number
  /** The payload can be read back (a `read` op). */
  readonly readable: boolean
  /** KEYCTL_UPDATE and add_key on an existing key update in place (an `update` op). */
  readonly updatable: boolean
  /** vet_description: a description this type refuses (EINVAL). */
  readonly vetDescription?: (description: string) => boolean
}

/** security/keys/keyring.c key_type_keyring. */
export const KEY_TYPE_KEYRING: KeyType = { name: "keyring", maxPayload: 0, readable: true, updatable: false }
/** security/keys/user_defined.c key_type_user. */
export const KEY_TYPE_USER: KeyType = { name: "user", maxPayload: 32767, readable: true, updatable: true }
/** security/keys/user_defined.c key_type_logon: like user, never readable, "service:name" descriptions. */
export const KEY_TYPE_LOGON: KeyType = {
  name: "logon",
  maxPayload: 32767,
  readable: false,
  updatable: true,
  vetDescription: (d) => d.indexOf(":") > 0
}
/** security/keys/request_key_auth.c key_type_request_key_auth. */
export const KEY_TYPE_REQUEST_KEY_AUTH: KeyType = { name: ".request_key_auth", maxPayload: 0, readable: true, updatable: false }

/** The types userspace can name (key_type_lookup()). */
export const KEY_TYPES: ReadonlyMap<string, KeyType> = new Map(
  [KEY_TYPE_KEYRING, KEY_TYPE_USER, KEY_TYPE_LOGON, KEY_TYPE_REQUEST_KEY_AUTH].map((t) => [t.name, t])
)

/** One entry of the seed's key ACL: a subject and the KEY_ACE_* bits it is granted. */
export type KeyAce =
  | { readonly type: "standard"; readonly subject: number; perm: number }
  | { readonly type: "container"; readonly container: KeyContainer; perm: number }
  | { readonly type: "container_name"; readonly name: string; perm: number }

/** The quota record of one kernel uid, as security/keys/key.c struct key_user. */
export interface KeyUser {
  readonly uid: Kuid
  /** Keys owned (struct key_user nkeys). */
  nkeys: number
  /** Instantiated keys owned (nikeys). */
  nikeys: number
  /** Keys and bytes charged to the quota (qnkeys, qnbytes). */
  qnkeys: number
  qnbytes: number
}

/** What a request_key() authorisation key carries (security/keys/request_key_auth.c struct request_key_auth). */
export interface RequestKeyAuth {
  readonly op: string
  readonly targetKey: Key
  readonly destKeyring: Key | undefined
  /** The requestor's credentials, whose keyrings a helper holding the authority may search. */
  readonly cred: Cred
  readonly calloutInfo: Uint8Array
  readonly container: KeyContainer | undefined
  /** The requesting process, shown in /proc/keys ("pid:"). */
  readonly pid: number
}

/** key_read_state(): not yet instantiated, positive, or negative. */
export type KeyState = "uninstantiated" | "positive" | "negative"

/**
 * A key or keyring, as include/linux/key.h struct key. The refcount is
 * key->usage: links from keyrings, credential slots, the container keyring
 * and intercepts, and borrows inside a call each hold one; the serial table
 * does not, so the last put frees the key (where Linux leaves it to the
 * garbage collector) and removes it from the table and the quota.
 */
export class Key extends Refcounted {
  readonly kind = "Key"
  /** key->serial: the id userspace sees. */
  readonly id: number
  readonly type: KeyType
  readonly description: string
  uid: Kuid
  gid: Kgid
  /** The mainline permission mask (possessor/user/group/other). */
  perm: number
  /** The seed's ACL entries, granted on top of the mask. */
  readonly acl: Array<KeyAce> = []
  state: KeyState = "uninstantiated"
  /** The error a negative key answers with (key->reject_error). */
  rejectError: ErrnoName = "ENOKEY"
  revoked = false
  /** key->revoked_at: when it was revoked, for the garbage collector's delay. */
  revokedAt = 0
  invalidated = false
  /** KEY_FLAG_UID_KEYRING: a user or user-session keyring. */
  uidKeyring = false
  /** KEY_FLAG_SEEN: KEYCTL_FIND_LRU has returned it. */
  seen = false
  /** Charged to the owner's quota (KEY_FLAG_IN_QUOTA). */
  readonly inQuota: boolean
  /** Under construction by request_key(): KEY_FLAG_USER_CONSTRUCT. */
  underConstruction = false
  /** key->expiry in kernel-clock seconds, 0 for never. */
  expiry = 0
  /** key->last_used_at, for KEYCTL_FIND_LRU. */
  lastUsed = 0
  /** Bytes charged for this key (key->quotalen): description, its NUL and the payload. */
  quotaLen: number
  /** key->datalen: payload bytes. */
  dataLen = 0
  /** The user namespace the key was made in: keyring names are looked up per namespace. */
  readonly userNs: UserNamespace
  /** user and logon payload. */
  payload: Uint8Array | undefined
  /** Keyring contents: one link per (type, description), as the keyring's assoc_array index. */
  readonly links: Map<string, Key> | undefined
  /** The payload of a .request_key_auth key. */
  auth: RequestKeyAuth | undefined
  /** Woken when construction completes (key_construction wait bit). */
  readonly waitQueue = new WaitQueue()
  user: KeyUser
  private readonly release: (key: Key) => void

  constructor(
    registry: LiveObjects,
    init: {
      readonly id: number
      readonly type: KeyType
      readonly description: string
      readonly uid: Kuid
      readonly gid: Kgid
      readonly perm: number
      readonly user: KeyUser
      readonly userNs: UserNamespace
      readonly inQuota: boolean
      readonly quotaLen: number
      readonly release: (key: Key) => void
    }
  ) {
    super(registry, `${init.type.name}:${init.description}`)
    this.id = init.id
    this.type = init.type
    this.description = init.description
    this.uid = init.uid
    this.gid = init.gid
    this.perm = init.perm
    this.user = init.user
    this.userNs = init.userNs
    this.inQuota = init.inQuota
    this.quotaLen = init.quotaLen
    this.release = init.release
    this.links = init.type === KEY_TYPE_KEYRING ? new Map() : undefined
  }

  /** The index key of a link: keyrings keep one key per type and description. */
  get indexKey(): string {
    return indexKeyOf(this.type.name, this.description)
  }

  get isKeyring(): boolean {
    return this.links !== undefined
  }

  /** Drop the links a keyring holds (keyring_clear(), and the keyring's destroy op). */
  clearLinks(): void {
    const links = this.links
    if (links === undefined || links.size === 0) return
    const held = [...links.values()]
    links.clear()
    for (const k of held) k.put()
  }

  /** Drop what an authorisation key holds (request_key_auth_destroy()). */
  clearAuth(): void {
    const auth = this.auth
    if (auth === undefined) return
    this.auth = undefined
    auth.cred.put()
    auth.destKeyring?.put()
    auth.targetKey.put()
  }

  protected override destroy(): void {
    this.clearLinks()
    this.clearAuth()
    this.payload = undefined
    this.release(this)
  }
}

export const indexKeyOf = (type: string, description: string): string => `${type}\u0000${description}`
