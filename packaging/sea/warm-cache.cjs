'use strict';
// build.sh: runs the bundle once without a cache (argv after the output path: the warm-up
// command) and writes the V8 code cache of everything it compiled, at exit.
const fs = require('node:fs');
const { runBundle } = require('./run-bundle.cjs');

const [bundle, out, ...args] = process.argv.slice(2);

// JOINAGENT_WARM_CRI=SOCKET: a stand-in CRI endpoint (gRPC over HTTP/2 on a unix socket)
// that answers every call with an empty message, so the warm-up also compiles the gRPC
// client the images check loads on every real run (~30 ms of a no-op run otherwise).
if (process.env.JOINAGENT_WARM_CRI) {
  const http2 = require('node:http2');
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(Buffer.alloc(5)); // uncompressed, length 0: an empty protobuf message
  });
  fs.mkdirSync(require('node:path').dirname(process.env.JOINAGENT_WARM_CRI), { recursive: true });
  server.listen(process.env.JOINAGENT_WARM_CRI).unref();
}
process.argv = [process.argv[0], 'joinagent', ...args];
const script = runBundle(fs.readFileSync(bundle, 'utf8'), undefined, require, process.execPath);
process.on('exit', () => fs.writeFileSync(out, script.createCachedData()));
