import { defineBench } from "@simkernel/bench"
import { AT_FDCWD, S_IFREG } from "@simkernel/abi"
import { createScenarioWorld, doMount, mkdirat, mknodat } from "@simkernel/vfs"

/**
 * A suite of its own: the runner keeps the previous memory case's result
 * alive until the next one has measured its baseline, which would hide
 * this case's size behind the freeing of the 100,000 mounts.
 */
export default defineBench("vfs-files", (b) => {
  b.memory(
    "1,000,000 files in a tmpfs",
    () => {
      const w = createScenarioWorld()
      const t = w.task
      mkdirat(t, AT_FDCWD, "/t", 0o755)
      doMount(t, "t", "/t", "tmpfs", 0, "nr_inodes=0")
      for (let d = 0; d < 1000; d++) {
        mkdirat(t, AT_FDCWD, `/t/${d}`, 0o755)
        for (let f = 0; f < 1000; f++) {
          if (mknodat(t, AT_FDCWD, `/t/${d}/${f}`, S_IFREG | 0o644, 0) !== undefined) throw new Error("mknod failed")
        }
      }
      return w
    },
    { targetBytes: 1024 * 1024 * 1024 }
  )
})
