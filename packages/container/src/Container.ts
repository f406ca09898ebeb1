import type { Cred } from "@simkernel/cred"
import { type LiveObjects, Refcounted, WaitQueue } from "@simkernel/kref"
import type { NsProxy } from "@simkernel/nsproxy"
import type { PidNamespace, Task } from "@simkernel/sched"
import type { Path } from "@simkernel/vfs"

/** include/linux/container.h: init has been started (the first task forked in). */
export const CONTAINER_FLAG_INIT_STARTED = 1 << 0
/** The container is dead: its init exited, or (without a PID namespace) its last member. */
export const CONTAINER_FLAG_DEAD = 1 << 1
/** SIGKILL every member when the last fd to the container is closed. */
export const CONTAINER_FLAG_KILL_ON_CLOSE = 1 << 2

/** struct container.name[24]: at most 23 bytes and the NUL. */
export const CONTAINER_NAME_SIZE = 24

/** What the container's members have used, summed as each exits (for container_wait's rusage). */
export interface ContainerRusage {
  utime: number
  stime: number
}

/**
 * The container kernel object of Howells' series (include/linux/container.h
 * struct container), built from ordinary namespaces: a name, a u64 id, the
 * owner's credentials, an NsProxy of normal namespaces, a root path, a PID
 * namespace, its init and members, its exit code, a parent and children.
 *
 * References held *by* a container: its Cred, NsProxy, PID namespace, the
 * root's mount, and its parent container. References held *on* a container:
 * each container fd (one per open file description), each member task,
 * each child container, each notification fd, each fs context it was given
 * to, and the subsystem's on `.init`. The parent's `children` set is not a
 * reference (a child leaves it when freed), as Linux's list is not.
 */
export class Container extends Refcounted {
  readonly kind = "Container"
  readonly name: string
  /** From a global counter: `.init` is 1. */
  readonly id: bigint
  /** The owner credentials members are forked with. */
  readonly cred: Cred
  /** The namespaces members get; its mnt slot is empty for NEW_EMPTY_FS_NS until a root is moved in. */
  readonly nsproxy: NsProxy
  /** The root members start in (mount pinned); undefined for NEW_EMPTY_FS_NS until move_mount sets one. */
  root: Path | undefined
  /** The new nsproxy's pid_ns_for_children: where members' PIDs are allocated. */
  readonly pidNs: PidNamespace
  /** The first task forked in, in a container with its own PID namespace; undefined otherwise. */
  init: Task | undefined = undefined
  /** Tasks in the container (each holds a reference on it). */
  readonly members = new Set<Task>()
  /** The wait status the container died with (init's, or the last member's without a PID namespace). */
  exitCode = 0
  readonly parent: Container | undefined
  readonly children = new Set<Container>()
  /** CONTAINER_FLAG_* bits. */
  flags: number
  /** The creation flags (CONTAINER_NEW_* ...), as container_alloc saw them. */
  readonly createFlags: number
  /** Woken when the container dies (container_wait, poll). */
  readonly waitQueue = new WaitQueue()
  readonly rusage: ContainerRusage = { utime: 0, stime: 0 }
  /** The supervisor listening on this container's notification fd, if any (not a reference: it clears itself). */
  supervisor: { hangup(): void } | undefined = undefined
  /** The owner's uid in the initial user namespace (the LSM's ContainerSubject). */
  readonly ownerUid: number
  /** Hook set by the subsystem: called once after destroy, for container_free and the parent's list. */
  private readonly onFree: (c: Container) => void

  /** Takes over the references on `cred`, `nsproxy`, `pidNs`, the root's mount and `parent`. */
  constructor(init: {
    registry: LiveObjects
    name: string
    id: bigint
    cred: Cred
    nsproxy: NsProxy
    root: Path | undefined
    pidNs: PidNamespace
    parent: Container | undefined
    flags: number
    createFlags: number
    onFree: (c: Container) => void
  }) {
    super(init.registry, `container ${init.name}`)
    this.name = init.name
    this.id = init.id
    this.cred = init.cred
    this.nsproxy = init.nsproxy
    this.root = init.root
    this.pidNs = init.pidNs
    this.parent = init.parent
    this.flags = init.flags
    this.createFlags = init.createFlags
    this.ownerUid = init.cred.uid
    this.onFree = init.onFree
  }

  get dead(): boolean {
    return (this.flags & CONTAINER_FLAG_DEAD) !== 0
  }

  /** Has a task been forked in yet? */
  get initStarted(): boolean {
    return (this.flags & CONTAINER_FLAG_INIT_STARTED) !== 0
  }

  /** put_container()'s release: security_container_free, unlink from the parent, then what it holds. */
  protected override destroy(): void {
    this.onFree(this)
    const root = this.root
    this.root = undefined
    root?.mnt.put()
    this.pidNs.put()
    this.nsproxy.put()
    this.cred.put()
    this.parent?.put()
  }
}
