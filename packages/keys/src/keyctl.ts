import {
  errnoName,
  KEY_ACE_SUBJ_CONTAINER,
  KEY_ACE_SUBJ_CONTAINER_NAME,
  KEY_ACE_SUBJ_STANDARD,
  KEYCTL_ASSUME_AUTHORITY,
  KEYCTL_CAPABILITIES,
  KEYCTL_CHOWN,
  KEYCTL_CLEAR,
  KEYCTL_CONTAINER_INTERCEPT,
  KEYCTL_DESCRIBE,
  KEYCTL_FIND_LRU,
  KEYCTL_GET_KEYRING_ID,
  KEYCTL_GET_SECURITY,
  KEYCTL_GRANT_PERMISSION,
  KEYCTL_INSTANTIATE,
  KEYCTL_INVALIDATE,
  KEYCTL_JOIN_SESSION_KEYRING,
  KEYCTL_LINK,
  KEYCTL_MOVE,
  KEYCTL_NEGATE,
  KEYCTL_QUERY_REQUEST_KEY_AUTH,
  KEYCTL_READ,
  KEYCTL_REJECT,
  KEYCTL_REVOKE,
  KEYCTL_SEARCH,
  KEYCTL_SET_CONTAINER_KEYRING,
  KEYCTL_SET_REQKEY_KEYRING,
  KEYCTL_SET_TIMEOUT,
  KEYCTL_SETPERM,
  KEYCTL_UNLINK,
  KEYCTL_UPDATE,
  KEYCTL_WATCH_KEY,
  type SysError,
  sysError
} from "@simkernel/abi"
import type { KeyContainer } from "./Key.js"
import type { KeyCaller, Keys, RequestKeyAuthInfo } from "./Keys.js"

/** Turns a container fd into the container (the container package provides it): EBADF, or EINVAL for another kind of fd. */
export type ContainerResolver = (fd: number) => KeyContainer | SysError

/** The default resolver, before any container support is plugged in: no fd is a container. */
export const noContainers: ContainerResolver = () => sysError("EINVAL", "keyctl", "not a container")

const int = (v: unknown): number => (typeof v === "number" ? v | 0 : 0)
const str = (v: unknown): string | null => (typeof v === "string" ? v : null)
const bytes = (v: unknown): Uint8Array | null => (v instanceof Uint8Array ? v : null)
const isResolved = (c: KeyContainer | SysError): c is KeyContainer => !(c instanceof Error)

/**
 * keyctl(2) as security/keys/keyctl.c SYSCALL_DEFINE5(keyctl): the command,
 * then arg2..arg5 in Linux's order (strings for char *, Uint8Array for
 * buffers, an object to fill for a struct out, numbers otherwise). Unknown
 * commands, and those this kernel does not build, answer EOPNOTSUPP.
 */
export const keyctl = (
  keys: Keys,
  caller: KeyCaller,
  option: number,
  args: ReadonlyArray<unknown>,
  resolveContainer: ContainerResolver = noContainers
): number | SysError => {
  const [a2, a3, a4, a5] = args
  switch (option) {
    case KEYCTL_GET_KEYRING_ID:
      return keys.getKeyringId(caller, int(a2), int(a3) !== 0)
    case KEYCTL_JOIN_SESSION_KEYRING:
      return keys.keyctlJoinSessionKeyring(caller, str(a2))
    case KEYCTL_UPDATE:
      return keys.keyctlUpdate(caller, int(a2), bytes(a3), int(a4))
    case KEYCTL_REVOKE:
      return keys.keyctlRevoke(caller, int(a2))
    case KEYCTL_CHOWN:
      return keys.keyctlChown(caller, int(a2), int(a3), int(a4))
    case KEYCTL_SETPERM:
      return keys.keyctlSetperm(caller, int(a2), int(a3))
    case KEYCTL_DESCRIBE:
      return keys.keyctlDescribe(caller, int(a2), bytes(a3), int(a4))
    case KEYCTL_CLEAR:
      return keys.keyctlClear(caller, int(a2))
    case KEYCTL_LINK:
      return keys.keyctlLink(caller, int(a2), int(a3))
    case KEYCTL_UNLINK:
      return keys.keyctlUnlink(caller, int(a2), int(a3))
    case KEYCTL_SEARCH:
      return keys.keyctlSearch(caller, int(a2), str(a3), str(a4), int(a5))
    case KEYCTL_READ:
      return keys.keyctlRead(caller, int(a2), bytes(a3), int(a4))
    case KEYCTL_INSTANTIATE:
      return keys.keyctlInstantiate(caller, int(a2), bytes(a3), int(a4), int(a5))
    case KEYCTL_NEGATE:
      return keys.keyctlReject(caller, int(a2), int(a3), "ENOKEY", int(a4))
    case KEYCTL_REJECT: {
      const name = errnoName(int(a4))
      return keys.keyctlReject(caller, int(a2), int(a3), name ?? int(a4), int(a5))
    }
    case KEYCTL_SET_REQKEY_KEYRING:
      return keys.keyctlSetReqkeyKeyring(caller, int(a2))
    case KEYCTL_SET_TIMEOUT:
      return keys.keyctlSetTimeout(caller, int(a2), int(a3))
    case KEYCTL_ASSUME_AUTHORITY:
      return keys.keyctlAssumeAuthority(caller, int(a2))
    case KEYCTL_GET_SECURITY:
      return keys.keyctlGetSecurity(caller, int(a2), bytes(a3), int(a4))
    case KEYCTL_INVALIDATE:
      return keys.keyctlInvalidate(caller, int(a2))
    case KEYCTL_MOVE:
      return keys.keyctlMove(caller, int(a2), int(a3), int(a4), int(a5))
    case KEYCTL_CAPABILITIES:
      return keys.keyctlCapabilities(bytes(a2), int(a3))
    case KEYCTL_WATCH_KEY:
      return sysError("EOPNOTSUPP", "keyctl", "key notifications are not built (CONFIG_KEY_NOTIFICATIONS=n)")
    case KEYCTL_SET_CONTAINER_KEYRING: {
      const cfd = int(a2)
      const ring = int(a3)
      if (cfd < 0 || ring <= 0) return sysError("EINVAL", "keyctl")
      const c = resolveContainer(cfd)
      return isResolved(c) ? keys.setContainerKeyring(caller, c, ring) : c
    }
    case KEYCTL_CONTAINER_INTERCEPT: {
      const cfd = int(a2)
      const type = str(a3)
      const dest = int(a5)
      if (cfd < 0) return sysError("EINVAL", "keyctl")
      if (dest !== 0 && type === null) return sysError("EINVAL", "keyctl", "destination without a type")
      const c = resolveContainer(cfd)
      return isResolved(c) ? keys.containerIntercept(caller, c, type, int(a4), dest) : c
    }
    case KEYCTL_QUERY_REQUEST_KEY_AUTH: {
      const id = int(a2)
      if (id <= 0 || a3 === null || typeof a3 !== "object") return sysError("EINVAL", "keyctl")
      return keys.keyctlQueryRequestKeyAuth(caller, id, a3 as RequestKeyAuthInfo)
    }
    case KEYCTL_FIND_LRU:
      return keys.keyctlFindLru(caller, int(a2), str(a3))
    case KEYCTL_GRANT_PERMISSION: {
      const id = int(a2)
      const perm = int(a5)
      switch (int(a3)) {
        case KEY_ACE_SUBJ_STANDARD:
          return keys.keyctlGrantPermission(caller, id, { type: "standard", subject: int(a4) }, perm)
        case KEY_ACE_SUBJ_CONTAINER: {
          const c = resolveContainer(int(a4))
          return isResolved(c) ? keys.keyctlGrantPermission(caller, id, { type: "container", container: c }, perm) : sysError("EINVAL", "keyctl")
        }
        case KEY_ACE_SUBJ_CONTAINER_NAME: {
          const name = str(a4)
          return name === null ? sysError("EFAULT", "keyctl") : keys.keyctlGrantPermission(caller, id, { type: "container_name", name }, perm)
        }
        default:
          return sysError("ENOENT", "keyctl", "unknown subject type")
      }
    }
    default:
      return sysError("EOPNOTSUPP", "keyctl")
  }
}
