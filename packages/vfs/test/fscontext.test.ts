import { AT_FDCWD, O_CREAT, O_WRONLY } from "@simkernel/abi"
import {
  close,
  doNewMountFc,
  openat,
  write,
  filenameLookup,
  FsContext,
  fsContextForReconfigure,
  LOOKUP_FOLLOW,
  MNT_RELATIME,
  mkdirat,
  reconfigureSuper,
  SB_RDONLY,
  SB_SYNCHRONOUS,
  vfsGetTree,
  vfsParseFsParam,
  vfsParseFsString
} from "@simkernel/vfs"
import { describe, expect, it } from "@effect/vitest"
import { errnoOf, makeWorld, ok, table, useWorlds } from "./helpers.js"

useWorlds()

describe("FsContext (the pieces fsopen/fsconfig/fsmount drive)", () => {
  it("parses generic flags of any value type, source once, and the type's keys; logs what it rejects", () => {
    const w = makeWorld()
    const fc = new FsContext(w.vfs, w.vfs.getFsType("tmpfs")!, "mount", w.task.cred, w.task.cred.userNs, 0, 0)
    expect(fc.phase).toBe("create-params")
    ok(vfsParseFsParam(fc, { key: "sync", type: "string", string: "false" }))
    expect(fc.sbFlags & SB_SYNCHRONOUS).toBe(SB_SYNCHRONOUS)
    expect(errnoOf(vfsParseFsParam(fc, { key: "source", type: "flag" }))).toBe("EINVAL")
    ok(vfsParseFsString(fc, "source", "src"))
    expect(errnoOf(vfsParseFsString(fc, "source", "again"))).toBe("EINVAL")
    expect(errnoOf(vfsParseFsString(fc, "size", "lots"))).toBe("EINVAL")
    expect(errnoOf(vfsParseFsString(fc, "nosuchkey", undefined))).toBe("EINVAL")
    ok(vfsParseFsString(fc, "size", "64k"))
    expect(fc.log).toEqual([
      "e Non-string source",
      "e Multiple sources",
      "e tmpfs: Bad value for 'size'",
      "e tmpfs: Unknown parameter 'nosuchkey'"
    ])
    ok(vfsGetTree(fc))
    expect(fc.phase).toBe("awaiting-mount")
    expect(errnoOf(vfsGetTree(fc))).toBe("EBUSY")
    ok(mkdirat(w.task, AT_FDCWD, "/m", 0o755))
    const where = ok(filenameLookup(w.task, AT_FDCWD, "/m", LOOKUP_FOLLOW))
    ok(doNewMountFc(w.task, fc, where.path(), MNT_RELATIME))
    fc.put()
    expect(table(w)[1]).toMatchObject({ mountpoint: "/m", source: "src", super: "rw,sync,size=64k" })
  })

  it("reconfigures a live superblock: ro turns the superblock read-only; shrinking below use fails and poisons", () => {
    const w = makeWorld()
    const sb = w.root.mnt.sb
    const rc = fsContextForReconfigure(w.task, sb, 0, 0)
    expect(rc.phase).toBe("reconf-params")
    ok(vfsParseFsString(rc, "ro", undefined))
    ok(reconfigureSuper(rc))
    expect(rc.phase).toBe("awaiting-reconf")
    expect(sb.flags & SB_RDONLY).toBe(SB_RDONLY)
    expect(table(w)[0]).toMatchObject({ options: "rw,relatime", super: "ro,mode=755" })
    rc.put()
    const rw = fsContextForReconfigure(w.task, sb, 0, 0)
    ok(vfsParseFsString(rw, "rw", undefined))
    ok(reconfigureSuper(rw))
    rw.put()
    const fd = ok(openat(w.task, AT_FDCWD, "/big", O_CREAT | O_WRONLY, 0o644))
    expect(write(w.task, fd, new Uint8Array(3 * 4096))).toBe(3 * 4096)
    close(w.task, fd)
    const shrink = fsContextForReconfigure(w.task, sb, 0, 0)
    ok(vfsParseFsString(shrink, "size", "8k"))
    expect(errnoOf(reconfigureSuper(shrink))).toBe("EINVAL")
    expect(shrink.phase).toBe("failed")
    expect(shrink.log).toEqual(["e tmpfs: Too small a size for current use"])
    shrink.put()
  })
})
