import type { NativeAnchor } from "./index.js"

/** The real kernel's fork() + _exit(0) + waitpid(), one process at a time: the anchor for the simulated fork paths. */
export const nativeForkWait: NativeAnchor = {
  name: "real fork+_exit+waitpid",
  source: `
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(void) {
  int n = 2000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) _exit(0);
    int status;
    if (waitpid(pid, &status, 0) != pid) return 2;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("ns_per_op %f\\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
  return 0;
}
`
}
