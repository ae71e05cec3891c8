#!/usr/bin/env bash
# Checks that a built binary is joinagent and not what a broken SEA injection leaves
# behind (the bare Node runtime, which starts and prints "v22.x"): started with an empty
# environment, `version --json` must name this version and commit, and the V8 code cache
# asset must be present and accepted. One line on stderr says what is wrong.
# Usage: check-binary.sh BINARY VERSION COMMIT [RUNNER]   (RUNNER: e.g. qemu-aarch64-static;
# QEMU_LD_PREFIX, where qemu-user finds the arm64 libc, is passed through when set)
set -uo pipefail
bin=$1 version=$2 commit=$3 runner=${4:-}
fail() { echo "check-binary: $bin: $*" >&2; exit 1; }

[ -x "$bin" ] || fail "missing or not executable"
[ -z "$runner" ] || runner=$(command -v "$runner") || fail "runner '$4' not found"
out=$(timeout 30 env -i PATH=/nonexistent ${QEMU_LD_PREFIX:+QEMU_LD_PREFIX=$QEMU_LD_PREFIX} $runner "$bin" version --json 2>&1); rc=$?
first=$(printf '%s' "$out" | head -n 1)
# The bare runtime takes `version` for a script to run, or answers --version with its own.
if printf '%s' "$out" | grep -q "Cannot find module '.*/version'"; then
  fail "is a bare Node runtime (it tried to run 'version' as a script): the SEA blob was not injected"
fi
case "$first" in
  v[0-9]*) fail "is a bare Node runtime (it printed '$first'): the SEA blob was not injected" ;;
  *"No such asset"*|*"ERR_SEA"*|*"getAsset"*) fail "misses a SEA asset: $first" ;;
esac
[ "$rc" = 0 ] || fail "'version --json' exited $rc: $first"
field() { node -e 'try { const v = JSON.parse(process.argv[1])[process.argv[2]]; process.stdout.write(v === undefined ? "" : String(v)); } catch { process.exit(1); }' "$out" "$1"; }
got_version=$(field version) || fail "'version --json' printed no JSON: $first"
[ "$got_version" = "$version" ] || fail "reports version '$got_version', expected '$version'"
got_commit=$(field commit)
[ "$got_commit" = "$commit" ] || fail "reports commit '$got_commit', expected '$commit'"
cache=$(field codeCache)
case "$cache" in
  used) ;;
  none) fail "misses its code-cache asset (joinagent.cache): start-up would compile every function again" ;;
  rejected) fail "has a code cache V8 rejects (built by another Node or under other V8 flags)" ;;
  *) fail "does not say what became of its code cache ('$cache'): not built by build.sh?" ;;
esac
