import { fromKgidMunged, fromKuidMunged, kuidHasMapping } from "@simkernel/cred"
import { type Key, KEY_TYPE_KEYRING, KEY_TYPE_REQUEST_KEY_AUTH } from "./Key.js"
import type { KeyCaller, Keys } from "./Keys.js"

/** proc_keys_show()'s timeout column: perm, expd (expired or revoked), or the time left in its largest unit. */
const timeoutText = (key: Key, now: number): string => {
  const expiry = key.expiry
  if (key.revoked) return "expd"
  if (expiry === 0) return "perm"
  if (now >= expiry) return "expd"
  const t = expiry - now
  if (t < 60) return `${t}s`
  if (t < 60 * 60) return `${Math.floor(t / 60)}m`
  if (t < 60 * 60 * 24) return `${Math.floor(t / (60 * 60))}h`
  if (t < 60 * 60 * 24 * 7) return `${Math.floor(t / (60 * 60 * 24))}d`
  return `${Math.floor(t / (60 * 60 * 24 * 7))}w`
}

/** The type's describe op: user "desc: len", keyring "desc: N" or ": empty", auth "key:desc pid:N ci:N". */
const describe = (key: Key): string => {
  const positive = key.state === "positive"
  if (key.type === KEY_TYPE_KEYRING) {
    const name = key.description === "" ? "[anon]" : key.description
    if (!positive) return name
    const n = key.links!.size
    return n === 0 ? `${name}: empty` : `${name}: ${n}`
  }
  if (key.type === KEY_TYPE_REQUEST_KEY_AUTH) {
    const auth = key.auth
    return positive && auth !== undefined ? `key:${key.description} pid:${auth.pid} ci:${auth.calloutInfo.length}` : `key:${key.description}`
  }
  return positive ? `${key.description}: ${key.dataLen}` : key.description
}

const flag = (on: boolean, c: string): string => (on ? c : "-")

/**
 * /proc/keys as security/keys/proc.c proc_keys_show(): every key whose
 * owner maps into the reader's user namespace and that the reader may VIEW
 * (possession counted), by serial.
 */
export const procKeys = (keys: Keys, reader: KeyCaller): string => {
  const now = keys.clock()
  const ns = reader.cred.userNs
  let out = ""
  for (const key of keys.allKeys()) {
    if (!kuidHasMapping(ns, key.uid) || !keys.mayView(reader, key)) continue
    const dead = key.invalidated
    const flags =
      flag(key.state !== "uninstantiated", "I") +
      flag(key.revoked, "R") +
      flag(dead, "D") +
      flag(key.inQuota, "Q") +
      flag(key.underConstruction, "U") +
      flag(key.state === "negative", "N") +
      flag(key.invalidated, "i")
    const uid = fromKuidMunged(ns, key.uid)
    const gid = fromKgidMunged(ns, key.gid)
    const perm = (key.perm >>> 0).toString(16).padStart(8, "0")
    const serial = key.id.toString(16).padStart(8, "0")
    out += `${serial} ${flags} ${String(key.count()).padStart(5)} ${timeoutText(key, now).padStart(4)} ${perm} ${String(uid).padStart(5)} ${String(gid).padStart(5)} ${key.type.name.slice(0, 9).padEnd(9)} ${describe(key)}\n`
  }
  return out
}

/** /proc/key-users as proc_key_users_show(): "uid: usage nkeys/nikeys qnkeys/maxkeys qnbytes/maxbytes". */
export const procKeyUsers = (keys: Keys, reader: KeyCaller): string => {
  const ns = reader.cred.userNs
  let out = ""
  for (const u of keys.keyUsers()) {
    if (!kuidHasMapping(ns, u.uid)) continue
    const uid = String(fromKuidMunged(ns, u.uid)).padStart(5)
    out += `${uid}: ${String(u.nkeys).padStart(5)} ${u.nkeys}/${u.nikeys} ${u.qnkeys}/${keys.maxKeysFor(u.uid)} ${u.qnbytes}/${keys.maxBytesFor(u.uid)}\n`
  }
  return out
}
