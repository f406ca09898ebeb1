import { defineBench } from "@simkernel/bench"
import { AF_UNIX, CLONE_NEWNET, SOCK_STREAM } from "@simkernel/abi"
import { createInitCred, createInitUserNs } from "@simkernel/cred"
import { LiveObjects } from "@simkernel/kref"
import { nsKinds, NsProxy, switchTaskNamespaces, unshareNsproxyNamespaces } from "@simkernel/nsproxy"
import { NetNamespace, netNamespaceOps, sockSocketpair } from "@simkernel/net"

const nativeUnshareNet = `
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <time.h>
int main(void) {
  int n = 2000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) if (unshare(CLONE_NEWNET) != 0) return 2;
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("ns_per_op %f\\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
  return 0;
}
`

const nativeUnixRoundTrip = `
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
int main(void) {
  int sv[2];
  char buf[64] = {0};
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
  int n = 500000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) {
    if (send(sv[0], buf, 64, 0) != 64) return 2;
    if (recv(sv[1], buf, 64, 0) != 64) return 3;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("ns_per_op %f\\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
  return 0;
}
`

export default defineBench("net", (b) => {
  const map = new Map([["k", 1]])
  let sink = 0
  const lookup = (k: string): number => map.get(k) ?? 0
  b.anchor("plain function + Map.get", (n) => {
    for (let i = 0; i < n; i++) sink += lookup("k")
  })
  b.native({ name: "real unshare(CLONE_NEWNET)", source: nativeUnshareNet, needsRoot: true })
  b.native({ name: "real AF_UNIX socketpair send+recv 64 B", source: nativeUnixRoundTrip })

  const live = new LiveObjects()
  const userNs = createInitUserNs({ registry: live })
  const net = NetNamespace.createInit(userNs)
  const task = {
    cred: createInitCred(userNs),
    nsproxy: NsProxy.createInit(userNs, nsKinds({ net: netNamespaceOps }), { net: net.get() }) as NsProxy | undefined
  }

  b.bench(
    "unshare(CLONE_NEWNET): copy_net_ns with lo, switch, old namespace freed",
    (n) => {
      for (let i = 0; i < n; i++) {
        const made = unshareNsproxyNamespaces(CLONE_NEWNET, task.nsproxy!, task.cred, undefined)
        if (made instanceof NsProxy) switchTaskNamespaces(task, made)
      }
    },
    { vs: "real unshare(CLONE_NEWNET)", targetRatio: 0.1 }
  )

  const pair = sockSocketpair(net, task.cred, AF_UNIX, SOCK_STREAM, 0)
  if (pair instanceof Error) throw pair
  const [x, y] = pair
  const msg = new Uint8Array(64)
  b.bench(
    "AF_UNIX socketpair send+recv 64 B",
    (n) => {
      for (let i = 0; i < n; i++) {
        x.sendmsg(msg)
        const r = y.recvmsg(64)
        if (!(r instanceof Error)) sink += 1
      }
    },
    { vs: "real AF_UNIX socketpair send+recv 64 B", targetRatio: 1.0 }
  )
  if (sink === -1) console.log(sink)
})
