export { type Hook, type HookTable, LsmRegistry, type SecurityModule } from "./LsmRegistry.js"
export { type ContainerHooks, containerPolicy, type ContainerPolicyOptions, type ContainerSubject } from "./containerPolicy.js"
