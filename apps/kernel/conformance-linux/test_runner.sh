#!/usr/bin/env bash
# Real-kernel conformance test: replays the four scenario corpora under
# conformance/ on the running Linux kernel with simkernel_linux.py and
# compares them with their recordings. Exits non-zero on any mismatch.
# Skips (exit 0, with a message) where the runner cannot run: not root,
# not Linux, not x86_64, or no python3.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
runner="$here/simkernel_linux.py"
corpus="$root/conformance"

if [ "$(uname -s)" != "Linux" ] || [ "$(uname -m)" != "x86_64" ]; then
  echo "conformance-linux: skipped (needs Linux on x86_64, this is $(uname -s) $(uname -m))"
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "conformance-linux: skipped (needs root to create namespaces)"
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "conformance-linux: skipped (no python3)"
  exit 0
fi

status=0
for set in shared vfs proc procfs container/linux; do
  echo "== conformance/$set"
  python3 "$runner" check "$corpus/$set/scenarios.json" \
    --expected "$corpus/$set/expected.json"
  rc=$?
  if [ $rc -ne 0 ]; then
    echo "conformance/$set: FAILED (exit $rc)"
    status=1
  fi
done

# Calls Linux lacks must be answered with ENOSYS, step by step.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/ext.json" <<'JSON'
{"format": 1, "description": "runner self-test", "scenarios": [
 {"name": "ext_container_calls_enosys", "tags": [], "refs": [], "note": "", "steps": [
  {"call": "container_create", "args": ["c", "CONTAINER_NEW_PID_NS", 0, 0, 0], "save": "cfd"},
  {"call": "fork_into_container", "args": ["$cfd"], "child": [{"call": "getpid"}]},
  {"call": "container_wait", "args": ["$cfd", 0]},
  {"call": "container_kill", "args": ["$cfd", 1, "SIGKILL"]},
  {"call": "container_socket", "args": ["$cfd", "AF_UNIX", "SOCK_STREAM", 0]},
  {"call": "poll", "args": ["$cfd"]}]}]}
JSON
cat > "$tmp/ext-expected.json" <<'JSON'
{"scenarios": {"ext_container_calls_enosys": {
 "steps": [{"call": "container_create", "errno": "ENOSYS"}, {"call": "fork_into_container", "errno": "ENOSYS"},
           {"call": "container_wait", "errno": "ENOSYS"}, {"call": "container_kill", "errno": "ENOSYS"},
           {"call": "container_socket", "errno": "ENOSYS"}, {"call": "poll", "ret": {"revents": []}}],
 "mounts": [{"id": "m0", "parent": null, "mountpoint": "/", "root": "/", "fstype": "tmpfs", "source": "none",
             "options": "rw,relatime", "super": "rw,mode=755", "sb": "sb0", "propagation": "private"}],
 "tree": {"/": "d 0755"}}}}
JSON
echo "== extensions (ENOSYS for container calls)"
python3 "$runner" check "$tmp/ext.json" --expected "$tmp/ext-expected.json" || status=1

exit $status
