import { describe, expect, it } from "@effect/vitest"
import { CONTAINER_NEW_NET_NS, CONTAINER_NEW_USER_NS, CONTAINER_NEW_UTS_NS } from "@simkernel/abi"
import { type ContainerHooks, containerPolicy, LsmRegistry } from "@simkernel/security"
import { Effect } from "effect"
import { PROC_CONTAINERS_HEADER } from "../src/index.js"
import { errnoOf, pauser, runWith } from "./fixtures.js"

describe("/proc/containers", () => {
  it.effect("the reader's container as <current>, then its direct children, ids mapped into the reader's user namespace", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          const foo = yield* containers.create(t, "foo", 0)
          const bar = yield* containers.create(t, "bar", CONTAINER_NEW_USER_NS | CONTAINER_NEW_UTS_NS)
          const [r, w] = yield* p.pipe()
          const m = yield* containers.forkInto(t, foo, (q) =>
            Effect.gen(function* () {
              // a grandchild of .init: shown to foo's members, not to .init's
              yield* containers.create(q.task, "baz", 0)
              seen.push(containers.procContainers(q.task))
              yield* q.write(w, new Uint8Array([1]))
              return yield* pauser(q)
            })
          )
          yield* p.read(r, new Uint8Array(1))
          seen.push(containers.procContainers(t))
          const b = yield* containers.forkInto(t, bar, (q) => Effect.sync(() => (seen.push(containers.procContainers(q.task)), 0)))
          yield* p.wait4(b)
          yield* p.kill(m, 9)
          yield* p.wait4(m)
          return 0
        })
      )
      expect(seen).toEqual([
        `${PROC_CONTAINERS_HEADER}\n<current>                           2   3 01     0     0\nbaz                                 4   1 00     0     0\n`,
        `${PROC_CONTAINERS_HEADER}\n<current>                           1   4 01     0     0\nfoo                                 2   3 01     0     0\nbar                                 3   1 00     0     0\n`,
        // bar's members live in its user namespace, where the owner (uid 0 outside) has no mapping yet
        `${PROC_CONTAINERS_HEADER}\n<current>                           3   2 01 65534 65534\n`
      ])
      expect(PROC_CONTAINERS_HEADER).toBe("NAME                               ID USE FL OWNER GROUP")
    }))
})

describe("the container_alloc and container_free LSM hooks", () => {
  it.effect("container_alloc may refuse with its errno, undoing everything; container_free is called for every container", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      const lsm = new LsmRegistry<ContainerHooks>()
      const policy = containerPolicy({ names: /ok.*/, maxPerOwner: 2, forbiddenFlags: CONTAINER_NEW_NET_NS })
      lsm.register(policy)
      const freed: Array<string> = []
      lsm.register({ name: "watcher", hooks: { container_free: (c) => (freed.push(c.name), undefined) } })
      yield* runWith(({ containers }) => (p) =>
        Effect.gen(function* () {
          const t = p.task
          seen.push(yield* errnoOf(containers.create(t, "bad", 0)))
          seen.push(yield* errnoOf(containers.create(t, "ok-net", CONTAINER_NEW_NET_NS | CONTAINER_NEW_UTS_NS | CONTAINER_NEW_USER_NS)))
          const a = yield* containers.create(t, "ok1", 0)
          yield* containers.create(t, "ok2", CONTAINER_NEW_UTS_NS)
          seen.push(yield* errnoOf(containers.create(t, "ok3", 0)), policy.live(0))
          yield* p.close(a)
          seen.push(policy.live(0), yield* errnoOf(containers.create(t, "ok3", 0)), [...containers.initContainer.children].map((c) => c.name))
          return 0
        }), { lsm }
      )
      seen.push(policy.live(0), freed)
      expect(seen).toEqual(["EACCES", "EPERM", "EDQUOT", 2, 1, "ok", ["ok2", "ok3"], 0, ["bad", "ok-net", "ok3", "ok1", "ok2", "ok3", ".init"]])
    }))
})
