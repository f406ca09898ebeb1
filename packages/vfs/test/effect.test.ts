import { AT_FDCWD, O_CREAT, O_RDONLY, O_WRONLY } from "@simkernel/abi"
import { VfsEffect } from "@simkernel/vfs"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { enc, makeWorld, useWorlds } from "./helpers.js"

useWorlds()

describe("VfsEffect", () => {
  it.effect("runs the synchronous core as Effects and fails with SysError", () =>
    Effect.gen(function* () {
      const t = makeWorld().task
      yield* VfsEffect.mkdirat(t, AT_FDCWD, "/d", 0o755)
      const fd = yield* VfsEffect.openat(t, AT_FDCWD, "/d/f", O_CREAT | O_WRONLY, 0o644)
      expect(yield* VfsEffect.write(t, fd, enc("abc"))).toBe(3)
      yield* VfsEffect.close(t, fd)
      const st = yield* VfsEffect.fstatat(t, AT_FDCWD, "/d/f", 0)
      expect(st.size).toBe(3)
      const err = yield* Effect.flip(VfsEffect.openat(t, AT_FDCWD, "/nope", O_RDONLY, 0))
      expect(err.errno).toBe("ENOENT")
      const busy = yield* Effect.flip(VfsEffect.mkdirat(t, AT_FDCWD, "/d", 0o755))
      expect(busy._tag).toBe("SysError")
    })
  )
})
