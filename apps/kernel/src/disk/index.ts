// The kernel's disks: the image format, block devices, the ext4 filesystem type, mkfs and --disk.
export * from "./attach.js"
export * from "./BlockDevice.js"
export * from "./ext4.js"
export * from "./image.js"
export * from "./mkfs.js"
