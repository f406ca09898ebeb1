import { sysError, type SysError } from "@simkernel/abi"

/** clock ids a time namespace offsets (include/uapi/linux/time.h). */
export const CLOCK_MONOTONIC = 1
export const CLOCK_BOOTTIME = 7

/** include/linux/time64.h: KTIME_MAX / NSEC_PER_SEC. */
export const KTIME_SEC_MAX = 9223372036
const NSEC_PER_SEC = 1_000_000_000
const PAGE_SIZE = 4096

export interface Timespec {
  readonly sec: number
  readonly nsec: number
}

export interface TimensOffset {
  readonly clockid: typeof CLOCK_MONOTONIC | typeof CLOCK_BOOTTIME
  readonly offset: Timespec
}

const isSpace = (c: string | undefined): boolean => c !== undefined && " \t\n\v\f\r".includes(c)

/**
 * The kernel's sscanf(line, "%9s %lld %lu"): a clock token of at most nine
 * non-blank characters, then a decimal integer (an optional "-", no "+"),
 * then a decimal unsigned (digits only); blanks between them, anything
 * after the third ignored. Undefined when a conversion fails.
 */
const scanOffsetLine = (line: string): readonly [string, number, number] | undefined => {
  let i = 0
  const skip = (): void => {
    while (isSpace(line[i])) i++
  }
  skip()
  const clockStart = i
  while (i < line.length && i - clockStart < 9 && !isSpace(line[i])) i++
  if (i === clockStart) return undefined
  const clock = line.slice(clockStart, i)
  skip()
  const secStart = i
  if (line[i] === "-") i++
  const secDigits = i
  while (line[i] !== undefined && line[i]! >= "0" && line[i]! <= "9") i++
  if (i === secDigits) return undefined
  const sec = Number(line.slice(secStart, i))
  skip()
  const nsecStart = i
  while (line[i] !== undefined && line[i]! >= "0" && line[i]! <= "9") i++
  if (i === nsecStart) return undefined
  return [clock, sec, Number(line.slice(nsecStart, i))]
}

/**
 * Parse what a write to /proc/PID/timens_offsets carries, as fs/proc/base.c
 * timens_offsets_write(): lines of `<clock> <secs> <nanosecs>`, the clock by
 * name ("monotonic", "boottime") or id (1, 7). A line that does not scan,
 * nanoseconds of a second or more, or an unknown clock is EINVAL, and so is
 * an empty line; whatever follows the second offset is ignored (as the
 * real kernel showed).
 */
export const parseTimensOffsets = (text: string): ReadonlyArray<TimensOffset> | SysError => {
  const einval = sysError("EINVAL", "write", "timens_offsets")
  if (text.length >= PAGE_SIZE) return einval
  const offsets: Array<TimensOffset> = []
  let pos: string | undefined = text
  while (pos !== undefined) {
    const nl: number = pos.indexOf("\n")
    const line: string = nl < 0 ? pos : pos.slice(0, nl)
    pos = nl < 0 || nl === pos.length - 1 ? undefined : pos.slice(nl + 1)
    const scanned = scanOffsetLine(line)
    if (scanned === undefined) return einval
    const [clock, sec, nsec] = scanned
    if (nsec >= NSEC_PER_SEC) return einval
    const clockid =
      clock === "monotonic" || clock === String(CLOCK_MONOTONIC)
        ? CLOCK_MONOTONIC
        : clock === "boottime" || clock === String(CLOCK_BOOTTIME)
          ? CLOCK_BOOTTIME
          : undefined
    if (clockid === undefined) return einval
    offsets.push({ clockid, offset: { sec, nsec } })
    if (offsets.length === 2) break
  }
  return offsets
}

/**
 * The range check of kernel/time/namespace.c proc_timens_set_offset(): the
 * offset itself within ±KTIME_SEC_MAX, and the clock it produces from `now`
 * between 0 and KTIME_SEC_MAX / 2 seconds, else ERANGE.
 */
export const checkTimensOffset = (offset: Timespec, now: Timespec): SysError | undefined => {
  if (offset.sec > KTIME_SEC_MAX || offset.sec < -KTIME_SEC_MAX) return sysError("ERANGE", "write", "timens_offsets")
  let sec = now.sec + offset.sec
  if (now.nsec + offset.nsec >= NSEC_PER_SEC) sec++
  if (sec < 0 || sec > KTIME_SEC_MAX / 2) return sysError("ERANGE", "write", "timens_offsets")
  return undefined
}

const pad = (s: string, width: number, left: boolean): string =>
  s.length >= width ? s : left ? s + " ".repeat(width - s.length) : " ".repeat(width - s.length) + s

/** One line of /proc/PID/timens_offsets: `"%-10s %10lld %9ld\n"` (proc_timens_show_offsets). */
export const formatTimensOffsetLine = (clock: "monotonic" | "boottime", offset: Timespec): string =>
  `${pad(clock, 10, true)} ${pad(String(offset.sec), 10, false)} ${pad(String(offset.nsec), 9, false)}\n`
