import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ArgError } from "../src/conformance/args.js"
import { parseBlocklist } from "../src/conformance/command.js"
import type { ResultsFile, Scenario, ScenarioFile } from "../src/conformance/format.js"
import { normaliseFileText, normaliseLink, READ_FORMATS, type ReadFormat, readFileOptions } from "../src/conformance/procfsObserve.js"
import { runSchedScenario } from "../src/conformance/schedMachine.js"
import { scenarioTests } from "./support.js"

const repo = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url))
const scenarios = JSON.parse(readFileSync(repo("conformance/procfs/scenarios.json"), "utf8")) as ScenarioFile
const expected = JSON.parse(readFileSync(repo("conformance/procfs/expected.json"), "utf8")) as ResultsFile
const blocked = parseBlocklist(readFileSync(repo("conformance/blocklist"), "utf8"))
const LINUX_RUNNER = repo("apps/kernel/conformance-linux/simkernel_linux.py")

const norm = (text: string, format: ReadFormat, keep?: ReadonlyArray<string>) => {
  const opts = readFileOptions(format, keep === undefined ? undefined : [...keep])
  if (opts instanceof ArgError) throw opts
  return normaliseFileText(text, opts.format, opts.keep)
}

/** Texts as Linux 6.18 prints them (this machine), one per format, for the normalisation rules. */
const SAMPLES: ReadonlyArray<{ readonly format: ReadFormat; readonly keep?: ReadonlyArray<string>; readonly text: string }> = [
  {
    format: "status",
    text: "Name:\tcat\nUmask:\t0022\nFDSize:\t256\nGroups:\t \nNSpid:\t2\t1\nVmPeak:\t    3060 kB\nRssAnon:\t     112 kB\nHugetlbPages:\t       0 kB\nCoreDumping:\t0\nTHP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\nSigQ:\t0/96364\nSigIgn:\t0000000000001200\nSpeculation_Store_Bypass:\tvulnerable\nCpus_allowed_list:\t0-1\nMems_allowed:\t00000000,00000001\nvoluntary_ctxt_switches:\t3\nnonvoluntary_ctxt_switches:\t1\n"
  },
  {
    format: "stat",
    text: "3 (a (b) c) R 1 0 0 0 -1 4194304 77 0 0 0 0 0 0 0 20 0 1 0 913267 3133440 389 18446744073709551615 94751235600384 94751235620265 140731542775024 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94751235636272 94751235637888 94752295108608 140731542780438 140731542780458 140731542780458 140731542781931 0\n"
  },
  { format: "fdinfo", text: "pos:\t3\nflags:\t02102002\nmnt_id:\t24\nino:\t3\n" },
  {
    format: "mountinfo",
    text: "44 43 0:30 / / rw,relatime - tmpfs none rw,mode=755\n46 44 0:21 / /proc rw,relatime - proc proc rw\n50 44 0:40 / /s rw,relatime shared:7 - tmpfs s rw\n51 44 0:40 /sub /t\\040u rw,relatime master:7 propagate_from:9 - tmpfs s rw\n52 52 0:41 / /u rw,relatime unbindable - tmpfs u rw\n"
  },
  { format: "nul", text: "python3\0-c\0\0" },
  { format: "lines", keep: ["^0::"], text: "9:name=systemd:/\n1:cpu:/\n0::/\n" },
  { format: "lines", keep: ["\\t(tmpfs|proc)$"], text: "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\n\text4\n" },
  { format: "status", keep: ["^(?!Cap)"], text: "Name:\tx\nCapPrm:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\nNoNewPrivs:\t0\n" },
  { format: "host-status", text: "Name:\tx\nTgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t4200\nTracerPid:\t0\nNSpid:\t4242\nNSsid:\t4242\nThreads:\t1\nVmRSS:\t   12 kB\n" },
  { format: "host-stat", text: "4242 (x) S 4200 4242 4242 0 -1 4194304 77 0 0 0 0 0 0 0 20 0 1 0 913267 3133440 389 18446744073709551615 1 2 3 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 4 5 6 7 8 9 10 0\n" }
]

describe("read_file normalisation (FORMAT.md 4.1)", () => {
  it("status: machine-dependent values become *, every other line stays as printed", () => {
    expect(norm(SAMPLES[0]!.text, "status")).toEqual([
      "Name:\tcat",
      "Umask:\t0022",
      "FDSize:\t*",
      "Groups:\t ",
      "NSpid:\t2\t1",
      "VmPeak:\t*",
      "RssAnon:\t*",
      "HugetlbPages:\t*",
      "CoreDumping:\t0",
      "THP_enabled:\t*",
      "untag_mask:\t*",
      "SigQ:\t*",
      "SigIgn:\t0000000000001200",
      "Speculation_Store_Bypass:\t*",
      "Cpus_allowed_list:\t*",
      "Mems_allowed:\t*",
      "voluntary_ctxt_switches:\t*",
      "nonvoluntary_ctxt_switches:\t*",
      ""
    ])
  })

  it("stat: the comm runs to the last ')', the numbered machine fields become *, the count stays 52", () => {
    const [line, end] = norm(SAMPLES[1]!.text, "stat")
    expect(end).toBe("")
    expect(line).toBe("3 (a (b) c) R 1 0 0 0 -1 * * * * * * * * * 20 0 1 0 * * * 18446744073709551615 * * * * * 0 0 0 0 0 0 0 17 * 0 0 * * * * * * * * * * 0")
    expect(line!.replace("(a (b) c)", "comm").split(" ")).toHaveLength(52)
    // a line without parentheses is left alone
    expect(norm("no comm here\n", "stat")).toEqual(["no comm here", ""])
  })

  it("fdinfo: mnt_id and ino are masked, pos and flags kept", () => {
    expect(norm(SAMPLES[2]!.text, "fdinfo")).toEqual(["pos:\t3", "flags:\t02102002", "mnt_id:\t*", "ino:\t*", ""])
  })

  it("mountinfo: mount ids, devices and peer groups become labels in order of appearance; unlisted or own parents are top", () => {
    expect(norm(SAMPLES[3]!.text, "mountinfo")).toEqual([
      "m0 top d0 / / rw,relatime - tmpfs none rw,mode=755",
      "m1 m0 d1 / /proc rw,relatime - proc proc rw",
      "m2 m0 d2 / /s rw,relatime shared:g1 - tmpfs s rw",
      "m3 m0 d2 /sub /t\\040u rw,relatime master:g1 propagate_from:g2 - tmpfs s rw",
      "m4 top d3 / /u rw,relatime unbindable - tmpfs u rw",
      ""
    ])
    // a line that is not a mountinfo entry stays as it is
    expect(norm("garbage\n", "mountinfo")).toEqual(["garbage", ""])
  })

  it("nul splits at NUL; lines keeps only the items a keep pattern matches", () => {
    expect(norm(SAMPLES[4]!.text, "nul")).toEqual(["python3", "-c", "", ""])
    expect(norm(SAMPLES[5]!.text, "lines", SAMPLES[5]!.keep)).toEqual(["0::/"])
    expect(norm(SAMPLES[6]!.text, "lines", SAMPLES[6]!.keep)).toEqual(["nodev\ttmpfs", "nodev\tproc"])
    expect(norm(SAMPLES[7]!.text, "status", SAMPLES[7]!.keep)).toEqual(["Name:\tx", "NoNewPrivs:\t0", ""])
    expect(norm("", "lines")).toEqual([""])
  })

  it("host-status and host-stat mask the pid fields too, and nothing else beyond status and stat", () => {
    expect(norm(SAMPLES[8]!.text, "host-status")).toEqual([
      "Name:\tx",
      "Tgid:\t*",
      "Ngid:\t0",
      "Pid:\t*",
      "PPid:\t*",
      "TracerPid:\t*",
      "NSpid:\t*",
      "NSsid:\t*",
      "Threads:\t1",
      "VmRSS:\t*",
      ""
    ])
    expect(norm(SAMPLES[8]!.text, "status")).toContain("PPid:\t4200")
    expect(norm(SAMPLES[9]!.text, "host-stat")[0]).toBe("* (x) S * * * 0 * * * * * * * * * * 20 0 1 0 * * * 18446744073709551615 * * * * * 0 0 0 0 0 0 0 17 * 0 0 * * * * * * * * * * 0")
    expect(norm(SAMPLES[9]!.text, "stat")[0]!.startsWith("4242 (x) S 4200 4242 4242 0 -1 ")).toBe(true)
  })

  it("readlink masks the inode number of kind:[N] only", () => {
    expect(normaliseLink("mnt:[4026532177]")).toBe("mnt:[*]")
    expect(normaliseLink("pipe:[12345]")).toBe("pipe:[*]")
    expect(normaliseLink("anon_inode:[pidfd]")).toBe("anon_inode:[pidfd]")
    expect(normaliseLink("/a:[1]/b")).toBe("/a:[1]/b")
    expect(normaliseLink("1/task/1")).toBe("1/task/1")
  })

  it("bad options are scenario errors: an unknown format, keep that is not a list of strings, a pattern that does not compile", () => {
    expect(readFileOptions(undefined, undefined)).toEqual({ format: "lines", keep: undefined })
    expect(readFileOptions(null, null)).toEqual({ format: "lines", keep: undefined })
    expect(readFileOptions("maps", undefined)).toBeInstanceOf(ArgError)
    expect(readFileOptions(3, undefined)).toBeInstanceOf(ArgError)
    expect(readFileOptions("lines", 5)).toBeInstanceOf(ArgError)
    expect(readFileOptions("lines", ["("])).toBeInstanceOf(ArgError)
  })

  it("the Linux runner normalises every sample exactly as simkernel does", () => {
    const program = [
      "import importlib.util, json, sys",
      "spec = importlib.util.spec_from_file_location('r', sys.argv[1])",
      "r = importlib.util.module_from_spec(spec); spec.loader.exec_module(r)",
      "samples, links = json.load(sys.stdin)",
      "out = [r.normalise_file_text(s['text'], *r.read_file_options(s['format'], s.get('keep'))) for s in samples]",
      "print(json.dumps([out, [r.normalise_link(l) for l in links]]))"
    ].join("\n")
    const links = ["mnt:[4026532177]", "anon_inode:[fscontext]", "/f (deleted)"]
    const py = spawnSync("python3", ["-c", program, LINUX_RUNNER], { input: JSON.stringify([SAMPLES, links]), encoding: "utf8" })
    expect(py.status).toBe(0)
    const [texts, targets] = JSON.parse(py.stdout) as [Array<Array<string>>, Array<string>]
    expect(texts).toEqual(SAMPLES.map((s) => norm(s.text, s.format, s.keep)))
    expect(targets).toEqual(links.map(normaliseLink))
    expect(READ_FORMATS).toHaveLength(8)
  })
})

describe("read_file, readlink and chroot on the sched machine", () => {
  const run = (steps: Scenario["steps"]) => runSchedScenario({ name: "t", steps })
  const withProc = (steps: Scenario["steps"]): Scenario["steps"] => [
    { call: "mkdirat", args: ["AT_FDCWD", "/proc", "0555"] },
    { call: "mount", args: ["proc", "/proc", "proc", 0, null] },
    ...steps,
    { call: "umount2", args: ["/proc", 0] }
  ]

  it.effect("errors of the open are the step's errno; a malformed step is a runner_error; nothing leaks", () =>
    Effect.gen(function* () {
      const r = yield* run(
        withProc([
          { call: "read_file", args: ["AT_FDCWD", "/proc/nope"] },
          { call: "read_file", args: ["AT_FDCWD", "/proc"] },
          { call: "read_file", args: [9999, "x"] },
          { call: "read_file", args: ["AT_FDCWD", "/proc/self/comm", "maps"] },
          { call: "read_file", args: ["AT_FDCWD", "/proc/self/comm", "lines", ["("]] },
          { call: "read_file", args: ["AT_FDCWD", null] },
          { call: "readlink", args: ["AT_FDCWD", "/proc/filesystems"] },
          { call: "readlink", args: ["AT_FDCWD", "/nope"] },
          { call: "chroot", args: ["/nope"] }
        ])
      )
      const steps = r.result.steps.slice(2, -1)
      expect(steps.slice(0, 3)).toEqual([
        { call: "read_file", errno: "ENOENT" },
        { call: "read_file", errno: "EISDIR" },
        { call: "read_file", errno: "EBADF" }
      ])
      for (const s of steps.slice(3, 6)) expect(s).toHaveProperty("runner_error")
      expect(steps.slice(6)).toEqual([
        { call: "readlink", errno: "EINVAL" },
        { call: "readlink", errno: "ENOENT" },
        { call: "chroot", errno: "ENOENT" }
      ])
      expect(r.leaks).toBeUndefined()
      expect(r.log).toEqual([])
    })
  )

  it.effect("the scenario process holds descriptors 0, 1 and 2, so its first file is fd 3; read_file leaves no descriptor behind", () =>
    Effect.gen(function* () {
      const r = yield* run(
        withProc([
          { call: "read_file", args: ["AT_FDCWD", "/proc/self/comm"] },
          { call: "openat", args: ["AT_FDCWD", "/f", "O_RDWR|O_CREAT", "0644"], save: "f" },
          { call: "readlink", args: ["AT_FDCWD", "/proc/self/fd/3"] },
          { call: "read_file", args: ["AT_FDCWD", "/proc/self/fdinfo/3", "fdinfo"] },
          { call: "close", args: ["$f"] }
        ])
      )
      expect(r.result.steps.slice(2, -1)).toEqual([
        { call: "read_file", ret: { lines: ["init", ""] } },
        { call: "openat", ret: "fd" },
        { call: "readlink", ret: { target: "/f" } },
        { call: "read_file", ret: { lines: ["pos:\t0", "flags:\t0100002", "mnt_id:\t*", "ino:\t*", ""] } },
        { call: "close", ret: 0 }
      ])
    })
  )

  it.effect("chroot changes what mountinfo and the root link show", () =>
    Effect.gen(function* () {
      const r = yield* run([
        { call: "mkdirat", args: ["AT_FDCWD", "/r", "0755"] },
        { call: "mount", args: ["r", "/r", "tmpfs", 0, null] },
        { call: "mkdirat", args: ["AT_FDCWD", "/r/proc", "0555"] },
        { call: "mount", args: ["proc", "/r/proc", "proc", 0, null] },
        { call: "chroot", args: ["/r"] },
        { call: "read_file", args: ["AT_FDCWD", "/proc/self/mountinfo", "mountinfo"] },
        { call: "readlink", args: ["AT_FDCWD", "/proc/self/root"] },
        { call: "umount2", args: ["/proc", 0] }
      ])
      expect(r.result.steps.slice(4)).toEqual([
        { call: "chroot", ret: 0 },
        { call: "read_file", ret: { lines: ["m0 top d0 / / rw,relatime - tmpfs r rw", "m1 m0 d1 / /proc rw,relatime - proc proc rw", ""] } },
        { call: "readlink", ret: { target: "/" } },
        { call: "umount2", ret: 0 }
      ])
      expect(r.result.tree).toEqual({ "/": "d 1777", "/proc": "d 0555" })
    })
  )
})

describe("conformance/procfs on the sched machine", () => {
  it("covers the whole corpus, and every blocklisted procfs scenario exists", () => {
    expect(scenarios.scenarios.length).toBeGreaterThanOrEqual(25)
    expect(Object.keys(expected.scenarios)).toEqual(scenarios.scenarios.map((s) => s.name))
    for (const name of blocked.keys()) {
      if (name.startsWith("procfs_")) expect(scenarios.scenarios.some((s) => s.name === name)).toBe(true)
    }
  })

  scenarioTests(scenarios, expected, (name) => blocked.get(name))
})
