'use strict';
const vm = require('node:vm');

// --bytecode-old-age=1, from 5 s after start: bytecode of functions not run between two
// full GCs is dropped (V8's default waits for 6), so what only start-up or a converge pass
// used is not kept for the idle hours between passes; a later pass compiles it again from
// source. Idle daemon on a joined node: VmRSS 70.6 -> 68.5 MiB. Not from the start: set
// before the bundle runs it cost ~30 ms of start-up (157 -> 187 ms to a served /status),
// and V8 rejects a code cache made under other flags.
exports.setV8Flags = function setV8Flags() {
  setTimeout(() => require('node:v8').setFlagsFromString('--bytecode-old-age=1'), 5000).unref();
};

// Compiles the CommonJS bundle as a function (the same wrapper at build and run time, so
// the cache matches) and calls it; returns the script for createCachedData().
exports.runBundle = function runBundle(source, cachedData, req, filename) {
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  // import() of a built-in (node:sea) goes through Node's default loader, as in a SEA main script
  const script = new vm.Script(wrapped, { filename: 'joinagent.cjs', cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  const cache = cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : 'none';
  // `version --json` reports it: build.sh refuses a binary whose cache V8 did not take
  globalThis[Symbol.for('joinagent.codeCache')] = cache;
  if (process.env.JOINAGENT_DEBUG_CODE_CACHE) process.stderr.write(`code cache ${cache}\n`);
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, req, mod, filename, require('node:path').dirname(filename));
  return script;
};
