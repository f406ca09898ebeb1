import { S_ISGID, S_ISUID, S_IXGRP, type SysError } from "@simkernel/abi"
import { Effect } from "effect"
import {
  type BprmCapResult,
  capBprmCredsFromFile,
  LSM_UNSAFE_NO_NEW_PRIVS,
  LSM_UNSAFE_PTRACE,
  LSM_UNSAFE_SHARE
} from "./commoncap.js"
import { type Cred, type CredValues, type NewCred, prepareExecCreds } from "./Cred.js"
import { type Kgid, kgidHasMapping, type Kuid, kuidHasMapping } from "./uidgid.js"

/** The executable as execve(2) sees it: mode bits, owner and group, and whether its mount honours set-id bits. */
export interface ExecFile {
  /** st_mode, with S_ISUID / S_ISGID / S_IXGRP as stat(2) reports them. */
  readonly mode: number
  /** Owner and group as kernel ids (already mapped through an idmapped mount). */
  readonly uid: Kuid
  readonly gid: Kgid
  /**
   * mnt_may_suid() is false: the mount is MS_NOSUID, or it or its
   * superblock lies outside the caller's namespaces. Set-id bits are ignored.
   */
  readonly nosuid?: boolean
}

/** The exec-time state of the calling task that check_unsafe_exec() looks at. */
export interface ExecOptions {
  /** The task set no_new_privs (prctl PR_SET_NO_NEW_PRIVS). */
  readonly noNewPrivs?: boolean
  /** Its fs_struct is shared with a task outside its thread group (CLONE_FS): LSM_UNSAFE_SHARE. */
  readonly sharedFs?: boolean
  /** The credentials of its tracer, when it is being ptraced. */
  readonly tracer?: CredValues | undefined
}

/** What bprmCredsFromFile() hands to execve(2): the credentials to commit, and the flags for the new image. */
export interface BprmCreds extends BprmCapResult {
  /** The prepared credentials: commitCreds() them when the exec passes the point of no return, or abortCreds(). */
  readonly cred: NewCred
}

/**
 * fs/exec.c bprm_fill_uid(): a set-user-ID file makes its owner the
 * effective uid, a set-group-ID file that is group-executable makes its group
 * the effective gid; not on a nosuid mount, not with no_new_privs, and not
 * when the owner or group has no mapping in the caller's user namespace.
 * Returns whether a set-id bit took effect (PER_CLEAR_ON_SETID).
 */
export const bprmFillUid = (draft: NewCred, file: ExecFile, noNewPrivs: boolean): boolean => {
  if (file.nosuid === true || noNewPrivs) return false
  const mode = file.mode
  if ((mode & (S_ISUID | S_ISGID)) === 0) return false
  if (!kuidHasMapping(draft.userNs, file.uid) || !kgidHasMapping(draft.userNs, file.gid)) return false
  let setid = false
  if ((mode & S_ISUID) !== 0) {
    draft.euid = file.uid
    setid = true
  }
  if ((mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) {
    draft.egid = file.gid
    setid = true
  }
  return setid
}

/**
 * The credential part of execve(2): prepare_exec_creds(), bprm_fill_uid()
 * and cap_bprm_creds_from_file() (see capBprmCredsFromFile for the
 * capability rules; files carry no file capabilities here). The caller owns
 * the returned draft.
 */
export const bprmCredsFromFile = (
  old: Cred,
  file: ExecFile,
  options: ExecOptions = {}
): Effect.Effect<BprmCreds, SysError> =>
  Effect.sync(() => {
    const noNewPrivs = options.noNewPrivs === true
    const draft = prepareExecCreds(old)
    const setid = bprmFillUid(draft, file, noNewPrivs)
    const unsafe =
      (options.tracer !== undefined ? LSM_UNSAFE_PTRACE : 0) |
      (noNewPrivs ? LSM_UNSAFE_NO_NEW_PRIVS : 0) |
      (options.sharedFs === true ? LSM_UNSAFE_SHARE : 0)
    const caps = capBprmCredsFromFile(draft, old, { unsafe, tracer: options.tracer })
    return { cred: draft, secureexec: caps.secureexec, perClearOnSetid: setid || caps.perClearOnSetid }
  })
