import { defineBench } from "@simkernel/bench"
import { CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWTIME, CLONE_NEWUTS } from "@simkernel/abi"
import { createInitCred, createInitUserNs } from "@simkernel/cred"
import { LiveObjects } from "@simkernel/kref"
import {
  nsKinds,
  NsProxy,
  NsSetTransaction,
  openNamespace,
  setnsNamespace,
  switchTaskNamespaces,
  unshareNsproxyNamespaces
} from "@simkernel/nsproxy"

const nativeSetns = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
int main(void) {
  int fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 1;
  int n = 200000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) if (setns(fd, CLONE_NEWUTS) != 0) return 2;
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("ns_per_op %f\\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
  return 0;
}
`

const nativeUnshare = `
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <time.h>
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif
int main(void) {
  int n = 5000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++)
    if (unshare(CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWTIME) != 0) return 2;
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("ns_per_op %f\\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
  return 0;
}
`

export default defineBench("nsproxy", (b) => {
  const map = new Map([["k", 1]])
  let sink = 0
  const lookup = (k: string): number => map.get(k) ?? 0
  b.anchor("plain function + Map.get", (n) => {
    for (let i = 0; i < n; i++) sink += lookup("k")
  })
  b.native({ name: "real setns(uts fd)", source: nativeSetns, needsRoot: true })
  b.native({ name: "real unshare(uts|ipc|cgroup|time)", source: nativeUnshare, needsRoot: true })

  const live = new LiveObjects()
  const userNs = createInitUserNs({ registry: live })
  const task = { cred: createInitCred(userNs), nsproxy: NsProxy.createInit(userNs, nsKinds()) as NsProxy | undefined }
  const flags = CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWTIME

  b.bench(
    "unshare(uts|ipc|cgroup|time): new NsProxy, switch, old freed",
    (n) => {
      for (let i = 0; i < n; i++) {
        const made = unshareNsproxyNamespaces(flags, task.nsproxy!, task.cred, undefined)
        if (made instanceof NsProxy) switchTaskNamespaces(task, made)
      }
    },
    { targetNs: 2000 }
  )

  const file = openNamespace(task.nsproxy!.uts)
  const caller = { get nsproxy() { return task.nsproxy! }, cred: task.cred, fsUsers: 1, threads: 1 }
  b.bench(
    "setns(nsfs fd of a uts namespace)",
    (n) => {
      for (let i = 0; i < n; i++) {
        const tx = setnsNamespace(caller, file.ns, CLONE_NEWUTS)
        if (tx instanceof NsSetTransaction) tx.commit(task)
      }
    },
    { targetNs: 1000 }
  )
  if (sink === -1) console.log(sink)
})
