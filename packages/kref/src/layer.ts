import { Context, Layer } from "effect"
import { LiveObjects } from "./LiveObjects.js"

/**
 * The registry every object of one kernel registers in, as a service: the
 * other packages' Layers build their objects into it, and the kernel's
 * leak audit reads it after the last Layer is released.
 */
export class Registry extends Context.Service<Registry, LiveObjects>()("@simkernel/kref/Registry") {
  /** A fresh registry, or `live` when the caller wants to audit one it already holds. */
  static readonly layer = (live?: LiveObjects): Layer.Layer<Registry> => Layer.sync(Registry, () => live ?? new LiveObjects())
}
