import { describe, expect, it } from "@effect/vitest"
import { loadExpected, loadScenarios, runScenario, SUPPORTED, VFS_EXPECTED, VFS_SCENARIOS } from "./conformance.js"

const scenarios = loadScenarios()
const expected = loadExpected()
const runnable = scenarios.filter((s) => s.steps.every((st) => SUPPORTED.has(st.call)))

describe("conformance scenarios recorded on Linux 6.18", () => {
  it("covers every scenario made only of this package's calls", () => {
    expect(runnable.map((s) => s.name).sort()).toEqual(
      [
        "bind_private",
        "bind_remount_readonly",
        "bind_shared_peers",
        "bind_slave",
        "bind_slave_and_shared",
        "mkdirat_dirfd_rules",
        "openat_rules",
        "umount2_cwd_inside_then_detach",
        "umount2_symlink_nofollow",
        "umount2_with_submounts",
        "unshare_setns_isolation",
        "unshare_shared_propagates_across_namespaces"
      ].sort()
    )
  })
  for (const sc of runnable) {
    it(sc.name, () => {
      const got = runScenario(sc)
      const want = expected[sc.name]!
      expect(got.steps).toEqual(want.steps)
      expect(got.mounts).toEqual(want.mounts)
      expect(got.tree).toEqual(want.tree)
    })
  }
})

describe("this package's differential scenarios (recorded on Linux 6.18 with linux_probe.py)", () => {
  const own = loadExpected(VFS_EXPECTED)
  for (const sc of loadScenarios(VFS_SCENARIOS)) {
    it(sc.name, () => {
      const got = runScenario(sc)
      const want = own[sc.name]!
      expect(got.steps).toEqual(want.steps)
      expect(got.mounts).toEqual(want.mounts)
      expect(got.tree).toEqual(want.tree)
    })
  }
})
