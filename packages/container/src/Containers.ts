import {
  CAP_SYS_ADMIN,
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUTS,
  CONTAINER__FLAG_MASK,
  CONTAINER_FD_CLOEXEC,
  CONTAINER_KILL_ON_CLOSE,
  CONTAINER_NEW_CGROUP_NS,
  CONTAINER_NEW_EMPTY_FS_NS,
  CONTAINER_NEW_FS_NS,
  CONTAINER_NEW_IPC_NS,
  CONTAINER_NEW_NET_NS,
  CONTAINER_NEW_PID_NS,
  CONTAINER_NEW_USER_NS,
  CONTAINER_NEW_UTS_NS,
  MOVE_MOUNT_T_AUTOMOUNTS,
  MOVE_MOUNT_T_EMPTY_PATH,
  MOVE_MOUNT_T_SYMLINKS,
  O_RDWR,
  Oops,
  SIGCHLD,
  sysError,
  SysError,
  WNOHANG
} from "@simkernel/abi"
import {
  abortCreds,
  type Cred,
  credFromDraft,
  type NewCred,
  nsCapable,
  prepareCreds,
  unshareUserns
} from "@simkernel/cred"
import { Rollback } from "@simkernel/kref"
import { type NetNamespace, type Socket, sockCreate } from "@simkernel/net"
import { createNewNamespaces, type NsProxy, unshareNsproxyNamespaces } from "@simkernel/nsproxy"
import {
  type Kernel,
  type KernelCloneArgs,
  getSignal,
  groupSendSigInfo,
  kernelClone,
  type PidNamespace,
  type Program,
  type Rusage,
  signalPending,
  type Task,
  type TaskHooks,
  validSignal
} from "@simkernel/sched"
import type { ContainerHooks, LsmRegistry } from "@simkernel/security"
import {
  allocMntNs,
  anonInodeGetfile,
  type FsContext,
  FsStruct,
  mntAddToNs,
  type MountApiHooks,
  type MountNamespace,
  type Path,
  type Vfs,
  type VfsTask
} from "@simkernel/vfs"
import { Effect } from "effect"
import { CONTAINER_FLAG_INIT_STARTED, CONTAINER_FLAG_KILL_ON_CLOSE, CONTAINER_NAME_SIZE, Container } from "./Container.js"
import { containerFops, containerFromFile, containerGet } from "./file.js"
import { containerDie } from "./lifecycle.js"
import { procContainers } from "./proc.js"
import {
  CONTAINER_IOCTL_NOTIF_ID_VALID,
  CONTAINER_IOCTL_NOTIF_RECV,
  CONTAINER_IOCTL_NOTIF_SEND,
  CONTAINER_IOCTL_SUPERVISE,
  type ContainerNotif,
  type ContainerNotifResp,
  notifIdValid,
  notifRecv,
  notifSend,
  SUPERVISED_SYSCALLS,
  superviseContainer,
  superviseEperm,
  supervisorFor,
  supervisorFromFile,
  supervisorGet
} from "./supervise.js"

/** What install() needs: a booted scheduler kernel with a Vfs, and optionally the LSM stack for the container hooks. */
export interface ContainersOptions {
  readonly kernel: Kernel
  readonly lsm?: LsmRegistry<ContainerHooks>
}

/**
 * container_wait()'s answer. `status` is the wait status the container
 * died with, or undefined when WNOHANG found it alive: the call then
 * returns 0 and writes nothing to *wstatus, as waitid(WNOHANG) returns 0
 * and leaves si_pid 0 (a caller presets *wstatus to tell).
 */
export interface ContainerWaitResult {
  readonly status: number | undefined
  /** CPU time of the members that have exited (struct rusage's ru_utime/ru_stime, ns). */
  readonly rusage: Rusage
}

/** The container flags and the CLONE_NEW* flag each one asks create_new_namespaces() for. */
const NS_FLAGS: ReadonlyArray<readonly [number, number]> = [
  [CONTAINER_NEW_FS_NS, CLONE_NEWNS],
  [CONTAINER_NEW_CGROUP_NS, CLONE_NEWCGROUP],
  [CONTAINER_NEW_UTS_NS, CLONE_NEWUTS],
  [CONTAINER_NEW_IPC_NS, CLONE_NEWIPC],
  [CONTAINER_NEW_PID_NS, CLONE_NEWPID],
  [CONTAINER_NEW_NET_NS, CLONE_NEWNET]
]

/** The CLONE_NEW* flags for a container_create() flag word. */
export const containerCloneFlags = (flags: number): number => {
  let clone = 0
  for (const [c, n] of NS_FLAGS) if ((flags & c) !== 0) clone |= n
  return clone
}

/** The fork that fork_into_container() asks for: its container, for the onFork hook. */
class ForkInto {
  constructor(readonly container: Container) {}
}

/** strlen() of the name as UTF-8 bytes (what the C string holds). */
const utf8Length = (s: string): number => {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    // a surrogate pair is one 4-byte character: 2 + 2
    else if (c >= 0xd800 && c <= 0xdfff) n += 2
    else n += 3
  }
  return n
}

/**
 * The container subsystem of one kernel (kernel/container.c): the `.init`
 * container every task starts in, the id counter, the task and mount-API
 * hooks, and the calls the kernel app's syscall layer makes. Every method
 * takes the calling task and answers with Linux's errno.
 */
export class Containers {
  readonly kernel: Kernel
  readonly vfs: Vfs
  readonly lsm: LsmRegistry<ContainerHooks> | undefined
  /** The root container, `.init` (id 1), holding the initial namespaces. */
  readonly initContainer: Container
  private nextId = 2n
  private readonly memberOf = new WeakMap<Task, Container>()
  private readonly removeHooks: () => void
  private down = false

  private constructor(options: ContainersOptions) {
    const k = options.kernel
    if (k.vfs === undefined) throw new Oops("the container subsystem needs a kernel booted with a Vfs")
    this.kernel = k
    this.vfs = k.vfs
    this.lsm = options.lsm
    const init = k.initTask
    const fs = init.fs as FsStruct | undefined
    const root = fs === undefined ? undefined : { mnt: fs.root.mnt.get(), dentry: fs.root.dentry }
    this.initContainer = new Container({
      registry: k.live,
      name: ".init",
      id: 1n,
      cred: init.cred.get(),
      nsproxy: init.nsproxy!.get(),
      root,
      pidNs: k.initPidNs.get(),
      parent: undefined,
      flags: CONTAINER_FLAG_INIT_STARTED,
      createFlags: 0,
      onFree: (c) => this.free(c)
    })
    this.initContainer.init = init
    for (const [, pid] of k.initPidNs.idr) {
      const t = pid?.task
      if (t !== undefined && t.exitState.tag === "running") this.join(this.initContainer, t)
    }
    const hooks: TaskHooks = {
      onFork: (parent, child, flags, args) => this.onFork(parent, child, flags, args),
      onForkUndo: (child) => this.leave(child),
      onExit: (t) => this.onExit(t)
    }
    const removeTaskHooks = k.addTaskHooks(hooks)
    const mountHooks: MountApiHooks = {
      fsconfigSetContainer: (task, fc, cfd) => this.fsconfigSetContainer(task, fc, cfd),
      moveMountContainerRoot: (task, from, cfd, toPath, flags) => this.moveMountContainerRoot(task, from, cfd, toPath, flags)
    }
    this.vfs.mountApiHooks = mountHooks
    // one root (decision 3): pivot_root moves a container's root as it moves its members' fs_structs
    const pivotRoot = (oldRoot: Path, newRoot: Path): void => this.replaceRoot(this.initContainer, oldRoot, newRoot)
    this.vfs.pivotRootHooks.add(pivotRoot)
    this.removeHooks = () => {
      removeTaskHooks()
      this.vfs.pivotRootHooks.delete(pivotRoot)
      if (this.vfs.mountApiHooks === mountHooks) this.vfs.mountApiHooks = undefined
    }
  }

  /**
   * Install the subsystem on a booted kernel (container_init()): `.init`
   * is made from PID 1's credentials, namespaces and root, every live task
   * joins it, fork and exit keep membership from then on, and the mount
   * API gains FSCONFIG_SET_CONTAINER and MOVE_MOUNT_T_CONTAINER_ROOT.
   */
  static install(options: ContainersOptions): Containers {
    return new Containers(options)
  }

  /**
   * Take the hooks out and drop `.init`: call after the kernel's shutdown
   * (every task gone) and before vfs.shutdown(), so the leak audit reads zero.
   */
  shutdown(): void {
    if (this.down) return
    this.down = true
    this.removeHooks()
    this.initContainer.put()
  }

  /** chroot_fs_refs() for container roots: `c` and every container below it rooted at `oldRoot` now start at `newRoot`. */
  private replaceRoot(c: Container, oldRoot: Path, newRoot: Path): void {
    const root = c.root
    if (root !== undefined && root.mnt === oldRoot.mnt && root.dentry === oldRoot.dentry) {
      c.root = { mnt: newRoot.mnt.get(), dentry: newRoot.dentry }
      root.mnt.put()
    }
    for (const child of c.children) this.replaceRoot(child, oldRoot, newRoot)
  }

  /** The container `task` belongs to (every task belongs to one while it lives). */
  containerOf(task: Task): Container | undefined {
    return this.memberOf.get(task)
  }

  /** The container open at `fd` in `task`'s table: EBADF when not open, EINVAL when not a container fd. Borrowed. */
  fromFd(task: Task, fd: number, syscall = "container"): Container | SysError {
    return containerGet(task.vfsTask(), fd, syscall)
  }

  // ------------------------------------------------------------- membership

  private join(c: Container, t: Task): void {
    c.get()
    c.members.add(t)
    this.memberOf.set(t, c)
  }

  private leave(t: Task): void {
    const c = this.memberOf.get(t)
    if (c === undefined) return
    this.memberOf.delete(t)
    c.members.delete(t)
    c.put()
  }

  /**
   * copy_container(): the child joins the container it is forked into
   * (fork_into_container) or its parent's. ECANCELED into a dead container.
   * The first task forked into a container starts it (INIT_STARTED); with
   * its own PID namespace that task is PID 1 there and the container's init.
   */
  private onFork(parent: Task, child: Task, _flags: number, args: KernelCloneArgs): SysError | undefined {
    const into = args.hookData instanceof ForkInto ? args.hookData.container : undefined
    const c = into ?? this.memberOf.get(parent)
    if (c === undefined) return undefined
    if (c.dead) return sysError("ECANCELED", "clone", "the container is dead")
    this.join(c, child)
    if (into !== undefined && !c.initStarted) {
      c.flags |= CONTAINER_FLAG_INIT_STARTED
      if (c.pidNs.childReaper === undefined && child.pid.nrs[child.pid.level] === 1) c.init = child
    }
    return undefined
  }

  /**
   * exit_container(): a task leaves its container. Init's exit kills the
   * container; without a PID namespace (no init) the last member's exit
   * after one was started does, with that member's status.
   */
  private onExit(t: Task): void {
    const c = this.memberOf.get(t)
    if (c === undefined) return
    c.rusage.utime += t.utime
    c.rusage.stime += t.stime
    c.members.delete(t)
    this.memberOf.delete(t)
    if (c.init === t) containerDie(c, t.exitCode, t)
    else if (c.init === undefined && c !== this.initContainer && c.members.size === 0 && c.initStarted) containerDie(c, t.exitCode, t)
    c.put()
  }

  /** put_container()'s release: security_container_free() and unlinking from the parent. */
  private free(c: Container): void {
    this.lsm?.callVoid("container_free", c)
    c.parent?.children.delete(c)
  }

  // ------------------------------------------------------- container_create

  /**
   * container_create(name, flags, spare3, spare4, spare5): a new container
   * and an fd for it ("anon_inode:container", O_RDWR, O_CLOEXEC with
   * CONTAINER_FD_CLOEXEC). Errors in the seed's order: EINVAL for a NULL
   * name, unknown flags or a non-zero spare, EINVAL for NEW_FS_NS with
   * NEW_EMPTY_FS_NS, ENAMETOOLONG for a name of 24 bytes or more, EINVAL
   * for a '/' in it; then what making the user namespace (ENOSPC, EPERM),
   * the other namespaces (EPERM without CAP_SYS_ADMIN over their owner, as
   * unshare(2)) or container_alloc (the LSM's errno) says, and EMFILE.
   * Everything taken is given back on failure.
   */
  create(
    task: Task,
    name: string | null,
    flags: number,
    spare3 = 0,
    spare4 = 0,
    spare5 = 0
  ): Effect.Effect<number, SysError> {
    return Effect.suspend(() => {
      // strndup_user(): the name ends at its first NUL
      const cut = name === null ? -1 : name.indexOf("\0")
      const n = cut < 0 ? name : name!.slice(0, cut)
      const err = checkCreateArgs(n, flags, spare3, spare4, spare5)
      if (err !== undefined || n === null) return finish(task, err!)
      if ((flags & CONTAINER_NEW_USER_NS) === 0) return finish(task, this.createWith(task, n, flags, undefined))
      return Effect.matchEffect(unshareUserns(task.cred), {
        onFailure: (e) => finish(task, e),
        onSuccess: (draft) => finish(task, this.createWith(task, n, flags, draft))
      })
    })
  }

  /** The rest of container_create() once the user namespace (if asked for) is in `draft` (taken over). */
  private createWith(task: Task, name: string, flags: number, draft: NewCred | undefined): number | SysError {
    const rb = new Rollback()
    const cred = rb.own(containerCred(task.cred, draft))
    const made = containerNamespaces(task, flags, cred)
    if (made instanceof SysError) {
      rb.rollback()
      return made
    }
    const nsproxy = rb.own(made.ns)
    const start = made.root
    const root = start === undefined ? undefined : { mnt: start.mnt.get(), dentry: start.dentry }
    if (root !== undefined) rb.add(() => void root.mnt.put())
    made.fs?.put()
    const pidNs = rb.own((nsproxy.pidForChildren as PidNamespace).get())
    const parent = this.memberOf.get(task)
    if (parent !== undefined) rb.own(parent.get())
    rb.commit()
    const c = new Container({
      registry: this.kernel.live,
      name,
      id: this.nextId++,
      cred,
      nsproxy,
      root,
      pidNs,
      parent,
      flags: (flags & CONTAINER_KILL_ON_CLOSE) !== 0 ? CONTAINER_FLAG_KILL_ON_CLOSE : 0,
      createFlags: flags,
      onFree: (x) => this.free(x)
    })
    const denied = this.lsm?.callInt("container_alloc", c, flags)
    if (denied !== undefined) {
      c.put()
      return denied
    }
    parent?.children.add(c)
    const file = anonInodeGetfile(this.vfs, "container", containerFops, c, O_RDWR, task.cred)
    if (file instanceof SysError) {
      c.put()
      return file
    }
    const fd = task.vfsTask().files.install(file, (flags & CONTAINER_FD_CLOEXEC) !== 0)
    // on EMFILE the file's release puts the container (it has no member for KILL_ON_CLOSE to kill)
    if (typeof fd !== "number") file.put()
    return fd
  }

  // ---------------------------------------------------- fork_into_container

  /**
   * fork_into_container(cfd): fork(2) into the container. The child gets the
   * container's credentials and NsProxy (no CLONE_NEW* processing), a new
   * fs_struct with root = cwd = the container's root and umask 0022, and
   * membership; its PID comes from the container's PID namespace (PID 1 for
   * the first child of a NEW_PID_NS container, which becomes its init).
   * Returns the child's PID as the caller sees it (0 when it cannot see
   * the container's namespace). EBADF, EINVAL for a non-container fd,
   * ECANCELED for a dead container, ENOENT while it has no root
   * (NEW_EMPTY_FS_NS before move_mount), then fork's own errors.
   */
  forkInto(task: Task, cfd: number, child: Program, comm?: string): Effect.Effect<number, SysError> {
    return Effect.suspend(() => {
      const c = this.fromFd(task, cfd, "fork_into_container")
      if (c instanceof SysError) return finish(task, c)
      if (c.dead) return finish(task, sysError("ECANCELED", "fork_into_container", "the container is dead"))
      const root = c.root
      if (root === undefined) return finish(task, sysError("ENOENT", "fork_into_container", "the container has no root yet"))
      const args: KernelCloneArgs = {
        flags: 0,
        exitSignal: SIGCHLD,
        fn: child,
        comm,
        cred: c.cred,
        nsproxy: c.nsproxy,
        fs: new FsStruct(this.vfs, root, root, 0o022),
        hookData: new ForkInto(c)
      }
      // copy_process() does not yield before the child joins (and holds) the container
      return Effect.matchEffect(kernelClone(task, args), { onFailure: (e) => finish(task, e), onSuccess: (r) => finish(task, r.pid) })
    })
  }

  // --------------------------------------------------------- container_wait

  /**
   * container_wait(cfd, wstatus, options, rusage): sleep until the container
   * is dead (interruptible, as wait4: EINTR when a handler runs), then its
   * status. WNOHANG answers at once (see ContainerWaitResult). EINVAL for
   * options other than WNOHANG, EBADF, EINVAL for a non-container fd.
   */
  wait(task: Task, cfd: number, options: number): Effect.Effect<ContainerWaitResult, SysError> {
    return Effect.suspend(() => {
      if ((options & ~WNOHANG) !== 0 || !Number.isInteger(options)) return finish(task, sysError("EINVAL", "container_wait"))
      const c = this.fromFd(task, cfd, "container_wait")
      if (c instanceof SysError) return finish(task, c)
      c.get()
      return Effect.ensuring(waitDead(task, c, (options & WNOHANG) !== 0), Effect.sync(() => void c.put()))
    })
  }

  // --------------------------------------------------------- container_kill

  /**
   * container_kill(cfd, initonly, signal): `signal` to the container's init
   * (ESRCH without one, or once dead) or to every member's process (ESRCH
   * with none), each with kill(2)'s permission check from the caller
   * (EPERM; with several targets, success if any got it, as kill(-1)).
   * Signal 0 only checks. EBADF, EINVAL for a non-container fd or an
   * invalid signal.
   */
  kill(task: Task, cfd: number, initonly: number, signal: number): number | SysError {
    const c = this.fromFd(task, cfd, "container_kill")
    if (c instanceof SysError) return c
    return containerKill(task, c, initonly !== 0, signal)
  }

  // ------------------------------------------------------- container_socket

  /**
   * container_socket(cfd, domain, type, protocol): a socket made in the
   * container's network namespace (socket(2)'s errors after EBADF/EINVAL
   * for the fd), so its interfaces can be managed from outside with
   * NETLINK_ROUTE. Returns the Socket (the caller's reference), which the
   * syscall layer installs as socket(2) does.
   */
  socket(task: Task, cfd: number, domain: number, type: number, protocol: number): Socket | SysError {
    const c = this.fromFd(task, cfd, "container_socket")
    if (c instanceof SysError) return c
    const net = c.nsproxy.net as NetNamespace | undefined
    if (net === undefined) return sysError("EAFNOSUPPORT", "container_socket", "no network namespaces in this kernel")
    return sockCreate(net, task.cred, domain, type, protocol, { tgid: task.tgidIn(task.activePidNs) })
  }

  // ------------------------------------------------------------ supervision

  /**
   * ioctl(2) on a container fd or a notification fd: CONTAINER_IOCTL_SUPERVISE
   * on a cfd (`arg` unused, must be 0: EINVAL otherwise) answers a
   * notification fd; NOTIF_RECV fills `arg` (an object) with a
   * ContainerNotif and returns 0; NOTIF_SEND reads a ContainerNotifResp
   * from `arg`; NOTIF_ID_VALID reads `{ id }` or a bigint. Undefined when
   * `fd` is neither kind of file (the caller answers as for any other fd:
   * EBADF, ENOTTY); EINVAL for another command on one of them, EFAULT for a
   * missing argument object.
   */
  ioctl(task: Task, fd: number, cmd: number, arg: unknown): Effect.Effect<number, SysError> | undefined {
    const f = fd < 0 ? undefined : task.vfsTask().files.fdget(fd)
    if (f === undefined) return undefined
    const c = containerFromFile(f)
    if (c !== undefined) {
      if (cmd !== CONTAINER_IOCTL_SUPERVISE) return finish(task, sysError("EINVAL", "ioctl"))
      if (arg !== 0 && arg !== undefined && arg !== null) return finish(task, sysError("EINVAL", "ioctl"))
      return finish(task, superviseContainer(this.vfs, task, c))
    }
    const s = supervisorFromFile(f)
    if (s === undefined) return undefined
    switch (cmd) {
      case CONTAINER_IOCTL_NOTIF_RECV:
        if (arg === null || typeof arg !== "object") return finish(task, sysError("EFAULT", "ioctl"))
        return Effect.map(this.notifRecv(task, fd), (n) => {
          Object.assign(arg, n)
          return 0
        })
      case CONTAINER_IOCTL_NOTIF_SEND:
        if (arg === null || typeof arg !== "object") return finish(task, sysError("EFAULT", "ioctl"))
        return finish(task, notifSend(s, arg as ContainerNotifResp))
      case CONTAINER_IOCTL_NOTIF_ID_VALID: {
        const id = typeof arg === "bigint" ? arg : arg !== null && typeof arg === "object" ? (arg as { id?: unknown }).id : undefined
        if (typeof id !== "bigint") return finish(task, sysError("EFAULT", "ioctl"))
        return finish(task, notifIdValid(s, id))
      }
      default:
        return finish(task, sysError("EINVAL", "ioctl"))
    }
  }

  /** CONTAINER_IOCTL_SUPERVISE on `cfd`: a notification fd (EBADF, EINVAL, ECANCELED when dead, EBUSY when supervised). */
  supervise(task: Task, cfd: number): number | SysError {
    const c = this.fromFd(task, cfd, "ioctl")
    if (c instanceof SysError) return c
    return superviseContainer(this.vfs, task, c)
  }

  /** CONTAINER_IOCTL_NOTIF_RECV on `nfd`: sleeps until a member's request comes (EBADF, EINVAL, EINTR, ENOENT once hung up). */
  notifRecv(task: Task, nfd: number): Effect.Effect<ContainerNotif, SysError> {
    return Effect.suspend(() => {
      const s = supervisorGet(task.vfsTask(), nfd, "ioctl")
      if (s instanceof SysError) return finish(task, s)
      s.get()
      return Effect.ensuring(notifRecv(task, s), Effect.sync(() => void s.put()))
    })
  }

  /** CONTAINER_IOCTL_NOTIF_SEND on `nfd` (see notifSend for the errors). */
  notifSend(task: Task, nfd: number, resp: ContainerNotifResp): number | SysError {
    const s = supervisorGet(task.vfsTask(), nfd, "ioctl")
    return s instanceof SysError ? s : notifSend(s, resp)
  }

  /** CONTAINER_IOCTL_NOTIF_ID_VALID on `nfd`: 0 while request `id` waits, else ENOENT. */
  notifIdValid(task: Task, nfd: number, id: bigint): number | SysError {
    const s = supervisorGet(task.vfsTask(), nfd, "ioctl")
    return s instanceof SysError ? s : notifIdValid(s, id)
  }

  /** Would an EPERM from `syscall` by `task` go to a supervisor? (SUPERVISED_SYSCALLS, and a supervisor over its container.) */
  isSupervised(task: Task, syscall: string): boolean {
    return SUPERVISED_SYSCALLS.has(syscall) && supervisorFor(this.memberOf.get(task)) !== undefined
  }

  /**
   * The syscall layer's call when a handler of a supervised syscall
   * answered EPERM: with a supervisor over the task's container the task
   * sleeps until the supervisor answers (see superviseEperm: ALLOW reruns
   * `rerun` with the supervisor's credentials); otherwise `eperm` stands.
   */
  onEperm(
    task: Task,
    syscall: string,
    args: ReadonlyArray<unknown>,
    eperm: SysError,
    rerun: Effect.Effect<number, SysError>
  ): Effect.Effect<number, SysError> {
    return Effect.suspend(() => {
      const s = SUPERVISED_SYSCALLS.has(syscall) ? supervisorFor(this.memberOf.get(task)) : undefined
      if (s === undefined) return Effect.fail(eperm)
      s.get()
      return Effect.ensuring(superviseEperm(task, s, syscall, args, eperm, rerun), Effect.sync(() => void s.put()))
    })
  }

  // ---------------------------------------------------------- /proc/containers

  /** /proc/containers as `reader` reads it (4.6): its own container as `<current>`, then that container's children. */
  procContainers(reader: Task): string {
    const own = this.memberOf.get(reader) ?? this.initContainer
    return procContainers(own, reader.cred.userNs)
  }

  // ------------------------------------------------------------ mount API

  /**
   * fsconfig(fsfd, FSCONFIG_SET_CONTAINER, NULL, NULL, cfd), after the VFS's
   * argument, EBADF and EBUSY checks: EINVAL for a non-container fd; then
   * the superblock will be made for the container's user namespace, and the
   * context carries its PID and network namespaces (fc.pidNs, fc.netNs: a
   * procfs shows the container's PIDs) and the container (fc.nsSource).
   */
  private fsconfigSetContainer(task: VfsTask, fc: FsContext, cfd: number): SysError | undefined {
    const c = containerGet(task, cfd, "fsconfig")
    if (c instanceof SysError) return c
    fc.setNamespaces(c, c.cred.userNs, c.pidNs, c.nsproxy.net)
    return undefined
  }

  /**
   * move_mount(from, cfd, "/", flags | MOVE_MOUNT_T_CONTAINER_ROOT) (4.8):
   * EINVAL with T_SYMLINKS, T_AUTOMOUNTS or T_EMPTY_PATH, EFAULT for a NULL
   * path, EINVAL for a path other than "/", EBADF, EINVAL for a
   * non-container fd, EBUSY when the container has a mount namespace; the
   * source must be the root of a detached tree (fsmount, open_tree
   * OPEN_TREE_CLONE: EINVAL otherwise), and the caller needs CAP_SYS_ADMIN
   * over the container's user namespace (EPERM). The tree becomes a new
   * mount namespace owned by that user namespace, and its root the
   * container's root.
   */
  private moveMountContainerRoot(task: VfsTask, from: Path, cfd: number, toPath: string | null, flags: number): SysError | undefined {
    if ((flags & (MOVE_MOUNT_T_SYMLINKS | MOVE_MOUNT_T_AUTOMOUNTS | MOVE_MOUNT_T_EMPTY_PATH)) !== 0)
      return sysError("EINVAL", "move_mount", "T_CONTAINER_ROOT with a T_* lookup flag")
    if (toPath === null) return sysError("EFAULT", "move_mount")
    if (toPath !== "/") return sysError("EINVAL", "move_mount", "T_CONTAINER_ROOT needs the path \"/\"")
    const c = containerGet(task, cfd, "move_mount")
    if (c instanceof SysError) return c
    if (c.nsproxy.mnt !== undefined) return sysError("EBUSY", "move_mount", "the container has a mount namespace")
    const mnt = from.mnt
    const anon = mnt.ns
    if (anon === undefined || !anon.anon || anon.root !== mnt || from.dentry !== mnt.root)
      return sysError("EINVAL", "move_mount", "not the root of a detached tree")
    if (!nsCapable(task.cred, c.cred.userNs, CAP_SYS_ADMIN)) return sysError("EPERM", "move_mount")
    const ns = allocMntNs(this.vfs, c.cred.userNs, false)
    if (ns instanceof SysError) return ns
    for (const m of mnt.subtree()) {
      anon.mounts.delete(m)
      mntAddToNs(ns, m)
    }
    anon.root = undefined
    ns.root = mnt
    anon.put()
    c.nsproxy.replace("mnt", ns)
    c.root = { mnt: mnt.get(), dentry: mnt.root }
    return undefined
  }

  /** The mount namespace of a container (undefined for NEW_EMPTY_FS_NS before its root is set). */
  mntNsOf(c: Container): MountNamespace | undefined {
    return c.nsproxy.mnt as MountNamespace | undefined
  }
}

/**
 * create_new_namespaces() from the CONTAINER_NEW_* flags (owned by the new
 * user namespace when `cred` has one), with the privilege rules of
 * unshare(2): EPERM without CAP_SYS_ADMIN over that owner. For NEW_FS_NS
 * the caller's root is moved into the copy through a private fs_struct
 * (copy_mnt_ns()), whose root becomes the container's (the caller puts
 * `fs`). NEW_EMPTY_FS_NS leaves the mount slot empty, and needs the same
 * capability as NEW_FS_NS. With no flag the caller's NsProxy is shared.
 */
const containerNamespaces = (
  task: Task,
  flags: number,
  cred: Cred
): { ns: NsProxy; root: Path | undefined; fs: FsStruct | undefined } | SysError => {
  const current = task.cred
  const clone = containerCloneFlags(flags)
  const empty = (flags & CONTAINER_NEW_EMPTY_FS_NS) !== 0
  const taskFs = task.fs as FsStruct | undefined
  if (clone === 0 && !empty) return { ns: task.nsproxy!.get(), root: taskFs?.root, fs: undefined }
  const fs = (clone & CLONE_NEWNS) !== 0 ? taskFs?.copy() : undefined
  const ctx = { activePidNs: task.activePidNs, fs }
  let ns = unshareNsproxyNamespaces(clone, task.nsproxy!, current, cred, ctx)
  if (ns === undefined) {
    ns = nsCapable(current, cred.userNs, CAP_SYS_ADMIN)
      ? createNewNamespaces(0, task.nsproxy!, cred.userNs, ctx, "container_create")
      : sysError("EPERM", "container_create")
  }
  if (ns instanceof SysError) {
    fs?.put()
    return ns
  }
  if (empty) {
    ns.replace("mnt", undefined)
    return { ns, root: undefined, fs }
  }
  return { ns, root: fs !== undefined ? fs.root : taskFs?.root, fs }
}

/** The argument checks of container_create(), in the seed's order. */
const checkCreateArgs = (name: string | null, flags: number, spare3: number, spare4: number, spare5: number): SysError | undefined => {
  if (name === null) return sysError("EINVAL", "container_create", "NULL name")
  if (!Number.isInteger(flags) || flags < 0 || (flags & ~CONTAINER__FLAG_MASK) !== 0 || flags > CONTAINER__FLAG_MASK)
    return sysError("EINVAL", "container_create", "unknown flags")
  if (spare3 !== 0 || spare4 !== 0 || spare5 !== 0) return sysError("EINVAL", "container_create", "non-zero spare argument")
  if ((flags & CONTAINER_NEW_FS_NS) !== 0 && (flags & CONTAINER_NEW_EMPTY_FS_NS) !== 0)
    return sysError("EINVAL", "container_create", "NEW_FS_NS with NEW_EMPTY_FS_NS")
  if (utf8Length(name) >= CONTAINER_NAME_SIZE) return sysError("ENAMETOOLONG", "container_create")
  if (name.includes("/")) return sysError("EINVAL", "container_create", "a '/' in the name")
  return undefined
}

/**
 * The container's credentials: a copy of the creator's without the thread,
 * process and session keyrings and request_key_auth; in a new user
 * namespace (`draft`, taken over) the ids become its owner's: euid/egid
 * the owner and group, and uid/suid/fsuid, gid/sgid/fsgid to match.
 */
const containerCred = (current: Cred, draft: NewCred | undefined): Cred => {
  if (
    draft === undefined &&
    current.threadKeyring === undefined &&
    current.processKeyring === undefined &&
    current.sessionKeyring === undefined &&
    current.requestKeyAuth === undefined
  )
    return current.get()
  const d = draft ?? prepareCreds(current)
  d.setThreadKeyring(undefined)
  d.setProcessKeyring(undefined)
  d.setSessionKeyring(undefined)
  d.setRequestKeyAuth(undefined)
  if (draft !== undefined) {
    d.uid = d.suid = d.fsuid = d.euid
    d.gid = d.sgid = d.fsgid = d.egid
  }
  return credFromDraft(d)
}

/** The return to user mode after a call: pending signals are delivered (a fatal one ends the task here). */
const finish = <A>(t: Task, r: A): Effect.Effect<Exclude<A, SysError>, SysError> => {
  const out = r instanceof SysError ? Effect.fail(r) : Effect.succeed(r as Exclude<A, SysError>)
  return signalPending(t) ? Effect.andThen(getSignal(t), out) : out
}

const waitDead = (t: Task, c: Container, nohang: boolean): Effect.Effect<ContainerWaitResult, SysError> =>
  Effect.suspend(function loop(): Effect.Effect<ContainerWaitResult, SysError> {
    if (c.dead) return finish(t, { status: c.exitCode, rusage: { utime: c.rusage.utime, stime: c.rusage.stime } })
    if (nohang) return finish(t, { status: undefined, rusage: { utime: 0, stime: 0 } })
    if (signalPending(t)) return interrupted(t, loop)
    return Effect.flatMap(
      t.kernel.sleepOn(t, "child", c.waitQueue, () => c.dead),
      () => (signalPending(t) ? interrupted(t, loop) : loop())
    )
  })

/** A signal came while sleeping: a handler that ran ends the call with EINTR; otherwise sleep again. */
const interrupted = <A>(t: Task, again: () => Effect.Effect<A, SysError>): Effect.Effect<A, SysError> =>
  Effect.flatMap(getSignal(t), (d) => (d.handled > 0 ? Effect.fail(sysError("EINTR", "container_wait")) : again()))

/** container_kill()'s delivery, after the fd checks. */
const containerKill = (task: Task, c: Container, initonly: boolean, sig: number): number | SysError =>
  killTargets(task, initonly ? (c.init !== undefined && !c.dead ? [c.init] : []) : [...c.members], sig)

const killTargets = (task: Task, targets: ReadonlyArray<Task>, sig: number): number | SysError => {
  if (!validSignal(sig)) return sysError("EINVAL", "container_kill", "invalid signal")
  let last: SysError = sysError("ESRCH", "container_kill")
  let sent = false
  const seen = new Set<object>()
  for (const t of targets) {
    if (t.exitState.tag !== "running" || seen.has(t.signal)) continue
    seen.add(t.signal)
    const err = groupSendSigInfo(sig, task, t, "tgid", "container_kill")
    if (err === undefined) sent = true
    else last = err
  }
  return sent ? 0 : last
}
