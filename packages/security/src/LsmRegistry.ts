import { sysError, type SysError } from "@simkernel/abi"

/** A hook: it answers undefined to allow, or the SysError that refuses. */
export type Hook = (...args: never[]) => SysError | undefined

/** The hooks a kernel offers, by Linux's hook name (container_alloc, sb_mount, task_kill, ...). */
export type HookTable = { readonly [name: string]: Hook }

/** A security module: its name, as /sys/kernel/security/lsm lists it, and the hooks it implements. */
export interface SecurityModule<H extends HookTable> {
  readonly name: string
  readonly hooks: Partial<H>
}

/**
 * The LSM framework of security/security.c: modules stacked in the order
 * they were registered; each hook call asks every module that implements
 * the hook, in that order, and the first refusal wins (call_int_hook()).
 * Hook lists are kept per hook, as security_hook_heads is, so a call costs
 * nothing for modules that do not implement it.
 */
export class LsmRegistry<H extends HookTable> {
  private readonly modules: Array<SecurityModule<H>> = []
  private readonly heads = new Map<keyof H, Array<Hook>>()

  /** security_add_hooks(): stack a module; a second module of the same name is EEXIST. */
  register(module: SecurityModule<H>): SysError | undefined {
    if (this.modules.some((m) => m.name === module.name)) return sysError("EEXIST", undefined, `LSM ${module.name} is already registered`)
    this.modules.push(module)
    for (const name of Object.keys(module.hooks) as Array<keyof H>) {
      const hook = module.hooks[name] as Hook | undefined
      if (hook === undefined) continue
      const list = this.heads.get(name)
      if (list === undefined) this.heads.set(name, [hook])
      else list.push(hook)
    }
    return undefined
  }

  /** call_int_hook(): undefined when every module allows, else the first refusal. */
  callInt<K extends keyof H>(hook: K, ...args: Parameters<H[K]>): SysError | undefined {
    const list = this.heads.get(hook)
    if (list === undefined) return undefined
    for (const fn of list) {
      const r = (fn as (...a: Parameters<H[K]>) => SysError | undefined)(...args)
      if (r !== undefined) return r
    }
    return undefined
  }

  /** call_void_hook(): tell every module (container_free, task_free, ...); their answers are ignored. */
  callVoid<K extends keyof H>(hook: K, ...args: Parameters<H[K]>): void {
    const list = this.heads.get(hook)
    if (list === undefined) return
    for (const fn of list) (fn as (...a: Parameters<H[K]>) => unknown)(...args)
  }

  /** Does any module implement `hook`? */
  has(hook: keyof H): boolean {
    return this.heads.has(hook)
  }

  /** The stacked modules, comma separated, as /sys/kernel/security/lsm shows them. */
  get lsm(): string {
    return this.modules.map((m) => m.name).join(",")
  }
}
