import { describe, expect, it } from "@effect/vitest"
import { canonical, checkResults } from "../src/conformance/check.js"
import type { ResultsFile } from "../src/conformance/format.js"
import { normaliseMountinfo, parseMountinfo } from "../src/conformance/mountinfo.js"

// mountinfo as Linux 6.18 printed it inside a scenario (ids from the real kernel)
const MOUNTINFO = [
  "1186 1184 0:62 / / rw,relatime - tmpfs none rw,mode=755",
  "1190 1186 0:64 / /b rw,relatime shared:517 - tmpfs src2 rw",
  "1187 1186 0:63 / /a rw,relatime shared:516 - tmpfs src rw,size=1024k",
  "1191 1187 0:63 /sub /a/x rw,nosuid,relatime master:516 - tmpfs src rw,size=1024k",
  "1192 1191 0:65 / /a/x rw,relatime - ramfs none rw,mode=700",
  "1193 1186 0:63 / /a rw,relatime shared:516 master:518 propagate_from:519 - tmpfs src rw,size=1024k",
  ""
].join("\n")

describe("normalised mount table", () => {
  it("orders depth-first by mount point, stacks as children, and relabels superblocks and peer groups", () => {
    const table = normaliseMountinfo(parseMountinfo(MOUNTINFO))
    expect(table.map((m) => [m.id, m.parent, m.mountpoint, m.root, m.sb, m.propagation])).toEqual([
      ["m0", null, "/", "/", "sb0", "private"],
      ["m1", "m0", "/a", "/", "sb1", "shared:g1"],
      ["m2", "m1", "/a/x", "/sub", "sb1", "master:g1"],
      ["m3", "m2", "/a/x", "/", "sb2", "private"],
      ["m4", "m0", "/a", "/", "sb1", "shared:g1 master:g2 propagate_from:g3"],
      ["m5", "m0", "/b", "/", "sb3", "shared:g4"]
    ])
    expect(table[0]).toEqual({
      id: "m0",
      parent: null,
      mountpoint: "/",
      root: "/",
      fstype: "tmpfs",
      source: "none",
      options: "rw,relatime",
      super: "rw,mode=755",
      sb: "sb0",
      propagation: "private"
    })
    expect(table[3]!.super).toBe("rw,mode=700")
  })
})

const result = (ret: unknown): ResultsFile => ({
  meta: { arch: "x86_64", format: 1, kernel: "6.18.44", scenario_count: 1 },
  scenarios: {
    s: {
      steps: [{ call: "fsopen", ret: "fd" }, { call: "fsmount", ret } as never],
      mounts: [],
      tree: { "/": "d 0755" }
    }
  }
})

describe("checking results", () => {
  it("passes equal results whatever their key order", () => {
    expect(canonical({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe(canonical({ a: [1, { c: 3, d: 2 }], b: 1 }))
    expect(checkResults(result("fd"), result("fd")).text).toBe("1 passed, 0 failed")
  })

  it("names the step, the expected and the actual result of a mismatch", () => {
    const got = result("fd")
    const exp = { ...result("fd"), scenarios: { s: { ...result("fd").scenarios.s!, steps: [{ call: "fsopen", ret: "fd" }, { call: "fsmount", errno: "EINVAL" }] } } }
    const report = checkResults(exp as ResultsFile, got)
    expect(report.failed).toBe(1)
    expect(report.text.split("\n")).toEqual([
      "FAIL s",
      '  step 1 (fsmount): expected {"call":"fsmount","errno":"EINVAL"}, got {"call":"fsmount","ret":"fd"}',
      "0 passed, 1 failed"
    ])
  })
})
