'use strict';
// build.sh: runs the bundle once without a cache (argv after the output path: the warm-up
// command) and writes the V8 code cache of everything it compiled, at exit.
const fs = require('node:fs');
const { runBundle } = require('./run-bundle.cjs');

const [bundle, out, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], 'joinagent', ...args];
const script = runBundle(fs.readFileSync(bundle, 'utf8'), undefined, require, process.execPath);
process.on('exit', () => fs.writeFileSync(out, script.createCachedData()));
