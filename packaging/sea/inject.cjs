'use strict';
// Injects a SEA preparation blob into a copy of a Node binary, as @yao-pkg/pkg's SEA mode
// does (postject's JS API, the same sentinel fuse). build-arm64.sh needs it because pkg
// asks the target runtime for its version by running it, and an arm64 Node cannot run
// on the x86-64 build machine (qemu-user runs it only when invoked explicitly).
// usage: node inject.cjs BASE_NODE BLOB OUT
const fs = require('node:fs');
const { inject } = require('postject');

const [base, blob, out] = process.argv.slice(2);
// built from parts so this file, if ever bundled, does not carry the sentinel itself
const SENTINEL_FUSE = 'NODE_SEA' + '_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

fs.copyFileSync(base, out);
// postject (LIEF) warns about every unnamed .note section of Node's ELF: harmless
const write = process.stderr.write.bind(process.stderr);
process.stderr.write = (chunk, ...rest) => (/^warning: Can't find string offset for section name '\.note/.test(String(chunk)) ? true : write(chunk, ...rest));
inject(out, 'NODE_SEA_BLOB', fs.readFileSync(blob), { sentinelFuse: SENTINEL_FUSE, overwrite: true }).catch((e) => {
  fs.rmSync(out, { force: true });
  console.error(`inject.cjs: ${e.message}`);
  process.exit(1);
});
