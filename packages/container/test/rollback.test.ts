import { describe, expect, it } from "@effect/vitest"
import {
  CONTAINER_NEW_CGROUP_NS,
  CONTAINER_NEW_FS_NS,
  CONTAINER_NEW_IPC_NS,
  CONTAINER_NEW_NET_NS,
  CONTAINER_NEW_PID_NS,
  CONTAINER_NEW_USER_NS,
  CONTAINER_NEW_UTS_NS,
  F_DUPFD
} from "@simkernel/abi"
import { Effect } from "effect"
import { errnoOf, runWith } from "./fixtures.js"

const ALL =
  CONTAINER_NEW_USER_NS | CONTAINER_NEW_FS_NS | CONTAINER_NEW_UTS_NS | CONTAINER_NEW_IPC_NS | CONTAINER_NEW_PID_NS | CONTAINER_NEW_CGROUP_NS | CONTAINER_NEW_NET_NS

describe("container_create gives back everything when a step fails", () => {
  it.effect("each of the seven nsfs inode numbers failing in turn: ENOSPC, and nothing is left behind", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ kernel, containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const inums = kernel.initUserNs.inums
          const alloc = inums.alloc.bind(inums)
          for (let n = 1; n <= 8; n++) {
            let calls = 0
            inums.alloc = () => (++calls === n ? undefined : alloc())
            const before = kernel.live.countsByKind()
            const inUse = inums.inUse()
            const counts = [t.nsproxy!.uts.count(), t.nsproxy!.mnt!.count(), t.cred.count(), containers.initContainer.count(), t.cred.userNs.count()]
            const r = yield* errnoOf(containers.create(t, `try${n}`, ALL))
            inums.alloc = alloc
            if (r === "ok") {
              seen.push([n, r, calls])
              continue
            }
            const after = [t.nsproxy!.uts.count(), t.nsproxy!.mnt!.count(), t.cred.count(), containers.initContainer.count(), t.cred.userNs.count()]
            seen.push([
              n,
              r,
              calls,
              JSON.stringify(kernel.live.countsByKind()) === JSON.stringify(before),
              inums.inUse() === inUse,
              JSON.stringify(after) === JSON.stringify(counts),
              containers.initContainer.children.size
            ])
          }
          return 0
        })
      )
      expect(seen).toEqual([
        [1, "ENOSPC", 1, true, true, true, 0],
        [2, "ENOSPC", 2, true, true, true, 0],
        [3, "ENOSPC", 3, true, true, true, 0],
        [4, "ENOSPC", 4, true, true, true, 0],
        [5, "ENOSPC", 5, true, true, true, 0],
        [6, "ENOSPC", 6, true, true, true, 0],
        [7, "ENOSPC", 7, true, true, true, 0],
        [8, "ok", 7]
      ])
    }))

  it.effect("a full descriptor table (EMFILE) frees the container it had made", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      yield* runWith(({ kernel, containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const [r] = yield* p.pipe()
          // the first anonymous-inode file mounts anon_inodefs for good: do that before counting
          yield* p.close(yield* containers.create(t, "warm", 0))
          const files = p.vfs.files
          while (typeof files.fcntl(r, F_DUPFD, 0) === "number");
          const before = JSON.stringify(kernel.live.countsByKind())
          seen.push(yield* errnoOf(containers.create(t, "full", CONTAINER_NEW_UTS_NS | CONTAINER_NEW_PID_NS)))
          seen.push(JSON.stringify(kernel.live.countsByKind()) === before, containers.initContainer.children.size)
          return 0
        })
      )
      expect(seen).toEqual(["EMFILE", true, 0])
    }))
})
