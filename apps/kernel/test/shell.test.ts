import { describe, expect, it } from "@effect/vitest"
import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { WEXITSTATUS } from "@simkernel/abi"
import { Effect } from "effect"
import { boot, onConsole, shutdown } from "../src/Kernel.js"
import { runScript } from "../src/userland/sh/run.js"

/** Run a script as PID 1 on a fresh kernel: what /dev/console received and the exit status. */
const sh = (script: string) =>
  Effect.gen(function* () {
    let out = ""
    const kernel = yield* boot({ init: onConsole((p) => runScript(p, script)), console: (b) => (out += new TextDecoder().decode(b)) })
    const status = yield* kernel.sched.waitInit()
    const report = yield* shutdown(kernel)
    expect(report.audit).toBe("leak audit: 0 live objects")
    return { out, status: WEXITSTATUS(status) }
  })

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url))

describe("sh", () => {
  // each expected output is what dash printed for the same script on this machine
  const cases: ReadonlyArray<readonly [string, string, number]> = [
    ["echo hello world", "hello world\n", 0],
    ["echo a; false || echo b && echo c", "a\nb\nc\n", 0],
    ['X=hi; echo "$X there" $?', "hi there 0\n", 0],
    ["false; echo $?; true; echo $?", "1\n0\n", 0],
    ["echo one two | cat", "one two\n", 0],
    ["echo abc | cat | cat", "abc\n", 0],
    ["nosuch; echo $?", "sh: 1: nosuch: not found\n127\n", 0],
    ["cd /nope; echo $?", "sh: 1: cd: can't cd to /nope\n2\n", 0],
    ['echo "unterminated', "sh: 1: Syntax error: Unterminated quoted string\n", 2],
    ["exit 3; echo never", "", 3],
    ["cat /nofile", "cat: /nofile: No such file or directory\n", 1],
    ["echo x > /nodir/f", "sh: 1: cannot create /nodir/f: Directory nonexistent\n", 2],
    ["cat < /nofile", "sh: 1: cannot open /nofile: No such file\n", 2],
    ["echo x > /etc", "sh: 1: cannot create /etc: Is a directory\n", 2],
    ["echo -n a; echo b", "ab\n", 0],
    ["# a comment\necho 'single $quoted' \\$escaped", "single $quoted $escaped\n", 0]
  ]
  for (const [script, out, status] of cases) {
    it.effect(`runs ${JSON.stringify(script)} as dash does`, () =>
      Effect.gen(function* () {
        expect(yield* sh(script)).toEqual({ out, status })
      })
    )
  }

  it.effect("redirects output and input, in files of the VFS", () =>
    Effect.gen(function* () {
      const r = yield* sh("mkdir /tmp/d && echo first > /tmp/d/f && echo second >> /tmp/d/f; cat < /tmp/d/f; ls /tmp/d; cd /tmp/d; cat f")
      expect(r).toEqual({ out: "first\nsecond\nf\nfirst\nsecond\n", status: 0 })
    })
  )

  it.effect("sees the kernel: hostname, /dev, the programs in /bin", () =>
    Effect.gen(function* () {
      const r = yield* sh("hostname; hostname box; hostname; ls /dev; ls /bin")
      const bin = "cat container echo false findmnt hostname id kill ln ls lsns mkdir mknod mount mountfd nsenter ps rm sh sleep stat sync touch true umount unshare".split(" ")
      expect(r.out).toBe(["(none)", "box", "console", "full", "null", "sda", "sda3", "zero", ...bin, ""].join("\n"))
    })
  )
})

describe("coreutils and util-linux", () => {
  // messages and statuses are what GNU coreutils 9 and util-linux 2.39 print on this machine
  const cases: ReadonlyArray<readonly [string, string, number]> = [
    ["rm /nope; echo $?; rm -f /nope; echo $?", "rm: cannot remove '/nope': No such file or directory\n1\n0\n", 0],
    ["mkdir /tmp/d; rm /tmp/d; rm -r /tmp/d; ls /tmp", "rm: cannot remove '/tmp/d': Is a directory\n", 0],
    ["touch /tmp/a; ln /tmp/a /tmp/a", "ln: failed to create hard link '/tmp/a' => '/tmp/a': File exists\n", 1],
    ["touch /nodir/x", "touch: cannot touch '/nodir/x': No such file or directory\n", 1],
    ["stat /nope", "stat: cannot statx '/nope': No such file or directory\n", 1],
    ["id", "uid=0(root) gid=0(root) groups=0(root)\n", 0],
    ["kill -9 999", "kill: (999): No such process\n", 1],
    ["sleep x", "sleep: invalid time interval 'x'\nTry 'sleep --help' for more information.\n", 1],
    ["mount -t nosuchfs x /mnt", "mount: /mnt: unknown filesystem type 'nosuchfs'.\n", 32],
    ["umount /mnt", "umount: /mnt: not mounted.\n", 32],
    ["mount /dev/null /mnt", "mount: /mnt: /dev/null is not a block device.\n", 32],
    // a write a file refuses reaches the writer: coreutils' echo (not the shell's) reports it on its way out
    ["/bin/echo x > /dev/full", "/bin/echo: write error: No space left on device\n", 1],
    ['/bin/echo "0 0 1" > /proc/1/uid_map', "/bin/echo: write error: Operation not permitted\n", 1],
    ["/bin/echo x > /proc/sys/kernel/pid_max", "/bin/echo: write error: Invalid argument\n", 1],
    // sysctl checks only the file's mode at open: root's kuid in a new user namespace may still write (checked on this machine)
    ['unshare -U sh -c "echo z > /proc/sys/kernel/hostname"; hostname', "z\n", 0],
    // no -t: mount(8) tries the block filesystems /proc/filesystems lists
    ["mount /dev/sda3 /mnt && cat /mnt/etc/hostname", "simkernel\n", 0]
  ]
  for (const [script, out, status] of cases) {
    it.effect(`runs ${JSON.stringify(script)} as Linux's tools do`, () =>
      Effect.gen(function* () {
        expect(yield* sh(script)).toEqual({ out, status })
      })
    )
  }

  it.effect("stat prints GNU stat's layout: symlink target, device numbers, mode letters", () =>
    Effect.gen(function* () {
      const r = yield* sh("touch /tmp/a; ln -s /tmp/a /tmp/l; stat /tmp/l /dev/null")
      const lines = r.out.split("\n")
      expect(lines[0]).toBe("  File: /tmp/l -> /tmp/a")
      expect(lines[1]).toMatch(/^  Size: 6 {9}\tBlocks: 0 {10}IO Block: 4096 {3}symbolic link$/)
      expect(lines[3]).toBe("Access: (0777/lrwxrwxrwx)  Uid: (    0/    root)   Gid: (    0/    root)")
      expect(lines[8]).toBe("  File: /dev/null")
      expect(lines[9]).toMatch(/character special file$/)
      expect(lines[10]).toMatch(/^Device: \d+,\d+\tInode: \d+ +Links: 1 {5}Device type: 1,3$/)
      expect(lines[11]).toMatch(/^Access: \(0666\/crw-rw-rw-\)/)
    })
  )

  it.effect("mount, findmnt and umount change and show the mount table", () =>
    Effect.gen(function* () {
      const r = yield* sh("mkdir /mnt/x; mount -t tmpfs -o nosuid,size=1m tmp /mnt/x; mount --bind /tmp /mnt; findmnt; umount -l /mnt; umount /mnt/x; findmnt")
      expect(r.out).toBe(
        [
          "TARGET   SOURCE     FSTYPE OPTIONS",
          "/        none       tmpfs  rw,relatime,mode=755",
          "├─/proc  proc       proc   rw,nosuid,nodev,noexec,relatime",
          "├─/mnt/x tmp        tmpfs  rw,nosuid,relatime,size=1024k",
          "└─/mnt   none[/tmp] tmpfs  rw,relatime,mode=755",
          "TARGET  SOURCE FSTYPE OPTIONS",
          "/       none   tmpfs  rw,relatime,mode=755",
          "└─/proc proc   proc   rw,nosuid,nodev,noexec,relatime",
          ""
        ].join("\n")
      )
    })
  )

  it.effect("mknod makes FIFOs and character devices that work when opened", () =>
    Effect.gen(function* () {
      const r = yield* sh("mknod /tmp/p p; mknod /tmp/z c 1 5; stat /tmp/p; echo x > /tmp/z; cat /tmp/z | cat; ls /tmp")
      expect(r.out).toContain("prw-r--r--")
      expect(r.out.endsWith("p\nz\n")).toBe(true)
    })
  )
})

describe("unshare and nsenter", () => {
  // messages and statuses are util-linux 2.39's on this machine
  const cases: ReadonlyArray<readonly [string, string, number]> = [
    ["unshare -x", "unshare: invalid option -- 'x'\nTry 'unshare --help' for more information.\n", 1],
    ["unshare nosuch", "unshare: failed to execute nosuch: No such file or directory\n", 127],
    ["unshare -U id", "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n", 0],
    ["unshare -r id", "uid=0(root) gid=0(root) groups=0(root)\n", 0],
    ["nsenter -u true", "nsenter: neither filename nor target pid supplied for ns/uts\n", 1],
    ["nsenter -t 999 -u true", "nsenter: cannot open /proc/999/ns/uts: No such file or directory\n", 1],
    ["nsenter -t abc -u true", "nsenter: failed to parse pid: 'abc'\n", 1],
    ["nsenter -t 999 -a true", "nsenter: stat of /proc/999/ns/user failed: No such file or directory\n", 1],
    ["nsenter echo no namespaces", "no namespaces\n", 0]
  ]
  for (const [script, out, status] of cases) {
    it.effect(`runs ${JSON.stringify(script)} as util-linux does`, () =>
      Effect.gen(function* () {
        expect(yield* sh(script)).toEqual({ out, status })
      })
    )
  }

  it.effect("unshare -u gives a UTS namespace of its own; nsenter -t 1 -u goes back to PID 1's", () =>
    Effect.gen(function* () {
      const r = yield* sh('hostname outer; unshare -u sh -c "hostname inner; nsenter -t 1 -u hostname; hostname; nsenter -t 1 -a hostname"; hostname')
      expect(r).toEqual({ out: "outer\ninner\nouter\nouter\n", status: 0 })
    })
  )

  it.effect("unshare --fork --pid --mount-proc: the command is PID 1 of its namespace and /proc shows only that namespace", () =>
    Effect.gen(function* () {
      const r = yield* sh('unshare --fork --pid --mount-proc sh -c "ls /proc; cat /proc/self/stat | cat" ; exit 7')
      const lines = r.out.split("\n")
      // sh is 1, ls 2; then the pipeline's cat reading /proc/self is 3 or 4, its parent 1
      expect(lines.slice(0, 11)).toEqual(["1", "2", "containers", "filesystems", "key-users", "keys", "mounts", "self", "sys", "thread-self", "uptime"])
      expect(lines[11]).toMatch(/^[34] \(cat\) R 1 /)
      expect(r.status).toBe(7)
    })
  )

  it.effect("ps in a new PID namespace with its own /proc sees only that namespace", () =>
    Effect.gen(function* () {
      const r = yield* sh("unshare --fork --pid --mount-proc ps -ef")
      expect(r.out).toBe("UID          PID    PPID  C STIME TTY          TIME CMD\nroot           1       0  0 00:00 ?        00:00:00 ps -ef\n")
    })
  )

  it.effect("unshare -m: mounts made inside stay inside (propagation is made private)", () =>
    Effect.gen(function* () {
      const r = yield* sh('unshare -m sh -c "mount -t tmpfs t /mnt; touch /mnt/in; ls /mnt"; ls /mnt; echo end')
      expect(r).toEqual({ out: "in\nend\n", status: 0 })
    })
  )
})

describe("mountfd", () => {
  it.effect("drives fsopen, fsconfig, fsmount and move_mount step by step, each printed as strace prints it", () =>
    Effect.gen(function* () {
      const r = yield* sh(
        'mountfd fsopen tmpfs FSOPEN_CLOEXEC =fs , fsconfig @fs FSCONFIG_SET_STRING size 1m 0 , fsconfig @fs FSCONFIG_CMD_CREATE NULL NULL 0 , fsmount @fs FSMOUNT_CLOEXEC MOUNT_ATTR_NOSUID =m , move_mount @m "" AT_FDCWD /mnt MOVE_MOUNT_F_EMPTY_PATH && findmnt'
      )
      expect(r.out).toBe(
        [
          'fsopen("tmpfs", FSOPEN_CLOEXEC) = 3',
          'fsconfig(3, FSCONFIG_SET_STRING, "size", "1m", 0) = 0',
          "fsconfig(3, FSCONFIG_CMD_CREATE, NULL, NULL, 0) = 0",
          "fsmount(3, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID) = 4",
          'move_mount(4, "", AT_FDCWD, "/mnt", MOVE_MOUNT_F_EMPTY_PATH) = 0',
          "TARGET  SOURCE FSTYPE OPTIONS",
          "/       none   tmpfs  rw,relatime,mode=755",
          "├─/proc proc   proc   rw,nosuid,nodev,noexec,relatime",
          "└─/mnt  none   tmpfs  rw,nosuid,relatime,size=1024k",
          ""
        ].join("\n")
      )
    })
  )

  it.effect("stops at the first failing step with its errno and the fs context's log; mount_setattr takes a struct mount_attr", () =>
    Effect.gen(function* () {
      const bad = yield* sh("mountfd fsopen tmpfs 0 =fs , fsconfig @fs FSCONFIG_SET_STRING mode bad 0 , fsconfig @fs FSCONFIG_CMD_CREATE NULL NULL 0")
      expect(bad).toEqual({
        out: 'fsopen("tmpfs", 0) = 3\nfsconfig(3, FSCONFIG_SET_STRING, "mode", "bad", 0) = -1 EINVAL (Invalid argument)\nmountfd: e tmpfs: Bad value for \'mode\'\n',
        status: 1
      })
      // strace 6.1 prints the struct this way for the same call
      const attr = yield* sh('mountfd mount_setattr AT_FDCWD /proc 0 "attr_set=MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID,propagation=MS_PRIVATE" 32 && findmnt')
      expect(attr.out).toContain(
        'mount_setattr(AT_FDCWD, "/proc", 0, {attr_set=MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID, attr_clr=0, propagation=MS_PRIVATE, userns_fd=0}, 32) = 0\n'
      )
      expect(attr.out).toContain("└─/proc proc   proc   ro,nosuid,nodev,noexec,relatime")
      expect(yield* sh("mountfd fsopen")).toEqual({ out: "mountfd: fsopen: 2 arguments expected, 0 given\n", status: 1 })
      expect(yield* sh("mountfd mount tmpfs")).toEqual({ out: "mountfd: unknown call 'mount'\n", status: 1 })
      expect(yield* sh("mountfd fsmount @nope 0 0")).toEqual({ out: "mountfd: fsmount argument 1: @nope was never saved\n", status: 1 })
    })
  )
})

describe("--seed", () => {
  /** Run `script` as PID 1 with a seeded scheduler: the console output and the strace-style trace. */
  const seeded = (script: string, seed: number) =>
    Effect.gen(function* () {
      let out = ""
      const trace: Array<string> = []
      const kernel = yield* boot({
        seed,
        tracer: (line) => trace.push(line),
        init: onConsole((p) => runScript(p, script)),
        console: (b) => (out += new TextDecoder().decode(b))
      })
      yield* kernel.sched.waitInit()
      expect((yield* shutdown(kernel)).audit).toBe("leak audit: 0 live objects")
      return { out, trace: trace.join("\n") }
    })

  it.effect("the same seed repeats the same run; other seeds interleave the tasks differently with the same output", () =>
    Effect.gen(function* () {
      const script = "echo hi | cat; echo a | cat | cat"
      const runs = yield* Effect.forEach([1, 2, 3, 4, 5, 6], (seed) => seeded(script, seed))
      for (const r of runs) expect(r.out).toBe("hi\na\n")
      expect((yield* seeded(script, 3)).trace).toBe(runs[2]!.trace)
      expect(new Set(runs.map((r) => r.trace)).size).toBeGreaterThan(1)
    })
  )
})

describe("simkernel run and shell", () => {
  it("run FILE runs a host script inside the kernel and exits with its status", () => {
    const dir = mkdtempSync(join(tmpdir(), "simkernel-run-"))
    try {
      const file = join(dir, "s.sh")
      writeFileSync(file, "echo from a script\nmkdir /tmp/d\necho data > /tmp/d/f\ncat /tmp/d/f | cat\nexit 4\n")
      const r = spawnSync(process.execPath, [main, "run", file], { encoding: "utf8" })
      expect(r.stdout).toBe("from a script\ndata\n")
      expect(r.status).toBe(4)
      const missing = spawnSync(process.execPath, [main, "run", join(dir, "nope.sh")], { encoding: "utf8" })
      expect(missing.status).toBe(2)
      expect(missing.stderr).toContain("No such file or directory")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("--trace prints every task's syscalls on standard error in strace's format", () => {
    const r = spawnSync(process.execPath, [main, "shell", "--trace", "-c", "/bin/echo hi | cat"], { encoding: "utf8" })
    expect(r.stdout).toBe("hi\n")
    const lines = r.stderr.trimEnd().split("\n")
    expect(lines).toContain("[pid 1] pipe2([3, 4], 0) = 0")
    // a successful execve is reported as strace reports it, though it never returns to its caller
    // the environment holds PWD, which the shell exports as dash does
    expect(lines).toContain('[pid 2] execve("/bin/echo", ["/bin/echo", "hi"], /* 1 var */) = 0')
    expect(lines).toContain('[pid 3] execve("/bin/cat", ["cat"], /* 1 var */) = 0')
    expect(lines).toContain('[pid 2] write(1, "hi\\n", 3) = 3')
    expect(lines).toContain('[pid 3] read(0, "hi\\n", 4096) = 3')
    expect(lines).toContain("[pid 1] wait4(3, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 3")
    const json = spawnSync(process.execPath, [main, "shell", "--trace=json", "-c", "true"], { encoding: "utf8" })
    expect(JSON.parse(json.stderr.split("\n")[0]!)).toEqual({ pid: 1, call: 'openat(AT_FDCWD, "/dev/console", O_RDWR)', result: "0" })
  })

  it("mkfs makes a root image; --disk attaches it; what one run writes the next run reads; :ro mounts read-only", () => {
    const dir = mkdtempSync(join(tmpdir(), "simkernel-disk-"))
    try {
      const img = join(dir, "root.img")
      expect(spawnSync(process.execPath, [main, "mkfs", "-L", "data", img], { encoding: "utf8" }).status).toBe(0)
      const again = spawnSync(process.execPath, [main, "mkfs", img], { encoding: "utf8" })
      expect(again.status).toBe(1)
      expect(again.stderr).toContain("contains a filesystem labelled 'data'")
      const shell = (disk: string, cmd: string) => spawnSync(process.execPath, [main, "shell", "--disk", disk, "-c", cmd], { encoding: "utf8" })
      const write = shell(`sda3=${img}`, "mount /dev/sda3 /mnt && echo kept > /mnt/root/note && umount /mnt")
      expect(write.stdout).toBe("")
      expect(write.status).toBe(0)
      const read = shell(`sda3=${img}:ro`, "mount /dev/sda3 /mnt; cat /mnt/root/note; echo x > /mnt/root/y; findmnt")
      // the console carries standard output and error alike
      const lines = read.stdout.split("\n")
      expect(lines.slice(0, 3)).toEqual(["mount: /mnt: WARNING: source write-protected, mounted read-only.", "kept", "sh: 1: cannot create /mnt/root/y: Read-only file system"])
      expect(lines).toContain("└─/mnt  /dev/sda3 ext4   ro,relatime")
      const bad = shell("sdz9=nowhere", "true")
      expect(bad.status).toBe(2)
      expect(bad.stderr).toContain("not a SCSI disk name")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("shell reads commands from standard input as dash does: state carries over, a quote spans lines", () => {
    // each expectation is what `dash` printed for the same standard input on this machine
    const run = (input: string) => spawnSync(process.execPath, [main, "shell"], { input, encoding: "utf8" })
    const r = run('X=hi\ncd /tmp\necho "two\nlines"\nmkdir d; ls; echo $X\nnosuch\necho $?\nexit 5\necho never\n')
    expect(r.stdout).toBe("two\nlines\nd\nhi\nsh: 6: nosuch: not found\n127\n")
    expect(r.status).toBe(5)
    const unterminated = run('cd /tmp\necho "unterminated\nmkdir d\n')
    expect(unterminated.stdout).toBe("sh: 4: Syntax error: Unterminated quoted string\n")
    expect(unterminated.status).toBe(2)
  })

  it("shell on a terminal prompts with # and echoes the line as readline edits it", () => {
    // script(1) gives the shell a pseudo-terminal; the pauses let each prompt appear before the next line is typed
    const typing = `(sleep 2; printf 'echo "one\\n'; sleep 1; printf 'two"\\n'; sleep 0.5)`
    const r = spawnSync("sh", ["-c", `${typing} | script -qec '${process.execPath} ${main} shell' /dev/null`], { encoding: "utf8", timeout: 20_000 })
    const screen = r.stdout.replace(/\x1b\[[0-9]*[A-Za-z]/g, "").replace(/\r/g, "")
    expect(screen).toContain('# echo "one\n> two"\none\ntwo\n# ')
    expect(r.status).toBe(0)
  })

  it("shell -c CMD runs one command line", () => {
    expect(execFileSync(process.execPath, [main, "shell", "-c", "echo hi && hostname"], { encoding: "utf8" })).toBe("hi\n(none)\n")
  })
})
