import { NAME_MAX, type SysError, TMPFS_MAGIC } from "@simkernel/abi"
import { kuidHasMapping, kgidHasMapping, makeKgid, makeKuid, fromKuidMunged, fromKgidMunged } from "@simkernel/cred"
import { FS_USERNS_MOUNT, PAGE_SIZE } from "./constants.js"
import type { FsContext, FsParameter } from "./FsContext.js"
import { ENOPARAM, FS_INIT_ORDER, type FsType, type Kstatfs, type ParseResult } from "./FsType.js"
import { sgetAnon, type Superblock } from "./Superblock.js"

/**
 * lib/cmdline.c memparse(): a number in C notation (0x hex, leading 0
 * octal) with an optional K/M/G/T/P/E suffix; returns the value and the
 * unparsed rest.
 */
export const memparse = (s: string): readonly [number, string] => {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(s)
  if (m === null) return [0, s]
  const digits = m[1]!
  let v = digits.startsWith("0x") || digits.startsWith("0X") ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits[0] === "0" ? parseInt(digits, 8) : parseInt(digits, 10)
  let rest = s.slice(digits.length)
  const shift = "KMGTPE".indexOf((rest[0] ?? "").toUpperCase())
  if (rest.length > 0 && shift >= 0) {
    v *= 1024 ** (shift + 1)
    rest = rest.slice(1)
  }
  return [v, rest]
}

/** kstrtouint(s, 0) for fsparam_u32, or base 8 for fsparam_u32oct; undefined when malformed. */
export const parseUint = (s: string, base: 0 | 8): number | undefined => {
  const t = s.endsWith("\n") ? s.slice(0, -1) : s
  let v: number
  if (base === 8) {
    if (!/^[0-7]+$/.test(t)) return undefined
    v = parseInt(t, 8)
  } else if (/^0[xX][0-9a-fA-F]+$/.test(t)) v = parseInt(t.slice(2), 16)
  else if (/^0[0-7]*$/.test(t)) v = parseInt(t, 8)
  else if (/^[1-9][0-9]*$/.test(t)) v = parseInt(t, 10)
  else return undefined
  return v > 0xffffffff ? undefined : v
}

const SEEN_BLOCKS = 1
const SEEN_INODES = 2
const SEEN_INUMS = 4
const SEEN_NOSWAP = 8
const SEEN_HUGE = 16

/** The huge= values (shmem_param_enums_huge), SHMEM_HUGE_NEVER first. */
const HUGE_VALUES: ReadonlyArray<string> = ["never", "always", "within_size", "advise"]

/** struct shmem_options: what a tmpfs context has parsed. */
interface ShmemOptions {
  blocks: number
  inodes: number
  mode: number
  uid: number
  gid: number
  fullInums: boolean
  noswap: boolean
  huge: string
  seen: number
}

/** The tmpfs part of a superblock (struct shmem_sb_info). */
export interface ShmemSbInfo {
  mode: number
  uid: number
  gid: number
  fullInums: boolean
  noswap: boolean
  huge: string
}

const defaultMaxBlocks = (fc: { vfs: { totalRam: number } }): number => Math.floor(fc.vfs.totalRam / PAGE_SIZE / 2)

export const badValue = (fc: FsContext, key: string): SysError => fc.invalf(`Bad value for '${key}'`)

const stringParam = (fc: FsContext, param: FsParameter): string | SysError =>
  param.type === "string" && param.string !== "" ? param.string : badValue(fc, param.key)

const flagParam = (fc: FsContext, param: FsParameter): SysError | undefined =>
  param.type === "flag" ? undefined : fc.invalf(`Unexpected value for '${param.key}'`)

/** A count with memparse()'s K/M/G suffixes and nothing after it (nr_blocks, nr_inodes). */
const countParam = (fc: FsContext, param: FsParameter): number | SysError => {
  const s = stringParam(fc, param)
  if (typeof s !== "string") return s
  const [v, rest] = memparse(s)
  return rest === "" ? v : badValue(fc, param.key)
}

/** shmem_parse_one(): tmpfs's mount options. */
const shmemParseParam = (fc: FsContext, param: FsParameter): ParseResult => {
  const ctx = fc.fsPrivate as ShmemOptions
  switch (param.key) {
    case "size": {
      const s = stringParam(fc, param)
      if (typeof s !== "string") return s
      let [size, rest] = memparse(s)
      if (rest.startsWith("%")) {
        size = Math.floor((size * Math.floor(fc.vfs.totalRam / PAGE_SIZE) * PAGE_SIZE) / 100)
        rest = rest.slice(1)
      }
      if (rest !== "") return badValue(fc, param.key)
      ctx.blocks = Math.ceil(size / PAGE_SIZE)
      ctx.seen |= SEEN_BLOCKS
      return undefined
    }
    case "nr_blocks": {
      const v = countParam(fc, param)
      if (typeof v !== "number") return v
      ctx.blocks = v
      ctx.seen |= SEEN_BLOCKS
      return undefined
    }
    case "nr_inodes": {
      const v = countParam(fc, param)
      if (typeof v !== "number") return v
      ctx.inodes = v
      ctx.seen |= SEEN_INODES
      return undefined
    }
    case "mode": {
      const v = param.type === "string" ? parseUint(param.string, 8) : undefined
      if (v === undefined) return badValue(fc, param.key)
      ctx.mode = v & 0o7777
      return undefined
    }
    case "uid":
    case "gid": {
      const v = param.type === "string" ? parseUint(param.string, 0) : undefined
      if (v === undefined) return badValue(fc, param.key)
      const userNs = fc.cred.userNs
      if (param.key === "uid") {
        const k = makeKuid(userNs, v)
        if (!kuidHasMapping(userNs, k) || !kuidHasMapping(fc.userNs, k)) return badValue(fc, param.key)
        ctx.uid = k
      } else {
        const k = makeKgid(userNs, v)
        if (!kgidHasMapping(userNs, k) || !kgidHasMapping(fc.userNs, k)) return badValue(fc, param.key)
        ctx.gid = k
      }
      return undefined
    }
    case "inode32":
    case "inode64": {
      const err = flagParam(fc, param)
      if (err !== undefined) return err
      ctx.fullInums = param.key === "inode64"
      ctx.seen |= SEEN_INUMS
      return undefined
    }
    case "huge": {
      if (param.type !== "string" || !HUGE_VALUES.includes(param.string)) return badValue(fc, param.key)
      ctx.huge = param.string
      ctx.seen |= SEEN_HUGE
      return undefined
    }
    case "noswap": {
      const err = flagParam(fc, param)
      if (err !== undefined) return err
      if (fc.userNs !== fc.userNs.initNs) return fc.invalf("Turning off swap in unprivileged tmpfs mounts unsupported")
      ctx.noswap = true
      ctx.seen |= SEEN_NOSWAP
      return undefined
    }
    default:
      return ENOPARAM
  }
}

/**
 * shmem_fill_super(): a tmpfs superblock whose root is a directory of the
 * context's mode (default 1777) owned by its uid and gid (default the
 * mounter's fsuid and fsgid); size defaults to half of RAM and nr_inodes
 * to as many.
 */
const shmemGetTree = (fc: FsContext): SysError | undefined => {
  const ctx = fc.fsPrivate as ShmemOptions
  const sb = sgetAnon(fc.vfs, shmemType, fc.userNs, fc.sbFlags)
  if ("errno" in sb) return sb
  const info: ShmemSbInfo = { mode: ctx.mode, uid: ctx.uid, gid: ctx.gid, fullInums: ctx.fullInums, noswap: ctx.noswap, huge: ctx.huge }
  sb.fsInfo = info
  sb.maxBlocks = ctx.seen & SEEN_BLOCKS ? ctx.blocks : defaultMaxBlocks(fc)
  sb.maxInodes = ctx.seen & SEEN_INODES ? ctx.inodes : defaultMaxBlocks(fc)
  const err = sb.makeRoot(ctx.mode, ctx.uid, ctx.gid)
  if (err !== undefined) return err
  fc.setSuperblock(sb)
  return undefined
}

/** shmem_reconfigure(): size and nr_inodes may grow or shrink to what is in use, never from unlimited. */
const shmemReconfigure = (fc: FsContext, sb: Superblock): SysError | undefined => {
  const ctx = fc.fsPrivate as ShmemOptions
  const info = sb.fsInfo as ShmemSbInfo
  if (ctx.seen & SEEN_BLOCKS && ctx.blocks !== 0) {
    if (sb.maxBlocks === 0) return fc.invalf("Cannot retroactively limit size")
    if (sb.usedBlocks > ctx.blocks) return fc.invalf("Too small a size for current use")
  }
  if (ctx.seen & SEEN_INODES && ctx.inodes !== 0) {
    if (sb.maxInodes === 0) return fc.invalf("Cannot retroactively limit inodes")
    if (ctx.inodes < sb.usedInodes) return fc.invalf("Too few inodes for current use")
  }
  if (ctx.seen & SEEN_INUMS && !ctx.fullInums && sb.nextIno > 0xffffffff)
    return fc.invalf("Current inum too high to switch to 32-bit inums")
  if (ctx.seen & SEEN_NOSWAP && ctx.noswap && !info.noswap) return fc.invalf("Cannot disable swap on remount")
  if (!(ctx.seen & SEEN_NOSWAP) && !ctx.noswap && info.noswap)
    return fc.invalf("Cannot enable swap on remount if it was disabled on first mount")
  if (ctx.seen & SEEN_INUMS) info.fullInums = ctx.fullInums
  if (ctx.seen & SEEN_HUGE) info.huge = ctx.huge
  if (ctx.seen & SEEN_BLOCKS) sb.maxBlocks = ctx.blocks
  if (ctx.seen & SEEN_INODES) sb.maxInodes = ctx.inodes
  return undefined
}

/** shmem_show_options(): only what differs from the defaults; inode64 only when chosen (CONFIG_TMPFS_INODE64=n). */
const shmemShowOptions = (sb: Superblock): string => {
  const info = sb.fsInfo as ShmemSbInfo
  const def = defaultMaxBlocks(sb)
  let out = ""
  if (sb.maxBlocks !== def) out += `,size=${sb.maxBlocks * 4}k`
  if (sb.maxInodes !== def) out += `,nr_inodes=${sb.maxInodes}`
  if (info.mode !== 0o1777) out += `,mode=${info.mode.toString(8).padStart(3, "0")}`
  const init = sb.userNs.initNs
  if (info.uid !== 0) out += `,uid=${fromKuidMunged(init, info.uid)}`
  if (info.gid !== 0) out += `,gid=${fromKgidMunged(init, info.gid)}`
  if (info.fullInums) out += ",inode64"
  if (info.huge !== "never") out += `,huge=${info.huge}`
  if (info.noswap) out += ",noswap"
  return out
}

export const statfsFsid = (sb: Superblock): readonly [number, number] => [sb.dev, 0]

/** shmem_statfs(). */
const shmemStatfs = (sb: Superblock): Omit<Kstatfs, "flags"> => ({
  type: TMPFS_MAGIC,
  bsize: PAGE_SIZE,
  blocks: sb.maxBlocks,
  bfree: sb.maxBlocks === 0 ? 0 : sb.maxBlocks - sb.usedBlocks,
  bavail: sb.maxBlocks === 0 ? 0 : sb.maxBlocks - sb.usedBlocks,
  files: sb.maxInodes,
  ffree: sb.maxInodes === 0 ? 0 : sb.maxInodes - sb.usedInodes,
  fsid: statfsFsid(sb),
  namelen: NAME_MAX,
  frsize: PAGE_SIZE
})

/** tmpfs (mm/shmem.c shmem_fs_type): FS_USERNS_MOUNT, a new superblock per mount. */
export const shmemType: FsType = {
  name: "tmpfs",
  initOrder: FS_INIT_ORDER.tmpfs,
  fsFlags: FS_USERNS_MOUNT,
  requiresDev: false,
  magic: TMPFS_MAGIC,
  initFsContext(fc) {
    const opts: ShmemOptions = {
      blocks: 0,
      inodes: 0,
      mode: 0o1777,
      uid: fc.cred.fsuid,
      gid: fc.cred.fsgid,
      fullInums: false,
      noswap: false,
      huge: "never",
      seen: 0
    }
    fc.fsPrivate = opts
  },
  parseParam: shmemParseParam,
  getTree: shmemGetTree,
  reconfigure: shmemReconfigure,
  showOptions: shmemShowOptions,
  statfs: shmemStatfs
}
