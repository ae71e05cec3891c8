'use strict';
// The SEA entry point: runs the bundle (a SEA asset) with a V8 code cache that build.sh
// took after a warm-up run. SEA's own useCodeCache only holds what V8 compiles before the
// bundle runs (top-level code), so every function called at start-up was compiled again
// on each start; this cache also holds those. A cache V8 rejects (other Node build) only
// costs the compile.
const sea = require('node:sea');
const { runBundle } = require('./run-bundle.cjs');

runBundle(sea.getAsset('joinagent.cjs', 'utf8'), Buffer.from(sea.getAsset('joinagent.cache')), require, process.execPath);
