import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  MQUEUE_MAGIC,
  O_DIRECTORY,
  O_PATH,
  O_RDONLY,
  PROC_SUPER_MAGIC,
  RAMFS_MAGIC,
  S_IFMT,
  ST_MANDLOCK,
  ST_NOATIME,
  ST_NODEV,
  ST_NODIRATIME,
  ST_NOEXEC,
  ST_NOSUID,
  ST_NOSYMFOLLOW,
  ST_RDONLY,
  ST_RELATIME,
  ST_SYNCHRONOUS,
  type SysError,
  TMPFS_MAGIC
} from "@simkernel/abi"
import { devMajor, devMinor } from "./nameiOps.js"
import { close, openat } from "./open.js"
import { getdents64 } from "./readWrite.js"
import { fstatat, fstatfs, statfs } from "./stat.js"
import type { VfsTask } from "./Task.js"

// What a person (or the conformance format's observation calls) sees of the
// VFS with ls, stat and statfs: the same answers a C program gets on Linux.

const isErr = (r: unknown): r is SysError => r instanceof Error && (r as SysError)._tag === "SysError"

/** File type letters as ls -l prints them, by S_IFMT value. */
const TYPE_LETTER: Readonly<Record<number, FileTypeLetter>> = {
  0o040000: "d",
  0o100000: "f",
  0o120000: "l",
  0o020000: "c",
  0o060000: "b",
  0o010000: "p",
  0o140000: "s"
}

export type FileTypeLetter = "d" | "f" | "l" | "c" | "b" | "p" | "s"

/** statfs f_flags by name, in the order the conformance format lists them. */
const ST_FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [ST_RDONLY, "rdonly"],
  [ST_NOSUID, "nosuid"],
  [ST_NODEV, "nodev"],
  [ST_NOEXEC, "noexec"],
  [ST_SYNCHRONOUS, "synchronous"],
  [ST_MANDLOCK, "mandlock"],
  [ST_NOATIME, "noatime"],
  [ST_NODIRATIME, "nodiratime"],
  [ST_RELATIME, "relatime"],
  [ST_NOSYMFOLLOW, "nosymfollow"]
]

const FS_NAMES: ReadonlyMap<number, string> = new Map([
  [TMPFS_MAGIC, "tmpfs"],
  [RAMFS_MAGIC, "ramfs"],
  [MQUEUE_MAGIC, "mqueue"],
  [PROC_SUPER_MAGIC, "proc"]
])

/** The type letter of a mode (undefined for a mode with no file type). */
export const fileTypeLetter = (mode: number): FileTypeLetter | undefined => TYPE_LETTER[mode & S_IFMT]

/** The permission part of a mode as four octal digits ("0755"). */
export const octalMode = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, "0")

/**
 * The names in a directory as readdir(3) gives them, without "." and "..",
 * sorted. glibc takes ENOENT (a directory removed while open) as the end.
 */
export const listDirectory = (task: VfsTask, dirfd: number, path: string): Array<string> | SysError => {
  const fd = openat(task, dirfd, path, O_RDONLY | O_DIRECTORY, 0)
  if (isErr(fd)) return fd
  const names: Array<string> = []
  for (;;) {
    const ents = getdents64(task, fd, 4096)
    if (isErr(ents) && ents.errno === "ENOENT") break
    if (isErr(ents)) {
      close(task, fd)
      return ents
    }
    if (ents.length === 0) break
    for (const e of ents) if (e.name !== "." && e.name !== "..") names.push(e.name)
  }
  close(task, fd)
  return names.sort()
}

export interface StatSummary {
  readonly type: FileTypeLetter | "?"
  readonly mode: string
  readonly size?: number
  readonly rdev?: string
}

/** fstatat(2) as type, mode, size (regular files) and rdev "maj:min" (devices). */
export const statSummary = (task: VfsTask, dirfd: number, path: string, flags: number): StatSummary | SysError => {
  const st = fstatat(task, dirfd, path, flags)
  if (isErr(st)) return st
  const type = fileTypeLetter(st.mode) ?? "?"
  return {
    type,
    mode: octalMode(st.mode),
    ...(type === "f" ? { size: st.size } : {}),
    ...(type === "c" || type === "b" ? { rdev: `${devMajor(st.rdev)}:${devMinor(st.rdev)}` } : {})
  }
}

/**
 * statfs(2) of (dirfd, path) — fstatfs(dirfd) when the path is empty — as
 * the filesystem's name and its f_flags by name.
 */
export const statfsSummary = (task: VfsTask, dirfd: number, path: string): { fs: string; flags: Array<string> } | SysError => {
  let st
  if (path === "") st = fstatfs(task, dirfd)
  else if (dirfd === AT_FDCWD || path.startsWith("/")) st = statfs(task, path)
  else {
    const fd = openat(task, dirfd, path, O_PATH, 0)
    if (isErr(fd)) return fd
    st = fstatfs(task, fd)
    close(task, fd)
  }
  if (isErr(st)) return st
  const flags = st.flags
  return {
    fs: FS_NAMES.get(st.type) ?? `0x${st.type.toString(16)}`,
    flags: ST_FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name)
  }
}

/** Do two (dirfd, path) pairs (AT_EMPTY_PATH) name the same inode of the same filesystem? */
export const sameFile = (task: VfsTask, fd1: number, path1: string, fd2: number, path2: string): boolean | SysError => {
  const a = fstatat(task, fd1, path1, AT_EMPTY_PATH)
  if (isErr(a)) return a
  const b = fstatat(task, fd2, path2, AT_EMPTY_PATH)
  if (isErr(b)) return b
  return a.dev === b.dev && a.ino === b.ino
}
