import type { NormalisedMount } from "./format.js"

/** One line of /proc/PID/mountinfo, split into its fields (proc(5)). */
export interface MountinfoEntry {
  readonly mountId: number
  readonly parentId: number
  /** "major:minor" of the superblock's device. */
  readonly dev: string
  readonly root: string
  readonly mountpoint: string
  readonly options: string
  /** The optional fields: shared:N, master:N, propagate_from:N, unbindable. */
  readonly optional: ReadonlyArray<string>
  readonly fstype: string
  readonly source: string
  readonly superOptions: string
}

/** Parse mountinfo text; lines that do not have the `-` separator are skipped. */
export const parseMountinfo = (text: string): Array<MountinfoEntry> => {
  const entries: Array<MountinfoEntry> = []
  for (const line of text.split("\n")) {
    if (line === "") continue
    const fields = line.split(" ")
    const sep = fields.indexOf("-", 6)
    if (sep < 0 || fields.length < sep + 4) continue
    entries.push({
      mountId: Number(fields[0]),
      parentId: Number(fields[1]),
      dev: fields[2]!,
      root: fields[3]!,
      mountpoint: fields[4]!,
      options: fields[5]!,
      optional: fields.slice(6, sep),
      fstype: fields[sep + 1]!,
      source: fields[sep + 2]!,
      superOptions: fields.slice(sep + 3).join(" ")
    })
  }
  return entries
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The normalised mount table of FORMAT.md: depth-first from the root mount
 * (a mount whose parent is not in the table), children sorted by mount
 * point, then fstype, source and root; ids `m<position>`; superblocks
 * labelled `sb<n>` and peer groups `g<n>` in order of first appearance.
 */
export const normaliseMountinfo = (entries: ReadonlyArray<MountinfoEntry>): Array<NormalisedMount> => {
  const ids = new Set(entries.map((e) => e.mountId))
  const children = new Map<number, Array<MountinfoEntry>>()
  const roots: Array<MountinfoEntry> = []
  for (const e of entries) {
    if (e.parentId === e.mountId || !ids.has(e.parentId)) roots.push(e)
    else {
      const list = children.get(e.parentId)
      if (list === undefined) children.set(e.parentId, [e])
      else list.push(e)
    }
  }
  const byKey = (a: MountinfoEntry, b: MountinfoEntry): number =>
    cmp(a.mountpoint, b.mountpoint) || cmp(a.fstype, b.fstype) || cmp(a.source, b.source) || cmp(a.root, b.root)
  const ordered: Array<readonly [MountinfoEntry, MountinfoEntry | undefined]> = []
  const visit = (e: MountinfoEntry, parent: MountinfoEntry | undefined): void => {
    ordered.push([e, parent])
    for (const c of (children.get(e.mountId) ?? []).sort(byKey)) visit(c, e)
  }
  for (const r of roots.sort(byKey)) visit(r, undefined)

  const position = new Map(ordered.map(([e], i) => [e.mountId, i]))
  const sbLabels = new Map<string, string>()
  const groupLabels = new Map<string, string>()
  return ordered.map(([e, parent], i) => {
    let sb = sbLabels.get(e.dev)
    if (sb === undefined) sbLabels.set(e.dev, (sb = `sb${sbLabels.size}`))
    const propagation = e.optional.map((field) => {
      const colon = field.indexOf(":")
      if (colon < 0) return field
      const group = field.slice(colon + 1)
      let label = groupLabels.get(group)
      if (label === undefined) groupLabels.set(group, (label = `g${groupLabels.size + 1}`))
      return `${field.slice(0, colon)}:${label}`
    })
    return {
      id: `m${i}`,
      parent: parent === undefined ? null : `m${position.get(parent.mountId)}`,
      mountpoint: e.mountpoint,
      root: e.root,
      fstype: e.fstype,
      source: e.source,
      options: e.options,
      super: e.superOptions,
      sb,
      propagation: propagation.length === 0 ? "private" : propagation.join(" ")
    }
  })
}
