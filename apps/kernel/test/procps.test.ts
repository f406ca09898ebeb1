import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import type { Process } from "@simkernel/sched"
import { runScript } from "../src/userland/sh/run.js"
import { sh } from "./support.js"

// The expected texts follow what procps-ng 4.0.2 and util-linux 2.38.1 print on this machine: ps sizes its
// PID columns to 7 digits for a pid_max of 4194304 (checked with that value bind-mounted over
// /proc/sys/kernel/pid_max); lsns sizes each column to its widest cell.
describe("ps", () => {
  it.effect("lists init and itself, from /proc", () =>
    Effect.gen(function* () {
      expect(yield* sh("ps")).toEqual({
        out: "    PID TTY          TIME CMD\n      1 ?        00:00:00 init\n      2 ?        00:00:00 ps\n",
        status: 0
      })
    })
  )

  it.effect("-ef prints the full format, with each command line", () =>
    Effect.gen(function* () {
      expect(yield* sh("ps -ef")).toEqual({
        out:
          "UID          PID    PPID  C STIME TTY          TIME CMD\n" +
          "root           1       0  0 00:00 ?        00:00:00 init\n" +
          "root           2       1  0 00:00 ?        00:00:00 ps -ef\n",
        status: 0
      })
    })
  )

  it.effect("STIME and C come from /proc/PID/stat's start time and CPU times against /proc/uptime", () =>
    Effect.gen(function* () {
      // init burns 30 s of CPU and sleeps 90 s of the kernel's clock, then runs ps: 3000 ticks over 90 s is 33%
      const init = (p: Process) =>
        Effect.gen(function* () {
          yield* p.burn(30_000_000_000)
          yield* Effect.ignore(p.nanosleep(90_000))
          return yield* runScript(p, "cat /proc/uptime; ps -ef")
        })
      const fiber = yield* Effect.forkChild(sh(init))
      for (let i = 0; i < 5; i++) yield* Effect.yieldNow
      yield* TestClock.adjust("90 seconds")
      expect(yield* Fiber.join(fiber)).toEqual({
        out:
          "90.00 0.00\n" +
          "UID          PID    PPID  C STIME TTY          TIME CMD\n" +
          "root           1       0 33 00:00 ?        00:00:30 init\n" +
          "root           3       1  0 00:01 ?        00:00:00 ps -ef\n",
        status: 0
      })
    })
  )

  it.effect("STIME is the month and day for a process started before today, as procps prints it", () =>
    Effect.gen(function* () {
      const init = (p: Process) =>
        Effect.gen(function* () {
          yield* Effect.ignore(p.nanosleep(2 * 86_400_000 + 3_600_000))
          return yield* runScript(p, "ps -ef")
        })
      const fiber = yield* Effect.forkChild(sh(init))
      for (let i = 0; i < 5; i++) yield* Effect.yieldNow
      yield* TestClock.adjust("49 hours")
      expect(yield* Fiber.join(fiber)).toEqual({
        out:
          "UID          PID    PPID  C STIME TTY          TIME CMD\n" +
          "root           1       0  0 Jan01 ?        00:00:00 init\n" +
          "root           2       1  0 01:00 ?        00:00:00 ps -ef\n",
        status: 0
      })
    })
  )

  it.effect("rejects options it does not know as procps-ng does", () =>
    Effect.gen(function* () {
      const r = yield* sh("ps -Q")
      expect(r).toEqual({
        out:
          "error: unsupported SysV option\n\nUsage:\n ps [options]\n\n Try 'ps --help <simple|list|output|threads|misc|all>'\n  or 'ps --help <s|l|o|t|m|a>'\n for additional help text.\n\nFor more details see ps(1).\n",
        status: 1
      })
    })
  )
})

describe("lsns", () => {
  it.effect("lists each namespace once, by inode, with its process count and lowest pid", () =>
    Effect.gen(function* () {
      const row = (ino: number, type: string): string => `${ino} ${type.padEnd(6)}      2   1 root init\n`
      expect(yield* sh("lsns")).toEqual({
        out:
          "        NS TYPE   NPROCS PID USER COMMAND\n" +
          row(4026531832, "mnt") +
          row(4026531833, "net") +
          row(4026531834, "time") +
          row(4026531835, "cgroup") +
          row(4026531836, "pid") +
          row(4026531837, "user") +
          row(4026531838, "uts") +
          row(4026531839, "ipc"),
        status: 0
      })
    })
  )
})

describe("lsns NS", () => {
  it.effect("lists the namespace's processes, each under its parent", () =>
    Effect.gen(function* () {
      expect(yield* sh("lsns 4026531836")).toEqual({
        out: "PID PPID USER COMMAND\n  1    0 root init\n  2    1 root └─lsns 4026531836\n",
        status: 0
      })
    })
  )

  it.effect("complains about a namespace no process is in, and an operand that is no inode", () =>
    Effect.gen(function* () {
      expect(yield* sh("lsns 123; lsns abc; lsns -x")).toEqual({
        out:
          "lsns: not found namespace: 123\n" +
          "lsns: invalid namespace argument: 'abc'\n" +
          "lsns: invalid option -- 'x'\nTry 'lsns --help' for more information.\n",
        status: 1
      })
    })
  )
})

describe("findmnt --json", () => {
  it.effect("nests the mounts of /proc/self/mountinfo as util-linux prints them", () =>
    Effect.gen(function* () {
      // the layout of `findmnt --json` on this machine: 3-space steps, "},{" between siblings, "children" only when there are some
      const mount = (pad: string, target: string, source: string, fstype: string, options: string): string =>
        `${pad}   "target": "${target}",\n${pad}   "source": "${source}",\n${pad}   "fstype": "${fstype}",\n${pad}   "options": "${options}"`
      const r = yield* sh("mkdir /tmp/a /tmp/b && mount -t tmpfs none /tmp/a && mkdir /tmp/a/c && mount -t tmpfs none /tmp/a/c && mount -t tmpfs none /tmp/b && findmnt --json")
      expect(r).toEqual({
        out:
          "{\n" +
          '   "filesystems": [\n' +
          "      {\n" +
          `${mount("      ", "/", "none", "tmpfs", "rw,relatime,mode=755")},\n` +
          '         "children": [\n' +
          "            {\n" +
          `${mount("            ", "/proc", "proc", "proc", "rw,nosuid,nodev,noexec,relatime")}\n` +
          "            },{\n" +
          `${mount("            ", "/tmp/a", "none", "tmpfs", "rw,relatime")},\n` +
          '               "children": [\n' +
          "                  {\n" +
          `${mount("                  ", "/tmp/a/c", "none", "tmpfs", "rw,relatime")}\n` +
          "                  }\n" +
          "               ]\n" +
          "            },{\n" +
          `${mount("            ", "/tmp/b", "none", "tmpfs", "rw,relatime")}\n` +
          "            }\n" +
          "         ]\n" +
          "      }\n" +
          "   ]\n" +
          "}\n",
        status: 0
      })
    })
  )
})
