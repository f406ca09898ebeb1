import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import fc from "fast-check"
import {
  assertNoLeaks,
  borrow,
  LeakError,
  LiveObjects,
  Refcounted,
  RefcountDefect,
  withRollback,
  withRollbackSync
} from "../src/index.js"

const events: Array<string> = []

class Node extends Refcounted {
  readonly kind = "Node"
  constructor(
    readonly name: string,
    children: ReadonlyArray<Node> = [],
    registry?: LiveObjects
  ) {
    super(registry, name)
    for (const c of children) this.hold(c.get())
  }
  protected override destroy(): void {
    events.push(`destroy ${this.name}`)
  }
}

afterEach(() => {
  events.length = 0
  assertNoLeaks()
})

describe("Refcounted", () => {
  it("is born with one reference and freed by the last put", () => {
    const n = new Node("a")
    expect(n.count()).toBe(1)
    expect(n.get()).toBe(n)
    expect(n.count()).toBe(2)
    expect(n.put()).toBe(false)
    expect(events).toEqual([])
    expect(n.put()).toBe(true)
    expect(events).toEqual(["destroy a"])
    expect(n.freed).toBe(true)
  })

  it("a put below zero and a get after free are defects", () => {
    const n = new Node("b")
    n.put()
    expect(() => n.put()).toThrow(RefcountDefect)
    expect(() => n.get()).toThrow("get on freed Node#")
    expect(n.tryGet()).toBe(false)
  })

  it("tryGet succeeds while live", () => {
    const n = new Node("c")
    expect(n.tryGet()).toBe(true)
    expect(n.count()).toBe(2)
    n.put()
    n.put()
  })

  it("releases what it holds in reverse order of acquisition, after its own teardown", () => {
    const a = new Node("a")
    const b = new Node("b")
    const c = new Node("c")
    const parent = new Node("parent", [a, b, c])
    a.put()
    b.put()
    c.put()
    expect(events).toEqual([])
    parent.put()
    expect(events).toEqual(["destroy parent", "destroy c", "destroy b", "destroy a"])
  })

  it("a child still referenced elsewhere survives its parent", () => {
    const child = new Node("child")
    const parent = new Node("parent", [child])
    parent.put()
    expect(child.count()).toBe(1)
    expect(events).toEqual(["destroy parent"])
    child.put()
  })
})

describe("LiveObjects", () => {
  it("reports each survivor with kind, serial, refs and origin", () => {
    const registry = new LiveObjects()
    const n = new Node("leaky", [], registry)
    n.get()
    expect(registry.size()).toBe(1)
    expect(registry.size("Node")).toBe(1)
    expect(registry.countsByKind()).toEqual([["Node", 1]])
    expect(registry.report()).toBe(`leak audit: 1 live object\n  Node#${n.serial} refs=2 made at leaky`)
    expect(() => assertNoLeaks(registry)).toThrow(LeakError)
    expect(registry.size()).toBe(0)
    expect(registry.report()).toBe("leak audit: 0 live objects")
  })

  it("captures a stack as origin when asked", () => {
    const registry = new LiveObjects()
    registry.captureOrigins = true
    const n = new Node("traced", [], registry)
    expect(n.origin).toMatch(/^traced\n/)
    expect(n.origin).toContain("kref.test.ts")
    n.put()
    assertNoLeaks(registry)
  })
})

describe("rollback", () => {
  it("undoes registered steps newest first when the body throws", () => {
    const undone: Array<number> = []
    const n = new Node("r")
    expect(() =>
      withRollbackSync((rb) => {
        rb.add(() => undone.push(1))
        rb.own(n.get())
        rb.add(() => undone.push(3))
        throw new Error("step 4 failed")
      })
    ).toThrow("step 4 failed")
    expect(undone).toEqual([3, 1])
    expect(n.count()).toBe(1)
    n.put()
  })

  it("keeps everything on success", () => {
    const undone: Array<number> = []
    const v = withRollbackSync((rb) => {
      rb.add(() => undone.push(1))
      return 42
    })
    expect(v).toBe(42)
    expect(undone).toEqual([])
  })

  it.effect("undoes on an Effect failure and on a defect, never on success", () =>
    Effect.gen(function* () {
      const undone: Array<string> = []
      const failed = yield* Effect.exit(
        withRollback((rb) =>
          Effect.gen(function* () {
            rb.add(() => undone.push("first"))
            rb.add(() => undone.push("second"))
            return yield* Effect.fail("EPERM" as const)
          })
        )
      )
      expect(Exit.isFailure(failed)).toBe(true)
      expect(undone).toEqual(["second", "first"])

      const died = yield* Effect.exit(withRollback((rb) => Effect.sync(() => rb.add(() => undone.push("d")))).pipe(Effect.andThen(Effect.die("oops"))))
      expect(Exit.isFailure(died)).toBe(true)
      expect(undone).toEqual(["second", "first"])

      const died2 = yield* Effect.exit(withRollback((rb) => Effect.sync(() => rb.add(() => undone.push("d"))).pipe(Effect.andThen(Effect.die("oops")))))
      expect(Exit.isFailure(died2)).toBe(true)
      expect(undone).toEqual(["second", "first", "d"])

      const ok = yield* withRollback((rb) => Effect.sync(() => (rb.add(() => undone.push("never")), 7)))
      expect(ok).toBe(7)
      expect(undone).toEqual(["second", "first", "d"])
    })
  )

  it.effect("borrow holds a reference for the scope only", () =>
    Effect.gen(function* () {
      const n = new Node("borrowed")
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* borrow(n)
          expect(n.count()).toBe(2)
        })
      )
      expect(n.count()).toBe(1)
      n.put()
    })
  )
})

describe("properties", () => {
  it("random get/put sequences free exactly once, at the last put", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 200 }), (ops) => {
        const registry = new LiveObjects()
        let destroyed = 0
        class Counted extends Refcounted {
          readonly kind = "Counted"
          protected override destroy(): void {
            destroyed++
          }
        }
        const obj = new Counted(registry)
        let model = 1
        for (const isGet of ops) {
          if (model === 0) {
            expect(() => (isGet ? obj.get() : obj.put())).toThrow(RefcountDefect)
            continue
          }
          if (isGet) {
            obj.get()
            model++
          } else {
            expect(obj.put()).toBe(model === 1)
            model--
          }
          expect(obj.count()).toBe(model)
        }
        while (model > 0) {
          obj.put()
          model--
        }
        expect(destroyed).toBe(1)
        expect(registry.size()).toBe(0)
      })
    )
  })

  it("a tree of objects releases every node once, children in reverse order", () => {
    type Shape = { readonly children: ReadonlyArray<Shape> }
    const { tree } = fc.letrec<{ tree: Shape }>((tie) => ({
      tree: fc.oneof(
        { depthSize: "small", maxDepth: 5 },
        fc.constant<Shape>({ children: [] }),
        fc.record({ children: fc.array(tie("tree"), { maxLength: 3 }) })
      )
    }))
    fc.assert(
      fc.property(tree, (shape) => {
        const registry = new LiveObjects()
        const order: Array<string> = []
        let made = 0
        class T extends Refcounted {
          readonly kind = "T"
          constructor(readonly label: string, kids: ReadonlyArray<T>) {
            super(registry)
            made++
            for (const k of kids) this.hold(k)
          }
          protected override destroy(): void {
            order.push(this.label)
          }
        }
        const build = (s: Shape, label: string): T =>
          new T(label, s.children.map((c, i) => build(c, `${label}.${i}`)))
        // expected order: node first, then its children last-to-first, recursively
        const expected = (s: Shape, label: string): Array<string> => [
          label,
          ...s.children.flatMap((_, i) => expected(s.children[s.children.length - 1 - i]!, `${label}.${s.children.length - 1 - i}`))
        ]
        build(shape, "r").put()
        expect(order).toEqual(expected(shape, "r"))
        expect(order.length).toBe(made)
        expect(new Set(order).size).toBe(made)
        expect(registry.size()).toBe(0)
      })
    )
  })
})
