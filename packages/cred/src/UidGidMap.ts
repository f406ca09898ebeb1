import { UID_GID_MAP_MAX_BASE_EXTENTS, UID_GID_MAP_MAX_EXTENTS } from "@simkernel/abi"

/** (uid_t)-1: the id make_kuid() and from_kuid() return when there is no mapping. */
export const INVALID_ID = 0xffffffff

/**
 * One line of a map, as struct uid_gid_extent: ids first..first+count-1 of
 * the namespace are lowerFirst.. of the lower id space (the parent's ids
 * as written, kernel ids once installed).
 */
export interface UidGidExtent {
  readonly first: number
  readonly lowerFirst: number
  readonly count: number
}

/** Read access to an id map, as struct uid_gid_map. */
export interface IdMap {
  /** Number of extents; 0 until the map is written. */
  readonly nrExtents: number
  /**
   * The extents in the order /proc shows them: as written for up to
   * UID_GID_MAP_MAX_BASE_EXTENTS, sorted by `first` beyond (Linux then keeps
   * the sorted forward copy only).
   */
  extents(): ReadonlyArray<UidGidExtent>
  /** map_id_range_down(): the lower id of [id, id + count - 1], or INVALID_ID unless one extent holds it all. */
  mapIdRangeDown(id: number, count: number): number
  /** map_id_down(). */
  mapIdDown(id: number): number
  /** map_id_up(): the id whose lower id is `lower`, or INVALID_ID. */
  mapIdUp(lower: number): number
}

/**
 * An id map. It is written once: UserNamespace installs it after map_write()
 * validated it, and it never changes after that.
 */
export class UidGidMap implements IdMap {
  private first: ReadonlyArray<number> = []
  private lower: ReadonlyArray<number> = []
  private count: ReadonlyArray<number> = []
  /** For more than UID_GID_MAP_MAX_BASE_EXTENTS: indexes sorted by lower id (the "reverse" copy). */
  private byLower: ReadonlyArray<number> = []
  private shown: ReadonlyArray<UidGidExtent> = []

  get nrExtents(): number {
    return this.first.length
  }

  extents(): ReadonlyArray<UidGidExtent> {
    return this.shown
  }

  /** Install validated extents (the tail of map_write() and sort_idmaps()). */
  install(extents: ReadonlyArray<UidGidExtent>): void {
    const list =
      extents.length > UID_GID_MAP_MAX_BASE_EXTENTS ? [...extents].sort((a, b) => a.first - b.first) : [...extents]
    this.first = list.map((e) => e.first)
    this.lower = list.map((e) => e.lowerFirst)
    this.count = list.map((e) => e.count)
    this.byLower = list.map((_, i) => i).sort((a, b) => list[a]!.lowerFirst - list[b]!.lowerFirst)
    this.shown = Object.freeze(list.map((e) => Object.freeze({ ...e })))
  }

  mapIdRangeDown(id: number, count: number): number {
    const first = this.first
    const n = first.length
    const last = id + count - 1
    if (n <= UID_GID_MAP_MAX_BASE_EXTENTS) {
      for (let i = 0; i < n; i++) {
        const f = first[i]!
        if (id >= f && last <= f + this.count[i]! - 1) return id - f + this.lower[i]!
      }
      return INVALID_ID
    }
    let lo = 0
    let hi = n - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const f = first[mid]!
      if (id < f) hi = mid - 1
      else if (id > f + this.count[mid]! - 1) lo = mid + 1
      else return last <= f + this.count[mid]! - 1 ? id - f + this.lower[mid]! : INVALID_ID
    }
    return INVALID_ID
  }

  mapIdDown(id: number): number {
    return this.mapIdRangeDown(id, 1)
  }

  mapIdUp(lowerId: number): number {
    const lower = this.lower
    const n = lower.length
    if (n <= UID_GID_MAP_MAX_BASE_EXTENTS) {
      for (let i = 0; i < n; i++) {
        const l = lower[i]!
        if (lowerId >= l && lowerId <= l + this.count[i]! - 1) return lowerId - l + this.first[i]!
      }
      return INVALID_ID
    }
    const order = this.byLower
    let lo = 0
    let hi = n - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const i = order[mid]!
      const l = lower[i]!
      if (lowerId < l) hi = mid - 1
      else if (lowerId > l + this.count[i]! - 1) lo = mid + 1
      else return lowerId - l + this.first[i]!
    }
    return INVALID_ID
  }
}

/** Bytes a single write to uid_map, gid_map or projid_map may hold: less than a page. */
export const MAP_WRITE_MAX = 4096

/** lib/ctype.c isspace(): the C locale's six plus Latin-1 no-break space. */
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0

const skipSpaces = (buf: Uint8Array, pos: number): number => {
  while (isSpace(buf[pos]!)) pos++
  return pos
}

/**
 * simple_strtoul(pos, &end, 10) stored into a u32: decimal digits only, no
 * sign, wrapping silently (the kernel keeps the low 32 bits).
 */
const parseU32 = (buf: Uint8Array, pos: number): readonly [number, number] => {
  let value = 0
  for (;;) {
    const c = buf[pos]!
    if (c < 0x30 || c > 0x39) return [value, pos]
    value = (value * 10 + (c - 0x30)) % 4294967296
    pos++
  }
}

const overlaps = (extents: ReadonlyArray<UidGidExtent>, e: UidGidExtent): boolean => {
  const upperLast = e.first + e.count - 1
  const lowerLast = e.lowerFirst + e.count - 1
  for (const prev of extents) {
    if (prev.first <= upperLast && prev.first + prev.count - 1 >= e.first) return true
    if (prev.lowerFirst <= lowerLast && prev.lowerFirst + prev.count - 1 >= e.lowerFirst) return true
  }
  return false
}

/**
 * The parsing half of kernel/user_namespace.c map_write(): lines of
 * "first lower-first count", fields separated by white space. Returns the
 * extents, or undefined for EINVAL: a malformed line, a count of zero, a
 * range that wraps past 4294967295, an id of 4294967295, overlapping upper
 * or lower ranges, or more than UID_GID_MAP_MAX_EXTENTS lines. `buf` ends
 * at its first NUL, as the kernel's copy of it does.
 */
export const parseIdMap = (bytes: Uint8Array): Array<UidGidExtent> | undefined => {
  const nul = bytes.indexOf(0)
  const len = nul < 0 ? bytes.length : nul
  // One byte more than the text, zero: the C string terminator the kernel scans to.
  const buf = new Uint8Array(len + 1)
  buf.set(bytes.subarray(0, len))
  const extents: Array<UidGidExtent> = []
  let pos: number | undefined = 0
  while (pos !== undefined) {
    let next: number | undefined
    const nl = buf.indexOf(0x0a, pos)
    if (nl >= 0) {
      buf[nl] = 0
      next = buf[nl + 1] === 0 ? undefined : nl + 1
    }
    let first: number
    let lowerFirst: number
    let count: number
    pos = skipSpaces(buf, pos)
    ;[first, pos] = parseU32(buf, pos)
    if (!isSpace(buf[pos]!)) return undefined
    pos = skipSpaces(buf, pos)
    ;[lowerFirst, pos] = parseU32(buf, pos)
    if (!isSpace(buf[pos]!)) return undefined
    pos = skipSpaces(buf, pos)
    ;[count, pos] = parseU32(buf, pos)
    if (buf[pos] !== 0 && !isSpace(buf[pos]!)) return undefined
    pos = skipSpaces(buf, pos)
    if (buf[pos] !== 0) return undefined
    if (first === INVALID_ID || lowerFirst === INVALID_ID) return undefined
    // u32 arithmetic: a zero count, or a range running past 4294967295, wraps to <= first.
    if ((first + count) % 4294967296 <= first) return undefined
    if ((lowerFirst + count) % 4294967296 <= lowerFirst) return undefined
    const extent = { first, lowerFirst, count }
    if (overlaps(extents, extent)) return undefined
    if (extents.length + 1 === UID_GID_MAP_MAX_EXTENTS && next !== undefined) return undefined
    extents.push(extent)
    pos = next
  }
  return extents.length === 0 ? undefined : extents
}
