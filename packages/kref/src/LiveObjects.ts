/**
 * A registry of every live kernel object, for the leak audit that ends each
 * test and each kernel shutdown (gVisor's refs leak check plays this role).
 */
export interface LiveObject {
  /** Type name shown in the leak report, e.g. "Mount" or "Cred". */
  readonly kind: string
  /** Serial number, unique within its registry. */
  readonly serial: number
  /** Where it was made: a label from its creator, or a stack when origins are captured. */
  readonly origin: string | undefined
  /** References currently held on it. */
  count(): number
}

export interface Survivor {
  readonly kind: string
  readonly serial: number
  readonly refs: number
  readonly origin: string | undefined
}

export class LiveObjects {
  /** The registry used when a constructor is given none. */
  static readonly default = new LiveObjects()

  private readonly live = new Set<LiveObject>()
  private nextSerial = 1
  /** Capture a stack for every new object (slow: for debugging a leak). */
  captureOrigins = false

  /** Next serial number; called once by each new object. */
  allocSerial(): number {
    return this.nextSerial++
  }

  originFor(label: string | undefined): string | undefined {
    if (!this.captureOrigins) return label
    const stack = new Error().stack?.split("\n").slice(3, 8).join("\n")
    return label === undefined ? stack : `${label}\n${stack}`
  }

  add(obj: LiveObject): void {
    this.live.add(obj)
  }

  remove(obj: LiveObject): void {
    this.live.delete(obj)
  }

  /** Number of live objects, of one kind or of all. */
  size(kind?: string): number {
    if (kind === undefined) return this.live.size
    let n = 0
    for (const o of this.live) if (o.kind === kind) n++
    return n
  }

  /** Live objects by kind, sorted by kind name. */
  countsByKind(): ReadonlyArray<readonly [string, number]> {
    const counts = new Map<string, number>()
    for (const o of this.live) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1)
    return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  }

  survivors(): ReadonlyArray<Survivor> {
    return [...this.live]
      .sort((a, b) => a.serial - b.serial)
      .map((o) => ({ kind: o.kind, serial: o.serial, refs: o.count(), origin: o.origin }))
  }

  /** The leak audit as people read it: "leak audit: 0 live objects", or one line per survivor. */
  report(): string {
    const survivors = this.survivors()
    if (survivors.length === 0) return "leak audit: 0 live objects"
    const lines = [`leak audit: ${survivors.length} live object${survivors.length === 1 ? "" : "s"}`]
    for (const s of survivors) {
      const origin = s.origin === undefined ? "" : ` made at ${s.origin.split("\n").join("\n    ")}`
      lines.push(`  ${s.kind}#${s.serial} refs=${s.refs}${origin}`)
    }
    return lines.join("\n")
  }

  /** Forget every object (after a failed audit, so the next test starts clean). */
  clear(): void {
    this.live.clear()
  }
}
