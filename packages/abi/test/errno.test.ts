import { describe, expect, it } from "@effect/vitest"
import { ERRNO, ERRNO_ALIASES, errnoCanonical, errnoName, errnoNumber, parseErrno, strerror } from "../src/index.js"

// [name, number, glibc strerror()] as glibc 2.36 on x86_64 prints them.
const SAMPLE: ReadonlyArray<readonly [string, number, string]> = [
  ["EPERM", 1, "Operation not permitted"],
  ["ENOENT", 2, "No such file or directory"],
  ["ESRCH", 3, "No such process"],
  ["EINTR", 4, "Interrupted system call"],
  ["EIO", 5, "Input/output error"],
  ["ENXIO", 6, "No such device or address"],
  ["E2BIG", 7, "Argument list too long"],
  ["ENOEXEC", 8, "Exec format error"],
  ["EBADF", 9, "Bad file descriptor"],
  ["ECHILD", 10, "No child processes"],
  ["EAGAIN", 11, "Resource temporarily unavailable"],
  ["ENOMEM", 12, "Cannot allocate memory"],
  ["EACCES", 13, "Permission denied"],
  ["EFAULT", 14, "Bad address"],
  ["ENOTBLK", 15, "Block device required"],
  ["EBUSY", 16, "Device or resource busy"],
  ["EEXIST", 17, "File exists"],
  ["EXDEV", 18, "Invalid cross-device link"],
  ["ENODEV", 19, "No such device"],
  ["ENOTDIR", 20, "Not a directory"],
  ["EISDIR", 21, "Is a directory"],
  ["EINVAL", 22, "Invalid argument"],
  ["ENFILE", 23, "Too many open files in system"],
  ["EMFILE", 24, "Too many open files"],
  ["ENOTTY", 25, "Inappropriate ioctl for device"],
  ["ETXTBSY", 26, "Text file busy"],
  ["EFBIG", 27, "File too large"],
  ["ENOSPC", 28, "No space left on device"],
  ["ESPIPE", 29, "Illegal seek"],
  ["EROFS", 30, "Read-only file system"],
  ["EMLINK", 31, "Too many links"],
  ["EPIPE", 32, "Broken pipe"],
  ["ERANGE", 34, "Numerical result out of range"],
  ["EDEADLK", 35, "Resource deadlock avoided"],
  ["ENAMETOOLONG", 36, "File name too long"],
  ["ENOSYS", 38, "Function not implemented"],
  ["ENOTEMPTY", 39, "Directory not empty"],
  ["ELOOP", 40, "Too many levels of symbolic links"],
  ["ENOMSG", 42, "No message of desired type"],
  ["EIDRM", 43, "Identifier removed"],
  ["ENODATA", 61, "No data available"],
  ["ENOLINK", 67, "Link has been severed"],
  ["EPROTO", 71, "Protocol error"],
  ["EOVERFLOW", 75, "Value too large for defined data type"],
  ["EBADFD", 77, "File descriptor in bad state"],
  ["EILSEQ", 84, "Invalid or incomplete multibyte or wide character"],
  ["EUSERS", 87, "Too many users"],
  ["ENOTSOCK", 88, "Socket operation on non-socket"],
  ["EMSGSIZE", 90, "Message too long"],
  ["EPROTONOSUPPORT", 93, "Protocol not supported"],
  ["EOPNOTSUPP", 95, "Operation not supported"],
  ["EAFNOSUPPORT", 97, "Address family not supported by protocol"],
  ["EADDRINUSE", 98, "Address already in use"],
  ["ECONNREFUSED", 111, "Connection refused"],
  ["ENOTCONN", 107, "Transport endpoint is not connected"],
  ["ETIMEDOUT", 110, "Connection timed out"],
  ["ESTALE", 116, "Stale file handle"],
  ["EUCLEAN", 117, "Structure needs cleaning"],
  ["EDQUOT", 122, "Disk quota exceeded"],
  ["ECANCELED", 125, "Operation canceled"],
  ["ENOKEY", 126, "Required key not available"],
  ["EKEYEXPIRED", 127, "Key has expired"],
  ["EKEYREVOKED", 128, "Key has been revoked"],
  ["EKEYREJECTED", 129, "Key was rejected by service"],
  ["EOWNERDEAD", 130, "Owner died"],
  ["ENOTRECOVERABLE", 131, "State not recoverable"],
  ["ERFKILL", 132, "Operation not possible due to RF-kill"],
  ["EHWPOISON", 133, "Memory page has hardware error"]
]

describe("errno table", () => {
  it("has every Linux errno from EPERM to EHWPOISON except the unused 41 and 58", () => {
    const numbers = Object.values(ERRNO).map((e) => e.errno).sort((a, b) => a - b)
    const expected = Array.from({ length: 133 }, (_, i) => i + 1).filter((n) => n !== 41 && n !== 58)
    expect(numbers).toEqual(expected)
    for (const [name, entry] of Object.entries(ERRNO)) expect(entry.name).toBe(name)
  })

  it("gives number, name and strerror text for a sample", () => {
    expect(SAMPLE.length).toBeGreaterThanOrEqual(40)
    for (const [name, errno, message] of SAMPLE) {
      const entry = ERRNO[name as keyof typeof ERRNO]
      expect(entry, name).toEqual({ name, errno, message })
      expect(errnoNumber(name as keyof typeof ERRNO)).toBe(errno)
      expect(errnoName(errno)).toBe(name)
      expect(strerror(name as keyof typeof ERRNO)).toBe(message)
      expect(strerror(errno)).toBe(message)
    }
  })

  it("resolves aliases to the canonical entry", () => {
    expect(ERRNO_ALIASES).toEqual({ EWOULDBLOCK: "EAGAIN", EDEADLOCK: "EDEADLK", ENOTSUP: "EOPNOTSUPP" })
    expect(errnoNumber("EWOULDBLOCK")).toBe(11)
    expect(errnoNumber("EDEADLOCK")).toBe(35)
    expect(errnoNumber("ENOTSUP")).toBe(95)
    expect(errnoCanonical("ENOTSUP")).toBe("EOPNOTSUPP")
    expect(errnoCanonical("EINVAL")).toBe("EINVAL")
    expect(strerror("EWOULDBLOCK")).toBe("Resource temporarily unavailable")
    expect(errnoName(11)).toBe("EAGAIN")
    expect(errnoName(35)).toBe("EDEADLK")
    expect(errnoName(95)).toBe("EOPNOTSUPP")
    expect(Object.hasOwn(ERRNO, "ENOTSUP")).toBe(false)
  })

  it("parses names from text, aliases included", () => {
    expect(parseErrno("EBUSY")).toBe("EBUSY")
    expect(parseErrno("ENOTSUP")).toBe("EOPNOTSUPP")
    expect(parseErrno("EFOO")).toBeUndefined()
    expect(parseErrno("toString")).toBeUndefined()
  })

  it("prints unknown numbers as glibc does", () => {
    expect(strerror(0)).toBe("Success")
    expect(strerror(41)).toBe("Unknown error 41")
    expect(strerror(58)).toBe("Unknown error 58")
    expect(strerror(134)).toBe("Unknown error 134")
    expect(strerror(-1)).toBe("Unknown error -1")
    expect(errnoName(41)).toBeUndefined()
    expect(errnoName(0)).toBeUndefined()
  })
})
