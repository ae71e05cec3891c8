#!/usr/bin/env bash
# Makes the root the code-cache warm-up runs `plan` against (build.sh, build-arm64.sh):
# what every real run reads, i.e. a Debian os-release and containerd's default config
# (TOML parse and render). The CRI socket is served by warm-cache.cjs itself.
# usage: warm-root.sh DIR   (DIR must not exist yet or be empty: a stale socket would
# keep warm-cache.cjs from listening)
set -euo pipefail
root=$1
mkdir -p "$root/etc/containerd"
printf 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"\n' > "$root/etc/os-release"
cp "$(dirname "$0")/../../test/fixtures/containerd/default-1.6.toml" "$root/etc/containerd/config.toml"
