'use strict';
// The SEA entry point: runs the bundle (a SEA asset) with a V8 code cache that build.sh
// took after a warm-up run. SEA's own useCodeCache only holds what V8 compiles before the
// bundle runs (top-level code), so every function called at start-up was compiled again
// on each start; this cache also holds those. A cache V8 rejects (other Node build) only
// costs the compile.
const { runBundle, setV8Flags } = require('./run-bundle.cjs');

setV8Flags();
const sea = require('node:sea');

// The bundle is ASCII (build.sh makes sure): latin1 is a plain copy, UTF-8 decoding is not.
runBundle(Buffer.from(sea.getAsset('joinagent.cjs')).toString('latin1'), Buffer.from(sea.getAsset('joinagent.cache')), require, process.execPath);
