import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { isSysError, SysError, sysError, sysFail } from "../src/index.js"

describe("SysError", () => {
  it("carries errno, syscall and detail, with the number and a readable message", () => {
    const e = sysError("EINVAL", "mount", "propagation flag with MS_NOSUID")
    expect(e._tag).toBe("SysError")
    expect(e.errno).toBe("EINVAL")
    expect(e.code).toBe(22)
    expect(e.syscall).toBe("mount")
    expect(e.detail).toBe("propagation flag with MS_NOSUID")
    expect(e.message).toBe("EINVAL (Invalid argument): propagation flag with MS_NOSUID")
    expect(e).toBeInstanceOf(Error)
    expect(e).toBeInstanceOf(SysError)
  })

  it("leaves out the detail when there is none", () => {
    const e = sysError("ENOENT")
    expect(e.syscall).toBeUndefined()
    expect(e.detail).toBeUndefined()
    expect(e.message).toBe("ENOENT (No such file or directory)")
    expect(String(e)).toBe("SysError: ENOENT (No such file or directory)")
  })

  it("stores the canonical name for an alias", () => {
    const e = sysError("EWOULDBLOCK", "read")
    expect(e.errno).toBe("EAGAIN")
    expect(e.code).toBe(11)
    expect(e.message).toBe("EAGAIN (Resource temporarily unavailable)")
  })

  it("can be built with new", () => {
    const e = new SysError({ errno: "EBUSY", syscall: "umount2", detail: undefined })
    expect(e.code).toBe(16)
    expect(e.message).toBe("EBUSY (Device or resource busy)")
  })

  it.effect("fails an Effect and is caught by tag", () =>
    Effect.gen(function*() {
      const caught = yield* sysFail("EPERM", "unshare").pipe(
        Effect.catchTag("SysError", (e) => Effect.succeed(`${e.syscall}: -${e.code}`))
      )
      expect(caught).toBe("unshare: -1")
    }))

  it.effect("is yieldable and shows up in the failure channel", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.gen(function*() {
          return yield* sysError("ELOOP", "move_mount")
        })
      )
      expect(Exit.isFailure(exit)).toBe(true)
      const err = yield* Effect.flip(sysFail("EXDEV", "rename"))
      expect(isSysError(err)).toBe(true)
      expect(err.errno).toBe("EXDEV")
    }))

  it("is recognised by isSysError only for SysErrors", () => {
    expect(isSysError(sysError("EIO"))).toBe(true)
    expect(isSysError(new Error("EIO"))).toBe(false)
    expect(isSysError({ _tag: "Other" })).toBe(false)
    expect(isSysError(undefined)).toBe(false)
  })
})
