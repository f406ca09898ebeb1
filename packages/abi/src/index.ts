export * from "./constants/index.js"
export * from "./errno.js"
export * from "./flags.js"
export * from "./SysError.js"
