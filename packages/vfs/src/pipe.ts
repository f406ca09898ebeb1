import {
  NAME_MAX,
  O_CLOEXEC,
  O_DIRECT,
  O_NONBLOCK,
  O_RDONLY,
  O_WRONLY,
  PIPEFS_MAGIC,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLOUT,
  POLLRDNORM,
  POLLWRNORM,
  S_IFIFO,
  S_IRUSR,
  S_IWUSR,
  sysError,
  type SysError
} from "@simkernel/abi"
import type { Cred } from "@simkernel/cred"
import { Refcounted } from "@simkernel/kref"
import { MNT_INTERNAL, PAGE_SIZE } from "./constants.js"
import { Dentry } from "./Dentry.js"
import { File, type FileOperations } from "./File.js"
import type { FsType } from "./FsType.js"
import { Inode } from "./Inode.js"
import type { Mount } from "./Mount.js"
import { vfsCreateMount } from "./namespace.js"
import { sgetAnon } from "./Superblock.js"
import type { VfsTask } from "./Task.js"
import type { Vfs } from "./Vfs.js"
import { WaitQueue, WouldBlock } from "./waitQueue.js"

/** PIPE_BUF: writes of at most this many bytes are atomic (pipe(7)). */
export const PIPE_BUF = 4096
/** PIPE_DEF_BUFFERS: a new pipe has 16 page slots, 65536 bytes (pipe(7)). */
export const PIPE_DEF_BUFFERS = 16

/** pipefs (fs/pipe.c): the internal filesystem pipe inodes live on; never mounted by users. */
export const pipefsType: FsType = {
  name: "pipefs",
  fsFlags: 0,
  requiresDev: false,
  magic: PIPEFS_MAGIC,
  initFsContext: () => undefined,
  parseParam: () => undefined,
  getTree: () => undefined,
  reconfigure: () => undefined,
  showOptions: () => "",
  statfs: (sb) => ({ type: PIPEFS_MAGIC, bsize: PAGE_SIZE, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, fsid: [sb.dev, 0], namelen: NAME_MAX, frsize: PAGE_SIZE })
}

/** One slot of a pipe's ring (struct pipe_buffer): a page, and the bytes of it not yet read. */
interface PipeBuffer {
  readonly page: Uint8Array
  offset: number
  len: number
  /** PIPE_BUF_FLAG_CAN_MERGE: a later small write may append to this page (not in packet mode). */
  readonly canMerge: boolean
  /** PIPE_BUF_FLAG_PACKET: an O_DIRECT write's page, read as one packet. */
  readonly packet: boolean
}

/**
 * A pipe, as include/linux/pipe_fs_i.h struct pipe_inode_info: a ring of
 * at most `maxUsage` page-sized buffers, the number of open readers and
 * writers, and a wait queue both sides sleep on (Linux has rd_wait and
 * wr_wait; one queue whose waiters recheck their condition does the same).
 * Refcounted: every File open on the pipe holds one reference (the last
 * close frees it, as free_pipe_info() does).
 */
export class Pipe extends Refcounted {
  readonly kind = "Pipe"
  readers = 0
  writers = 0
  /** r_counter / w_counter: opens so far, for FIFO opens waiting for a partner. */
  rCounter = 0
  wCounter = 0
  readonly maxUsage = PIPE_DEF_BUFFERS
  readonly wq = new WaitQueue()
  private readonly bufs: Array<PipeBuffer> = []
  /** pipe->tmp_page: one freed page kept for the next write. */
  private tmpPage: Uint8Array | undefined = undefined
  /** Bytes in the pipe (FIONREAD). */
  bytes = 0

  /** The FIFO inode this pipe is the i_pipe of (undefined for an anonymous pipe). */
  fifo: Inode | undefined = undefined

  constructor(vfs: Vfs) {
    super(vfs.registry, "pipe")
  }

  get empty(): boolean {
    return this.bufs.length === 0
  }

  get full(): boolean {
    return this.bufs.length >= this.maxUsage
  }

  /** pipe_readable(): something to read, or no writer left (EOF). */
  readable(): boolean {
    return this.bufs.length > 0 || this.writers === 0
  }

  /** pipe_writable(): a free slot, or no reader left (EPIPE). */
  writable(): boolean {
    return this.bufs.length < this.maxUsage || this.readers === 0
  }

  private newPage(): Uint8Array {
    const p = this.tmpPage
    if (p !== undefined) {
      this.tmpPage = undefined
      return p
    }
    return new Uint8Array(PAGE_SIZE)
  }

  /**
   * pipe_read(): copy what is there (one buffer only in packet mode), 0 at
   * EOF (empty and no writer), EAGAIN when empty with writers and
   * `nonblock`, else WouldBlock until it is readable.
   */
  read(buf: Uint8Array, nonblock: boolean): number | SysError | WouldBlock {
    const total = buf.length
    if (total === 0) return 0
    let ret = 0
    const wasFull = this.full
    while (this.bufs.length > 0) {
      const b = this.bufs[0]!
      const chars = Math.min(total - ret, b.len)
      buf.set(b.page.subarray(b.offset, b.offset + chars), ret)
      ret += chars
      b.offset += chars
      b.len -= chars
      this.bytes -= chars
      const packet = b.packet
      if (packet) {
        // a packet is read whole or its rest is dropped (pipe(2) O_DIRECT)
        this.bytes -= b.len
        b.len = 0
      }
      if (b.len === 0) {
        this.bufs.shift()
        this.tmpPage ??= b.page
      }
      if (ret === total || packet) break
    }
    if (ret > 0) {
      if (wasFull || this.bufs.length < this.maxUsage) this.wq.wakeUp(POLLOUT | POLLWRNORM)
      return ret
    }
    if (this.writers === 0) return 0
    if (nonblock) return sysError("EAGAIN", "read")
    return new WouldBlock(this.wq, () => this.readable())
  }

  /**
   * pipe_write(): EPIPE with no reader left (the caller sends SIGPIPE);
   * a write of at most PIPE_BUF bytes goes in whole or not at all; a larger
   * one fills free slots page by page. With `nonblock`, what fits (EAGAIN
   * when nothing does); otherwise WouldBlock when a slot is missing, with
   * `done` the bytes already written (call again with the rest and
   * `cont` true). `packet`: O_DIRECT, each page a packet, no merging.
   */
  write(buf: Uint8Array, nonblock: boolean, packet: boolean, cont = false): number | SysError | WouldBlock {
    const total = buf.length
    if (total === 0) return 0
    if (this.readers === 0) return sysError("EPIPE", "write")
    const wasEmpty = this.bufs.length === 0
    let ret = 0
    const chars = total & (PAGE_SIZE - 1)
    if (!cont && chars !== 0 && this.bufs.length > 0) {
      const last = this.bufs[this.bufs.length - 1]!
      const offset = last.offset + last.len
      if (last.canMerge && offset + chars <= PAGE_SIZE) {
        last.page.set(buf.subarray(0, chars), offset)
        last.len += chars
        this.bytes += chars
        ret = chars
        if (ret === total) {
          this.wq.wakeUp(POLLIN | POLLRDNORM)
          return ret
        }
      }
    }
    for (;;) {
      if (this.readers === 0) {
        if (ret === 0) return sysError("EPIPE", "write")
        break
      }
      if (this.bufs.length < this.maxUsage) {
        const page = this.newPage()
        const n = Math.min(PAGE_SIZE, total - ret)
        page.set(buf.subarray(ret, ret + n), 0)
        this.bufs.push({ page, offset: 0, len: n, canMerge: !packet, packet })
        this.bytes += n
        ret += n
        if (ret === total) break
        continue
      }
      if (nonblock) {
        if (ret === 0) return sysError("EAGAIN", "write")
        break
      }
      if (ret > 0 || !wasEmpty) this.wq.wakeUp(POLLIN | POLLRDNORM)
      return new WouldBlock(this.wq, () => this.writable(), ret)
    }
    this.wq.wakeUp(POLLIN | POLLRDNORM)
    return ret
  }

  /**
   * pipe_poll() for a file opened for reading and/or writing; `version`
   * is the file's f_pipe (POLLHUP only once a writer has come since).
   */
  poll(canRead: boolean, canWrite: boolean, version = 0): number {
    let mask = 0
    if (canRead) {
      if (this.bufs.length > 0) mask |= POLLIN | POLLRDNORM
      if (this.writers === 0 && version !== this.wCounter) mask |= POLLHUP
    }
    if (canWrite) {
      if (this.bufs.length < this.maxUsage) mask |= POLLOUT | POLLWRNORM
      if (this.readers === 0) mask |= POLLERR
    }
    return mask
  }

  protected override destroy(): void {
    this.bufs.length = 0
    this.tmpPage = undefined
    // free_pipe_info() of a FIFO: the inode has no pipe until the next open
    if (this.fifo !== undefined && this.fifo.data === this) this.fifo.data = undefined
    this.fifo = undefined
  }
}

/** FIFO opens that must still wait for a partner: the condition, until the opener has waited. */
const partnerWaits = new WeakMap<File, () => boolean>()

/** The Pipe behind a pipe or FIFO File, or undefined for any other file. */
export const pipeFromFile = (file: File): Pipe | undefined => (file.fop === pipeFops ? (file.privateData as Pipe) : undefined)

/**
 * pipe_release(): one reader or writer fewer; the other side is woken
 * (readers see EOF, writers EPIPE), then the file's reference on the pipe
 * goes.
 */
const pipeRelease = (file: File): void => {
  const pipe = file.privateData as Pipe
  if (file.canRead) pipe.readers--
  if (file.canWrite) pipe.writers--
  if (pipe.readers === 0 || pipe.writers === 0) pipe.wq.wakeUp(POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM | POLLERR | POLLHUP)
  pipe.put()
}

/** pipefifo_fops: the file operations of pipes and FIFOs. */
export const pipeFops: FileOperations = {
  name: "pipe",
  release: pipeRelease,
  poll: (file) => (file.privateData as Pipe).poll(file.canRead, file.canWrite, file.pipeVersion),
  waitQueue: (file) => (file.privateData as Pipe).wq
}

/** pipe_mnt, made on first use and held in `vfs.internalMounts` until Vfs.shutdown(). */
const pipeMount = (vfs: Vfs, cred: Cred): Mount | SysError => {
  const existing = vfs.internalMounts.get("pipefs")
  if (existing !== undefined) return existing
  const sb = sgetAnon(vfs, pipefsType, cred.userNs.initNs, 0)
  if ("errno" in sb) return sb
  sb.root = new Dentry("/", undefined, new Inode(sb, 1, 0o40700, 0, 0))
  const mnt = vfsCreateMount(sb, sb.root, MNT_INTERNAL, "pipefs")
  sb.put()
  if ("errno" in mnt) return mnt
  vfs.internalMounts.set("pipefs", mnt)
  return mnt
}

/** A File on `pipe` (taking a new reference on it), counted as a reader and/or writer. */
const openPipeFile = (path: { mnt: Mount; dentry: Dentry }, pipe: Pipe, flags: number, cred: Cred): File =>
  attachPipe(new File(path, flags, cred), pipe)

const attachPipe = (file: File, pipe: Pipe): File => {
  file.fop = pipeFops
  file.privateData = pipe.get()
  if (file.canRead) {
    pipe.readers++
    pipe.rCounter++
  }
  if (file.canWrite) {
    pipe.writers++
    pipe.wCounter++
  }
  return file
}

/**
 * create_pipe_files(): a new pipe inode (S_IFIFO, mode 0600, owned by the
 * caller's fsuid/fsgid, named "pipe:[INO]") on pipefs, and its two Files:
 * the read end (O_RDONLY) and the write end (O_WRONLY), each keeping
 * O_NONBLOCK and O_DIRECT of `flags`.
 */
export const createPipeFiles = (vfs: Vfs, cred: Cred, flags: number): readonly [File, File] | SysError => {
  const mnt = pipeMount(vfs, cred)
  if ("errno" in mnt) return mnt
  const inode = new Inode(mnt.sb, vfs.getNextIno(), S_IFIFO | S_IRUSR | S_IWUSR, cred.fsuid, cred.fsgid)
  const pipe = new Pipe(vfs)
  inode.data = pipe
  const dentry = new Dentry(`pipe:[${inode.ino}]`, mnt.root, inode)
  dentry.unhashed = true
  const keep = flags & (O_NONBLOCK | O_DIRECT)
  const r = openPipeFile({ mnt, dentry }, pipe, O_RDONLY | keep, cred)
  const w = openPipeFile({ mnt, dentry }, pipe, O_WRONLY | keep, cred)
  pipe.put()
  return [r, w]
}

/**
 * pipe2(2): a pipe's read and write ends as two new descriptors [read,
 * write]. EINVAL for flags other than O_CLOEXEC, O_NONBLOCK and O_DIRECT;
 * EMFILE when the table has no two free slots (nothing is installed then).
 */
export const pipe2 = (task: VfsTask, flags: number): readonly [number, number] | SysError => {
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) !== 0) return sysError("EINVAL", "pipe2")
  const vfs = task.fs.root.mnt.vfs
  const files = createPipeFiles(vfs, task.cred, flags)
  if ("errno" in files) return files
  const [r, w] = files
  const cloexec = (flags & O_CLOEXEC) !== 0
  const rfd = task.files.install(r, cloexec, task.nofile)
  if (typeof rfd !== "number") {
    r.put()
    w.put()
    return rfd
  }
  const wfd = task.files.install(w, cloexec, task.nofile)
  if (typeof wfd !== "number") {
    task.files.close(rfd)
    w.put()
    return wfd
  }
  return [rfd, wfd]
}

/** pipe(2): pipe2 with no flags. */
export const pipe = (task: VfsTask): readonly [number, number] | SysError => pipe2(task, 0)


/**
 * fifo_open() for a File just opened on a FIFO inode (by ksysOpenat):
 * it becomes a pipe File on the inode's pipe (made on the first open,
 * freed after the last close). A read-only open counts a reader and,
 * without O_NONBLOCK and with no writer, must wait for one; a write-only
 * open is ENXIO with O_NONBLOCK and no reader, and otherwise waits for a
 * reader; O_RDWR never waits. The wait is left to the caller:
 * `fifoPartnerWait(file)` gives its condition. On an error the File is
 * untouched (the caller puts it).
 */
export const fifoOpen = (file: File): SysError | undefined => {
  const inode = file.inode
  if (!file.canRead && !file.canWrite) return sysError("EINVAL", "open")
  let pipe = inode.data instanceof Pipe ? inode.data : undefined
  const nonblock = (file.flags & O_NONBLOCK) !== 0
  const reader = file.canRead && !file.canWrite
  const writer = file.canWrite && !file.canRead
  if (writer && nonblock && (pipe === undefined || pipe.readers === 0)) return sysError("ENXIO", "open")
  let fresh = false
  if (pipe === undefined) {
    pipe = new Pipe(file.mnt.vfs)
    pipe.fifo = inode
    inode.data = pipe
    fresh = true
  }
  attachPipe(file, pipe)
  if (fresh) pipe.put()
  // wake_up_partner(): an opener waiting for this side
  pipe.wq.wakeUp(POLLIN | POLLOUT)
  const p = pipe
  if (reader && p.writers === 0) {
    if (nonblock) file.pipeVersion = p.wCounter
    else {
      const w0 = p.wCounter
      partnerWaits.set(file, () => p.wCounter !== w0)
    }
  } else if (writer && p.readers === 0) {
    const r0 = p.rCounter
    partnerWaits.set(file, () => p.rCounter !== r0)
  }
  return undefined
}

/**
 * wait_for_partner()'s condition for a FIFO File just opened by
 * fifoOpen(), or undefined when it need not wait (asked once: the entry
 * is dropped).
 */
export const fifoPartnerWait = (file: File): (() => boolean) | undefined => {
  const w = partnerWaits.get(file)
  if (w !== undefined) partnerWaits.delete(file)
  return w
}
