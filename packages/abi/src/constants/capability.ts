// include/uapi/linux/capability.h and include/uapi/linux/securebits.h

export const _LINUX_CAPABILITY_VERSION_1 = 0x19980330
export const _LINUX_CAPABILITY_U32S_1 = 1
/** Deprecated by Linux (it had a bug); kept because capget(2) still accepts it. */
export const _LINUX_CAPABILITY_VERSION_2 = 0x20071026
export const _LINUX_CAPABILITY_U32S_2 = 2
export const _LINUX_CAPABILITY_VERSION_3 = 0x20080522
export const _LINUX_CAPABILITY_U32S_3 = 2

export const CAP_CHOWN = 0
export const CAP_DAC_OVERRIDE = 1
export const CAP_DAC_READ_SEARCH = 2
export const CAP_FOWNER = 3
export const CAP_FSETID = 4
export const CAP_KILL = 5
export const CAP_SETGID = 6
export const CAP_SETUID = 7
export const CAP_SETPCAP = 8
export const CAP_LINUX_IMMUTABLE = 9
export const CAP_NET_BIND_SERVICE = 10
export const CAP_NET_BROADCAST = 11
export const CAP_NET_ADMIN = 12
export const CAP_NET_RAW = 13
export const CAP_IPC_LOCK = 14
export const CAP_IPC_OWNER = 15
export const CAP_SYS_MODULE = 16
export const CAP_SYS_RAWIO = 17
export const CAP_SYS_CHROOT = 18
export const CAP_SYS_PTRACE = 19
export const CAP_SYS_PACCT = 20
export const CAP_SYS_ADMIN = 21
export const CAP_SYS_BOOT = 22
export const CAP_SYS_NICE = 23
export const CAP_SYS_RESOURCE = 24
export const CAP_SYS_TIME = 25
export const CAP_SYS_TTY_CONFIG = 26
export const CAP_MKNOD = 27
export const CAP_LEASE = 28
export const CAP_AUDIT_WRITE = 29
export const CAP_AUDIT_CONTROL = 30
export const CAP_SETFCAP = 31
export const CAP_MAC_OVERRIDE = 32
export const CAP_MAC_ADMIN = 33
export const CAP_SYSLOG = 34
export const CAP_WAKE_ALARM = 35
export const CAP_BLOCK_SUSPEND = 36
export const CAP_AUDIT_READ = 37
export const CAP_PERFMON = 38
export const CAP_BPF = 39
export const CAP_CHECKPOINT_RESTORE = 40
export const CAP_LAST_CAP = CAP_CHECKPOINT_RESTORE

/** Capability names indexed by number (also the order strace lists them in). */
export const CAP_NAMES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE"
] as const

export type CapName = (typeof CAP_NAMES)[number]

export const capName = (cap: number): CapName | undefined => CAP_NAMES[cap]

export const capNumber = (name: string): number | undefined => {
  const i = CAP_NAMES.indexOf(name as CapName)
  return i < 0 ? undefined : i
}

// Securebits: each flag has a lock bit just above it; SECBIT_X = 1 << SECURE_X.
export const SECURE_NOROOT = 0
export const SECURE_NOROOT_LOCKED = 1
export const SECURE_NO_SETUID_FIXUP = 2
export const SECURE_NO_SETUID_FIXUP_LOCKED = 3
export const SECURE_KEEP_CAPS = 4
export const SECURE_KEEP_CAPS_LOCKED = 5
export const SECURE_NO_CAP_AMBIENT_RAISE = 6
export const SECURE_NO_CAP_AMBIENT_RAISE_LOCKED = 7
export const SECBIT_NOROOT = 1 << SECURE_NOROOT
export const SECBIT_NOROOT_LOCKED = 1 << SECURE_NOROOT_LOCKED
export const SECBIT_NO_SETUID_FIXUP = 1 << SECURE_NO_SETUID_FIXUP
export const SECBIT_NO_SETUID_FIXUP_LOCKED = 1 << SECURE_NO_SETUID_FIXUP_LOCKED
export const SECBIT_KEEP_CAPS = 1 << SECURE_KEEP_CAPS
export const SECBIT_KEEP_CAPS_LOCKED = 1 << SECURE_KEEP_CAPS_LOCKED
export const SECBIT_NO_CAP_AMBIENT_RAISE = 1 << SECURE_NO_CAP_AMBIENT_RAISE
export const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED = 1 << SECURE_NO_CAP_AMBIENT_RAISE_LOCKED
export const SECURE_ALL_BITS = SECBIT_NOROOT | SECBIT_NO_SETUID_FIXUP | SECBIT_KEEP_CAPS | SECBIT_NO_CAP_AMBIENT_RAISE
export const SECURE_ALL_LOCKS = SECURE_ALL_BITS << 1
