// Securebits that @simkernel/abi does not define (yet): the default value and
// the two "exec" settings Linux 6.14 added (include/uapi/linux/securebits.h).
// The older bits (SECBIT_NOROOT ... SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) come
// from abi.
import { SECURE_ALL_BITS } from "@simkernel/abi"

/** SECUREBITS_DEFAULT: no securebit set. */
export const SECUREBITS_DEFAULT = 0

/** When set, the program itself should refuse to run files it was not allowed to execute (execveat AT_EXECVE_CHECK). */
export const SECURE_EXEC_RESTRICT_FILE = 8
export const SECURE_EXEC_RESTRICT_FILE_LOCKED = 9
/** When set, the program itself should refuse interactive user commands. */
export const SECURE_EXEC_DENY_INTERACTIVE = 10
export const SECURE_EXEC_DENY_INTERACTIVE_LOCKED = 11

export const SECBIT_EXEC_RESTRICT_FILE = 1 << SECURE_EXEC_RESTRICT_FILE
export const SECBIT_EXEC_RESTRICT_FILE_LOCKED = 1 << SECURE_EXEC_RESTRICT_FILE_LOCKED
export const SECBIT_EXEC_DENY_INTERACTIVE = 1 << SECURE_EXEC_DENY_INTERACTIVE
export const SECBIT_EXEC_DENY_INTERACTIVE_LOCKED = 1 << SECURE_EXEC_DENY_INTERACTIVE_LOCKED

/**
 * Every settable securebit, as Linux 6.14 and later define SECURE_ALL_BITS
 * (abi's SECURE_ALL_BITS is the older set without the exec bits).
 */
export const SECUREBITS_ALL_BITS = SECURE_ALL_BITS | SECBIT_EXEC_RESTRICT_FILE | SECBIT_EXEC_DENY_INTERACTIVE
/** Their lock bits (SECURE_ALL_LOCKS). */
export const SECUREBITS_ALL_LOCKS = SECUREBITS_ALL_BITS << 1
/**
 * SECURE_ALL_UNPRIVILEGED: bits a task may set without CAP_SETPCAP, since
 * they only restrict what the task's own programs choose to do.
 */
export const SECUREBITS_ALL_UNPRIVILEGED = SECBIT_EXEC_RESTRICT_FILE | SECBIT_EXEC_DENY_INTERACTIVE
