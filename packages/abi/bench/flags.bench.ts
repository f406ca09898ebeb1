import { defineBench } from "@simkernel/bench"
import { formatFlags, MOVE_MOUNT_F_EMPTY_PATH, parseFlags, sysError } from "@simkernel/abi"

export default defineBench("abi", (b) => {
  const map = new Map([["k", 1]])
  let sink = 0
  const lookup = (k: string): number => map.get(k) ?? 0
  b.anchor("plain function + Map.get", (n) => {
    for (let i = 0; i < n; i++) sink += lookup("k")
  })
  b.bench("formatFlags(move_mount, F_EMPTY_PATH|0x4000)", (n) => {
    for (let i = 0; i < n; i++) sink += formatFlags("move_mount", MOVE_MOUNT_F_EMPTY_PATH + 0x4000).length
  })
  b.bench('parseFlags("MS_BIND|MS_REC|0x10")', (n) => {
    for (let i = 0; i < n; i++) sink += parseFlags("MS_BIND|MS_REC|0x10") ?? 0
  })
  b.bench("sysError(EINVAL) (an error path)", (n) => {
    for (let i = 0; i < n; i++) sink += sysError("EINVAL", "fsconfig").code
  })
  if (sink === -1) console.log(sink)
})
