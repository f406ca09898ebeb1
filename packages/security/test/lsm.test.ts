import { describe, expect, it } from "@effect/vitest"
import { sysError, type SysError } from "@simkernel/abi"
import { type ContainerSubject, containerPolicy, type ContainerHooks, LsmRegistry } from "../src/index.js"

type Hooks = {
  readonly sb_mount: (fstype: string) => SysError | undefined
  readonly task_free: (pid: number) => undefined
}

describe("LsmRegistry", () => {
  it("asks modules in registration order and stops at the first refusal", () => {
    const asked: Array<string> = []
    const lsm = new LsmRegistry<Hooks>()
    lsm.register({ name: "capability", hooks: { sb_mount: () => (asked.push("capability"), undefined) } })
    lsm.register({ name: "yama", hooks: {} })
    lsm.register({ name: "nomqueue", hooks: { sb_mount: (fs) => (asked.push("nomqueue"), fs === "mqueue" ? sysError("EPERM") : undefined) } })
    lsm.register({ name: "late", hooks: { sb_mount: () => (asked.push("late"), sysError("EACCES")) } })
    expect(lsm.lsm).toBe("capability,yama,nomqueue,late")
    expect(lsm.callInt("sb_mount", "mqueue")?.errno).toBe("EPERM")
    expect(asked).toEqual(["capability", "nomqueue"])
    asked.length = 0
    expect(lsm.callInt("sb_mount", "tmpfs")?.errno).toBe("EACCES")
    expect(asked).toEqual(["capability", "nomqueue", "late"])
  })

  it("allows what no module refuses, calls every module of a void hook, and refuses a second module of one name", () => {
    const lsm = new LsmRegistry<Hooks>()
    expect(lsm.callInt("sb_mount", "tmpfs")).toBeUndefined()
    const freed: Array<number> = []
    lsm.register({ name: "a", hooks: { task_free: (pid) => (freed.push(pid), undefined) } })
    lsm.register({ name: "b", hooks: { task_free: (pid) => (freed.push(-pid), undefined) } })
    lsm.callVoid("task_free", 7)
    expect(freed).toEqual([7, -7])
    expect(lsm.has("sb_mount")).toBe(false)
    expect(lsm.register({ name: "a", hooks: {} })?.errno).toBe("EEXIST")
  })
})

describe("the sample container policy", () => {
  const c = (name: string, ownerUid = 1000): ContainerSubject => ({ name, ownerUid })

  it("refuses names outside its pattern (EACCES), forbidden flags (EPERM) and containers beyond the quota (EDQUOT)", () => {
    const policy = containerPolicy({ names: /[a-z][a-z0-9-]*/, maxPerOwner: 2, forbiddenFlags: 0x20 })
    const lsm = new LsmRegistry<ContainerHooks>()
    lsm.register(policy)
    expect(lsm.callInt("container_alloc", c("Bad Name"), 0)?.errno).toBe("EACCES")
    expect(lsm.callInt("container_alloc", c("userns"), 0x20)?.errno).toBe("EPERM")
    const a = c("a")
    const b = c("b")
    expect(lsm.callInt("container_alloc", a, 0)).toBeUndefined()
    expect(lsm.callInt("container_alloc", b, 0)).toBeUndefined()
    expect(lsm.callInt("container_alloc", c("third"), 0)?.errno).toBe("EDQUOT")
    expect(lsm.callInt("container_alloc", c("other-user", 2000), 0)).toBeUndefined()
    lsm.callVoid("container_free", a)
    expect(policy.live(1000)).toBe(1)
    expect(lsm.callInt("container_alloc", c("again"), 0)).toBeUndefined()
  })

  it("does not count a container another module refused, though container_free follows", () => {
    const policy = containerPolicy({ maxPerOwner: 1 })
    const lsm = new LsmRegistry<ContainerHooks>()
    lsm.register(policy)
    lsm.register({ name: "deny-all", hooks: { container_alloc: () => sysError("EPERM") } })
    const x = c("x")
    expect(lsm.callInt("container_alloc", x, 0)?.errno).toBe("EPERM")
    expect(policy.live(1000)).toBe(1)
    lsm.callVoid("container_free", x)
    expect(policy.live(1000)).toBe(0)
    const y = c("y")
    lsm.callVoid("container_free", y)
    expect(policy.live(1000)).toBe(0)
  })
})
