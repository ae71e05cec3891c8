'use strict';
const vm = require('node:vm');

// V8 flags, set before anything is compiled, by the binary and by build.sh's warm-up alike
// (V8 rejects a code cache made under other flags).
// --bytecode-old-age=1: bytecode of functions not run between two full GCs is dropped
// (V8's default waits for 6), so what only start-up or a converge pass used is not kept
// for the idle hours between passes; a later pass compiles it again from source. Measured
// on a joined node: daemon idle RSS 70.6 -> 68.5 MiB. Start-up runs no full GC.
exports.setV8Flags = function setV8Flags() {
  require('node:v8').setFlagsFromString('--bytecode-old-age=1');
};

// Compiles the CommonJS bundle as a function (the same wrapper at build and run time, so
// the cache matches) and calls it; returns the script for createCachedData().
exports.runBundle = function runBundle(source, cachedData, req, filename) {
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  // import() of a built-in (node:sea) goes through Node's default loader, as in a SEA main script
  const script = new vm.Script(wrapped, { filename: 'joinagent.cjs', cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  if (process.env.JOINAGENT_DEBUG_CODE_CACHE) process.stderr.write(`code cache ${cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : 'none'}\n`);
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, req, mod, filename, require('node:path').dirname(filename));
  return script;
};
