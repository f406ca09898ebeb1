// The wait queue and the blocking-call answer live in kref, shared with net's sockets.
export { WaitQueue, WouldBlock } from "@simkernel/kref"
