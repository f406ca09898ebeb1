import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { sh } from "./support.js"

const HEADER = "NAME                               ID USE FL OWNER GROUP"
const TRY = "Try 'container --help' for more information.\n"

describe("container: usage errors, in util-linux's words", () => {
  const cases: ReadonlyArray<readonly [string, string, number]> = [
    ["container", `container: no command specified\n${TRY}`, 1],
    ["container frob", `container: unknown command 'frob'\n${TRY}`, 1],
    ["container --bogus", `container: unrecognized option '--bogus'\n${TRY}`, 1],
    ["container run", `container: no container name specified\n${TRY}`, 1],
    ["container create --kill-on-close", `container: no container name specified\n${TRY}`, 1],
    ["container run --new bogus x true", `container: unknown namespace type: bogus\n${TRY}`, 1],
    ["container run --new", `container: option '--new' requires an argument\n${TRY}`, 1],
    ["container run -n", `container: option requires an argument -- 'n'\n${TRY}`, 1],
    ["container run -x x true", `container: invalid option -- 'x'\n${TRY}`, 1],
    ["container run --fd 4 x true", `container: unrecognized option '--fd'\n${TRY}`, 1],
    ["container wait -k", `container: invalid option -- 'k'\n${TRY}`, 1],
    ["container exec --fd=x true", `container: failed to parse fd: 'x'\n${TRY}`, 1],
    ["container exec", `container: no command specified\n${TRY}`, 1],
    ["container kill", `container: no signal specified\n${TRY}`, 1],
    ["container kill TERM 3", `container: unexpected argument '3'\n${TRY}`, 1],
    ["container kill BOGUS", "container: unknown signal: BOGUS\n", 1],
    ["container wait now", `container: unexpected argument 'now'\n${TRY}`, 1],
    ["container list -a", `container: invalid option -- 'a'\n${TRY}`, 1]
  ]
  for (const [script, out, status] of cases) {
    it.effect(`${JSON.stringify(script)} exits ${status}`, () =>
      Effect.gen(function* () {
        expect(yield* sh(script)).toEqual({ out, status })
      })
    )
  }

  it.effect("--help prints the usage on stdout and exits 0, for the program and each command", () =>
    Effect.gen(function* () {
      const r = yield* sh("container --help && container run -h")
      expect(r.status).toBe(0)
      expect(r.out.match(/^Usage:$/gm)).toHaveLength(2)
      expect(r.out).toContain(" container run [options] <name> [--] [<command> [<argument>...]]\n")
    })
  )
})

describe("container: the kernel's answers, as `container: CALL failed: REASON`", () => {
  const cases: ReadonlyArray<readonly [string, string, number]> = [
    // CONTAINER_NEW_FS_NS and CONTAINER_NEW_EMPTY_FS_NS together
    ["container run --new fs,empty-fs x true", "container: container_create failed: Invalid argument\n", 1],
    // --root implies an empty mount namespace, which --new fs contradicts
    ["container run --new fs --root /dev/sda3 x true", "container: container_create failed: Invalid argument\n", 1],
    // name[24]: 23 bytes and the NUL
    ["container run abcdefghijklmnopqrstuvwxyz true", "container: container_create failed: File name too long\n", 1],
    ["container run a/b true", "container: container_create failed: Invalid argument\n", 1],
    // an empty mount namespace without a root: nothing to start init in
    ["container run --new empty-fs x true", "container: fork_into_container failed: No such file or directory\n", 1],
    ["container run --root /dev/nosuch x true", "container: mount /dev/nosuch on / failed: No such file or directory\n", 1],
    ["container run --root /dev/sda3 -t nofs x true", "container: fsopen nofs failed: No such device\n", 1],
    ["container wait", "container: container_wait failed: Bad file descriptor\n", 1],
    ["container wait --fd 0", "container: container_wait failed: Invalid argument\n", 1],
    ["container kill --fd 2 TERM", "container: container_kill failed: Invalid argument\n", 1],
    ["container exec -f 7 true", "container: fork_into_container failed: Bad file descriptor\n", 1],
    ["container run x nosuch", "container: failed to execute nosuch: No such file or directory\n", 127]
  ]
  for (const [script, out, status] of cases) {
    it.effect(`${JSON.stringify(script)}`, () =>
      Effect.gen(function* () {
        expect(yield* sh(script)).toEqual({ out, status })
      })
    )
  }
})

describe("container run: create, set up, run the command as init, wait", () => {
  it.effect("ends as its command ended, and the container's UTS namespace is its own", () =>
    Effect.gen(function* () {
      const r = yield* sh('hostname outer; container run --new uts fred sh -c "hostname inner; hostname; exit 3"; echo status=$?; hostname')
      expect(r).toEqual({ out: "inner\nstatus=3\nouter\n", status: 0 })
    })
  )

  it.effect("--new pid --mount-proc: the command is PID 1 there, and its /proc shows only the container's PID namespace", () =>
    Effect.gen(function* () {
      const r = yield* sh("container run --new pid --mount-proc fred ps -ef; cat /proc/mounts")
      const [head, row, ...rest] = r.out.split("\n")
      expect(head).toBe("UID          PID    PPID  C STIME TTY          TIME CMD")
      expect(row).toBe("root           1       0  0 00:00 ?        00:00:00 ps -ef")
      // the proc mount went on the container's own mount namespace (--mount-proc implies --new fs), not on the host's /proc
      expect(rest.filter((l) => l.startsWith("proc "))).toHaveLength(1)
    })
  )

  it.effect("--root mounts ext4 on /dev/sda3 as the root of an empty mount namespace", () =>
    Effect.gen(function* () {
      const r = yield* sh("container run --root /dev/sda3 --mount-proc --new pid fred findmnt")
      expect(r).toEqual({
        out: "TARGET  SOURCE    FSTYPE OPTIONS\n/       /dev/sda3 ext4   rw,relatime\n└─/proc none      proc   rw,nosuid,nodev,noexec,relatime\n",
        status: 0
      })
    })
  )

  it.effect("list shows the caller's container as <current>; inside a container, that container", () =>
    Effect.gen(function* () {
      const r = yield* sh("container list; container run --new uts fred container list")
      expect(r).toEqual({
        out: [HEADER, "<current>                           1   3 01     0     0", HEADER, "<current>                           2   2 01     0     0", ""].join("\n"),
        status: 0
      })
    })
  )

  it.effect("a command killed by a signal ends container run with 128 + the signal", () =>
    Effect.gen(function* () {
      const r = yield* sh("container run --new uts fred sh -c 'kill -9 $$'; echo status=$?")
      expect(r).toEqual({ out: "status=137\n", status: 0 })
    })
  )
})

describe("container create: the fd handed to a supervising command", () => {
  it.effect("exec forks commands in (the first is init), wait collects init's status, list shows the child container", () =>
    Effect.gen(function* () {
      const r = yield* sh(
        `container create --new pid,uts fred sh -c 'container list; container exec -- sh -c "hostname fred; exit 5"; echo exec=$?; container wait; echo wait=$?; container exec true; echo late=$?'`
      )
      expect(r).toEqual({
        out: [
          HEADER,
          "<current>                           1   5 01     0     0",
          "fred                                2   1 00     0     0",
          "exec=5",
          "wait=5",
          "container: fork_into_container failed: Operation canceled",
          "late=1",
          ""
        ].join("\n"),
        status: 0
      })
    })
  )

  it.effect("--fd puts the container on another fd; kill signals its init", () =>
    Effect.gen(function* () {
      const r = yield* sh(
        `container create --fd 7 --new pid fred sh -c 'container exec --fd 7 sleep 100 & sleep 0; container kill --fd 7 --init-only KILL; echo kill=$?; container wait -f 7; echo wait=$?; wait'`
      )
      expect(r).toEqual({ out: "kill=0\nwait=137\n", status: 0 })
    })
  )

  it.effect("kill on a container nobody was forked into is ESRCH", () =>
    Effect.gen(function* () {
      const r = yield* sh(`container create --new pid fred sh -c 'container kill -9; container kill -KILL; echo kill=$?'`)
      expect(r).toEqual({ out: "container: container_kill failed: No such process\n".repeat(2) + "kill=1\n", status: 0 })
    })
  )

  it.effect("the supervising command runs outside the container, and ends create with its status", () =>
    Effect.gen(function* () {
      const r = yield* sh(`hostname outer; container create --new uts fred sh -c 'hostname; exit 4'; echo status=$?`)
      expect(r).toEqual({ out: "outer\nstatus=4\n", status: 0 })
    })
  )
})
