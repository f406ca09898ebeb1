import { describe, expect, it } from "vitest"
import { WaitQueue, WouldBlock } from "../src/index.js"

describe("WaitQueue", () => {
  it("wakeUp runs each waiter present with the events; the function add returns takes a waiter out", () => {
    const wq = new WaitQueue()
    const seen: Array<string> = []
    const removeA = wq.add((ev) => seen.push(`a${ev}`))
    wq.add((ev) => seen.push(`b${ev}`))
    wq.wakeUp(1)
    removeA()
    wq.wakeUp(4)
    expect(seen).toEqual(["a1", "b1", "b4"])
    expect(wq.size).toBe(1)
  })

  it("a waiter may take itself out while being woken", () => {
    const wq = new WaitQueue()
    let calls = 0
    const remove = wq.add(() => {
      calls++
      remove()
    })
    wq.wakeUp(1)
    wq.wakeUp(1)
    expect(calls).toBe(1)
    expect(wq.size).toBe(0)
  })

  it("WouldBlock carries the queue, the readiness test and the bytes already moved", () => {
    const wq = new WaitQueue()
    const wb = new WouldBlock(wq, () => true, 512)
    expect([wb.wq, wb.ready(), wb.done]).toEqual([wq, true, 512])
    expect(new WouldBlock(wq, () => false).done).toBe(0)
  })
})
