'use strict';
const vm = require('node:vm');

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
