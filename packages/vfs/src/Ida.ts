/**
 * An id allocator that always hands out the lowest free id, as lib/idr.c
 * ida_alloc_range(): mount ids, peer group ids and anonymous device minors
 * are all allocated this way, so a freed id is the next one reused.
 */
export class Ida {
  private readonly words: Array<number> = []
  /** Every word below this index is full. */
  private hint = 0

  constructor(
    readonly min: number,
    readonly max: number
  ) {}

  /** The lowest free id, or undefined when all are taken. */
  alloc(): number | undefined {
    const words = this.words
    for (let w = this.hint; ; w++) {
      const word = w < words.length ? words[w]! : 0
      if (word === -1) continue
      const bit = 31 - Math.clz32(~word & (word + 1))
      const id = this.min + w * 32 + bit
      if (id > this.max) return undefined
      while (words.length <= w) words.push(0)
      words[w] = word | (1 << bit)
      this.hint = w
      return id
    }
  }

  free(id: number): void {
    const off = id - this.min
    const w = off >>> 5
    if (w >= this.words.length) return
    this.words[w] = this.words[w]! & ~(1 << (off & 31))
    if (w < this.hint) this.hint = w
  }

  inUse(id: number): boolean {
    const off = id - this.min
    const w = off >>> 5
    return w < this.words.length && (this.words[w]! & (1 << (off & 31))) !== 0
  }
}
