import { sysError, type SysError } from "@simkernel/abi"
import type { SecurityModule } from "./LsmRegistry.js"

/** What the sample policy needs to know about a container being made or freed. */
export interface ContainerSubject {
  readonly name: string
  /** The owner's uid in the initial user namespace. */
  readonly ownerUid: number
}

/** The container hooks of Howells' series: security_container_alloc() may refuse; container_free is a notification. */
export type ContainerHooks = {
  readonly container_alloc: (container: ContainerSubject, flags: number) => SysError | undefined
  readonly container_free: (container: ContainerSubject) => undefined
}

export interface ContainerPolicyOptions {
  /** Names allowed (tested whole); others are refused with EACCES. */
  readonly names?: RegExp
  /** At most this many live containers per owner uid; beyond, EDQUOT (as a quota refuses). */
  readonly maxPerOwner?: number
  /** Flags this policy forbids (e.g. CONTAINER_NEW_USER_NS); asking for one is EPERM. */
  readonly forbiddenFlags?: number
}

/**
 * A sample security module for the container hooks: name rules, a
 * per-owner quota and forbidden flags. It counts the live containers it
 * allowed; as with security_task_alloc(), a caller whose container_alloc
 * was refused by any module still calls container_free.
 */
export const containerPolicy = (options: ContainerPolicyOptions): SecurityModule<ContainerHooks> & { live(uid: number): number } => {
  const live = new Map<number, number>()
  // the containers this module counted: a refusal by a later module still ends in container_free
  const counted = new WeakSet<ContainerSubject>()
  return {
    name: "containerpolicy",
    live: (uid) => live.get(uid) ?? 0,
    hooks: {
      container_alloc: (container, flags) => {
        if (options.names !== undefined && !new RegExp(`^(?:${options.names.source})$`, options.names.flags).test(container.name))
          return sysError("EACCES", "container_create", `containerpolicy: name "${container.name}" is not allowed`)
        if (options.forbiddenFlags !== undefined && (flags & options.forbiddenFlags) !== 0)
          return sysError("EPERM", "container_create", "containerpolicy: flag forbidden")
        const n = live.get(container.ownerUid) ?? 0
        if (options.maxPerOwner !== undefined && n >= options.maxPerOwner)
          return sysError("EDQUOT", "container_create", `containerpolicy: uid ${container.ownerUid} has ${n} containers`)
        live.set(container.ownerUid, n + 1)
        counted.add(container)
        return undefined
      },
      container_free: (container) => {
        if (!counted.delete(container)) return undefined
        const n = (live.get(container.ownerUid) ?? 0) - 1
        if (n > 0) live.set(container.ownerUid, n)
        else live.delete(container.ownerUid)
        return undefined
      }
    }
  }
}
