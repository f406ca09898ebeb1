import { defineBench } from "@simkernel/bench"
import {
  AT_FDCWD,
  AT_REMOVEDIR,
  FSCONFIG_CMD_CREATE,
  MOVE_MOUNT_F_EMPTY_PATH,
  MS_BIND,
  O_CREAT,
  O_RDONLY,
  O_WRONLY,
  OPEN_TREE_CLONE,
  S_IFREG
} from "@simkernel/abi"
import {
  close,
  copyMntNs,
  createScenarioWorld,
  doMount,
  fsconfig,
  fsmount,
  fsopen,
  fstatat,
  ksysUmount,
  moveMount,
  openTree,
  mkdirat,
  mknodat,
  openat,
  unlinkat,
  type VfsWorld
} from "@simkernel/vfs"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

/** Shared C prelude: a private tmpfs scratch directory when root, /dev/shm otherwise. */
const PRELUDE = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
static char dir[256];
static int mounted;
static void scratch(void) {
  strcpy(dir, "/dev/shm/simkernel-bench-XXXXXX");
  if (!mkdtemp(dir)) { perror("mkdtemp"); exit(1); }
  if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 && mount("bench", dir, "tmpfs", 0, NULL) == 0) mounted = 1;
  if (chdir(dir) != 0) { perror("chdir"); exit(1); }
}
static void done(double ns) {
  if (chdir("/") != 0) exit(1);
  if (mounted) umount2(dir, MNT_DETACH);
  else { char cmd[300]; snprintf(cmd, sizeof cmd, "rm -rf %s", dir); if (system(cmd) != 0) exit(1); }
  rmdir(dir);
  printf("ns_per_op %.1f\\n", ns);
}
#define MEASURE(N, BODY) do { double best = 1e30; for (int r = 0; r < 5; r++) { double t0 = now(); for (long i = 0; i < (N); i++) { BODY; } double ns = (now() - t0) / (N); if (ns < best) best = ns; } done(best); } while (0)
`

const native = (body: string, extra = ""): string => `${PRELUDE}${extra}\nint main(void) {\n  scratch();\n${body}\n  return 0;\n}\n`

/** A world with `/a/b/c/d/e` and a file `f`, cwd "/". */
const fileWorld = (): VfsWorld => {
  const w = createScenarioWorld()
  const t = w.task
  for (const p of ["/a", "/a/b", "/a/b/c", "/a/b/c/d"]) mkdirat(t, AT_FDCWD, p, 0o755)
  mknodat(t, AT_FDCWD, "/a/b/c/d/e", S_IFREG | 0o644, 0)
  mknodat(t, AT_FDCWD, "/f", S_IFREG | 0o644, 0)
  return w
}

let sink = 0

export default defineBench("vfs", (b) => {
  // node:fs on a tmpdir, the same operations
  const tmp = fs.mkdtempSync(path.join(fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "simkernel-vfs-"))
  fs.mkdirSync(path.join(tmp, "a/b/c/d"), { recursive: true })
  fs.writeFileSync(path.join(tmp, "a/b/c/d/e"), "")
  fs.writeFileSync(path.join(tmp, "f"), "")
  process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }))
  b.anchor("node:fs open+close", (n) => {
    const p = path.join(tmp, "f")
    for (let i = 0; i < n; i++) fs.closeSync(fs.openSync(p, "r"))
  })
  b.anchor("node:fs stat 5 components", (n) => {
    const p = path.join(tmp, "a/b/c/d/e")
    for (let i = 0; i < n; i++) sink += fs.statSync(p).size
  })
  b.anchor("node:fs mkdir+rmdir", (n) => {
    const p = path.join(tmp, "d")
    for (let i = 0; i < n; i++) {
      fs.mkdirSync(p)
      fs.rmdirSync(p)
    }
  })
  b.anchor("node:fs create+close+unlink", (n) => {
    const p = path.join(tmp, "g")
    for (let i = 0; i < n; i++) {
      fs.closeSync(fs.openSync(p, "w"))
      fs.unlinkSync(p)
    }
  })

  b.native({
    name: "linux open+close",
    source: native(`  close(open("f", O_CREAT | O_WRONLY, 0644));\n  MEASURE(200000, close(open("f", O_RDONLY)));`)
  })
  b.native({
    name: "linux stat 5 components",
    source: native(`  mkdir("a", 0755); mkdir("a/b", 0755); mkdir("a/b/c", 0755); mkdir("a/b/c/d", 0755);\n  close(open("a/b/c/d/e", O_CREAT | O_WRONLY, 0644));\n  struct stat st;\n  MEASURE(200000, stat("a/b/c/d/e", &st));`)
  })
  b.native({
    name: "linux mkdirat+unlinkat",
    source: native(`  MEASURE(100000, { mkdirat(AT_FDCWD, "d", 0755); unlinkat(AT_FDCWD, "d", AT_REMOVEDIR); });`)
  })
  b.native({
    name: "linux create+close+unlink",
    source: native(`  MEASURE(100000, { close(open("g", O_CREAT | O_WRONLY, 0644)); unlink("g"); });`)
  })
  b.native({
    name: "linux bind mount+umount",
    needsRoot: true,
    source: native(`  mkdir("src", 0755); mkdir("dst", 0755);\n  MEASURE(20000, { if (mount("src", "dst", NULL, MS_BIND, NULL) != 0) { perror("mount"); exit(1); } umount2("dst", 0); });`)
  })
  // The fd-based mount API by raw syscall numbers (x86_64), so no libc wrappers are needed.
  const MOUNT_API = `#include <sys/syscall.h>
#define NR_open_tree 428
#define NR_move_mount 429
#define NR_fsopen 430
#define NR_fsconfig 431
#define NR_fsmount 432
`
  b.native({
    name: "linux fsopen+fsconfig+fsmount+move_mount+umount2",
    needsRoot: true,
    source: native(
      `  mkdir("t", 0755);\n  MEASURE(20000, { int fs = syscall(NR_fsopen, "tmpfs", 0); if (fs < 0) { perror("fsopen"); exit(1); } if (syscall(NR_fsconfig, fs, 6, NULL, NULL, 0) != 0) { perror("fsconfig"); exit(1); } int m = syscall(NR_fsmount, fs, 0, 0); if (m < 0) { perror("fsmount"); exit(1); } if (syscall(NR_move_mount, m, "", AT_FDCWD, "t", 4) != 0) { perror("move_mount"); exit(1); } close(m); close(fs); if (umount2("t", 0) != 0) { perror("umount2"); exit(1); } });`,
      MOUNT_API
    )
  })
  b.native({
    name: "linux open_tree(OPEN_TREE_CLONE)+move_mount+umount2",
    needsRoot: true,
    source: native(
      `  mkdir("src", 0755); mkdir("dst", 0755);\n  MEASURE(20000, { int m = syscall(NR_open_tree, AT_FDCWD, "src", 1); if (m < 0) { perror("open_tree"); exit(1); } if (syscall(NR_move_mount, m, "", AT_FDCWD, "dst", 4) != 0) { perror("move_mount"); exit(1); } close(m); if (umount2("dst", 0) != 0) { perror("umount2"); exit(1); } });`,
      MOUNT_API
    )
  })
  b.native({
    name: "linux unshare(CLONE_NEWNS) with 1000 mounts",
    needsRoot: true,
    source: native(
      `  char p[64];\n  for (int i = 0; i < 1000; i++) { snprintf(p, sizeof p, "m%d", i); mkdir(p, 0755); if (mount("m", p, "tmpfs", 0, NULL) != 0) { perror("mount"); exit(1); } }\n  MEASURE(100, if (unshare(CLONE_NEWNS) != 0) { perror("unshare"); exit(1); });`
    )
  })

  {
    const w = fileWorld()
    const t = w.task
    b.bench(
      "openat+close",
      (n) => {
        for (let i = 0; i < n; i++) close(t, openat(t, AT_FDCWD, "/f", O_RDONLY, 0) as number)
      },
      { vs: "linux open+close", targetRatio: 1.0 }
    )
    b.bench(
      "fstatat 5 components",
      (n) => {
        for (let i = 0; i < n; i++) {
          const st = fstatat(t, AT_FDCWD, "a/b/c/d/e", 0)
          if ("size" in st) sink += st.size
        }
      },
      { vs: "linux stat 5 components", targetRatio: 1.0 }
    )
    b.bench(
      "mkdirat+unlinkat",
      (n) => {
        for (let i = 0; i < n; i++) {
          mkdirat(t, AT_FDCWD, "/d", 0o755)
          unlinkat(t, AT_FDCWD, "/d", AT_REMOVEDIR)
        }
      },
      { vs: "linux mkdirat+unlinkat", targetRatio: 1.0 }
    )
    b.bench(
      "create+close+unlink",
      (n) => {
        for (let i = 0; i < n; i++) {
          close(t, openat(t, AT_FDCWD, "/g", O_CREAT | O_WRONLY, 0o644) as number)
          unlinkat(t, AT_FDCWD, "/g", 0)
        }
      },
      { vs: "linux create+close+unlink", targetRatio: 1.0 }
    )
    mkdirat(t, AT_FDCWD, "/src", 0o755)
    mkdirat(t, AT_FDCWD, "/dst", 0o755)
    b.bench(
      "bind mount+umount",
      (n) => {
        for (let i = 0; i < n; i++) {
          doMount(t, "/src", "/dst", null, MS_BIND, null)
          ksysUmount(t, "/dst", 0)
        }
      },
      { vs: "linux bind mount+umount", targetRatio: 1.0 }
    )
    mkdirat(t, AT_FDCWD, "/t", 0o755)
    b.bench(
      "fsopen+fsconfig+fsmount+move_mount+umount2",
      (n) => {
        for (let i = 0; i < n; i++) {
          const fs = fsopen(t, "tmpfs", 0) as number
          fsconfig(t, fs, FSCONFIG_CMD_CREATE, null, null, 0)
          const m = fsmount(t, fs, 0, 0) as number
          moveMount(t, m, "", AT_FDCWD, "/t", MOVE_MOUNT_F_EMPTY_PATH)
          close(t, m)
          close(t, fs)
          ksysUmount(t, "/t", 0)
        }
      },
      { vs: "linux fsopen+fsconfig+fsmount+move_mount+umount2", targetRatio: 0.1 }
    )
    b.bench(
      "open_tree(OPEN_TREE_CLONE)+move_mount+umount2",
      (n) => {
        for (let i = 0; i < n; i++) {
          const m = openTree(t, AT_FDCWD, "/src", OPEN_TREE_CLONE) as number
          moveMount(t, m, "", AT_FDCWD, "/dst", MOVE_MOUNT_F_EMPTY_PATH)
          close(t, m)
          ksysUmount(t, "/dst", 0)
        }
      },
      { vs: "linux open_tree(OPEN_TREE_CLONE)+move_mount+umount2", targetRatio: 0.1 }
    )
  }

  {
    const w = createScenarioWorld()
    const t = w.task
    for (let i = 0; i < 1000; i++) {
      mkdirat(t, AT_FDCWD, `/m${i}`, 0o755)
      doMount(t, "m", `/m${i}`, "tmpfs", 0, null)
    }
    b.bench(
      "unshare(CLONE_NEWNS) with 1000 mounts",
      (n) => {
        for (let i = 0; i < n; i++) {
          const ns = copyMntNs(t.mntNs, t.cred.userNs, t.fs)
          if ("errno" in ns) throw new Error(ns.errno)
          const old = t.mntNs
          t.mntNs = ns
          old.put()
        }
      },
      { vs: "linux unshare(CLONE_NEWNS) with 1000 mounts", targetRatio: 1.0 }
    )
  }

  b.scaling(
    "stat 5 components with N unrelated mounts",
    (size) => {
      const w = fileWorld()
      const t = w.task
      w.vfs.mountMax = 1_000_000
      mkdirat(t, AT_FDCWD, "/m", 0o755)
      for (let i = 0; i < size; i++) {
        mkdirat(t, AT_FDCWD, `/m/${i}`, 0o755)
        doMount(t, "/a", `/m/${i}`, null, MS_BIND, null)
      }
      return (n) => {
        for (let i = 0; i < n; i++) {
          const st = fstatat(t, AT_FDCWD, "/a/b/c/d/e", 0)
          if ("size" in st) sink += st.size
        }
      }
    },
    { sizes: [10, 10000], maxRatio: 1.1, shape: "flat" }
  )

  b.memory(
    "100,000 tmpfs mounts",
    () => {
      const w = createScenarioWorld()
      const t = w.task
      w.vfs.mountMax = 1_000_000
      for (let i = 0; i < 100000; i++) {
        mkdirat(t, AT_FDCWD, `/${i}`, 0o755)
        if (doMount(t, "m", `/${i}`, "tmpfs", 0, null) !== undefined) throw new Error("mount failed")
      }
      return w
    },
    { targetBytes: 200 * 1024 * 1024, note: "each with its own superblock" }
  )

  if (sink === -1) console.log(sink)
})
