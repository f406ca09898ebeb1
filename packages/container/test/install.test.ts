import { describe, expect, it } from "@effect/vitest"
import { FSCONFIG_SET_CONTAINER } from "@simkernel/abi"
import { assertNoLeaks, LiveObjects } from "@simkernel/kref"
import type { NamespaceOps } from "@simkernel/nsproxy"
import { Kernel } from "@simkernel/sched"
import { createScenarioWorld, fsconfig, fsopen, mntNamespaceOps } from "@simkernel/vfs"
import { Effect } from "effect"
import { Containers } from "../src/index.js"
import { errnoOfSync } from "./fixtures.js"

describe("installing and removing the subsystem", () => {
  it.effect("install makes .init (id 1) with PID 1 in it and hooks the mount API; shutdown takes both out and frees .init", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      const registry = new LiveObjects()
      const world = createScenarioWorld({ registry })
      const kernel = yield* Kernel.boot({
        initUserNs: world.userNs,
        namespaces: { mnt: [mntNamespaceOps as unknown as NamespaceOps, world.task.mntNs] },
        fs: world.task.fs,
        vfs: world.vfs
      })
      for (const held of [world.task.files, world.task.ipcNs, world.task.cred, world.userNs]) held.put()
      const hooksBefore = kernel.taskHooks.length
      const containers = Containers.install({ kernel })
      const init = containers.initContainer
      seen.push(init.name, init.id, containers.containerOf(kernel.initTask) === init, init.init === kernel.initTask, init.pidNs === kernel.initPidNs)
      seen.push(kernel.taskHooks.length - hooksBefore, world.vfs.mountApiHooks !== undefined)
      yield* kernel.run((p) =>
        Effect.sync(() => {
          const fs = fsopen(p.vfs, "tmpfs", 0) as number
          seen.push(errnoOfSync(fsconfig(p.vfs, fs, FSCONFIG_SET_CONTAINER, null, null, fs)))
          return 0
        })
      )
      yield* kernel.shutdown()
      containers.shutdown()
      containers.shutdown()
      seen.push(kernel.taskHooks.length - hooksBefore, world.vfs.mountApiHooks, init.freed)
      world.vfs.shutdown()
      assertNoLeaks(registry)
      expect(seen).toEqual([".init", 1n, true, true, true, 1, true, "EINVAL", 0, undefined, true])
    }))
})
