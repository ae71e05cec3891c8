import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pullToLayout } from '../../../src/bundle/oci-pull.js';
import { tempRoot, testConfig } from '../../helpers/fakes.js';

// A registry that sends more than a descriptor declares must not fill the bundle
// builder's memory: the pull fails naming the URL, and an honest one still works.
const digest = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const layer = Buffer.from('layer bytes');
const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
let oversized = false;
let srv: http.Server;
let port = 0;

function manifest(): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digest(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digest(layer), size: layer.length }],
  }));
}

before(async () => {
  srv = http.createServer((req, res) => {
    if (req.url?.includes('/manifests/')) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      return res.end(manifest());
    }
    if (req.url?.endsWith(digest(config))) return res.end(config);
    if (req.url?.endsWith(digest(layer))) {
      if (!oversized) return res.end(layer);
      // chunked, no Content-Length: only counting the bytes can stop it
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 1);
      let sent = 0;
      const more = (): void => {
        while (sent < 64 << 20) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('close', () => (sent = Infinity));
      return more();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  port = (srv.address() as { port: number }).port;
});
after(() => srv.close());

function pull(layout: string, files: ReturnType<typeof tempRoot>['files']) {
  const cfg = testConfig({ containerd: { source: 'distro', registryMirrors: { 'registry.k8s.io': [`http://127.0.0.1:${port}`] } } });
  return pullToLayout('registry.k8s.io/pause:3.10', layout, { config: cfg, files, arch: 'x64', signal: AbortSignal.timeout(30_000), progress: () => undefined });
}

test('oci pull: an honest registry gives an OCI layout with every blob', async () => {
  oversized = false;
  const t = tempRoot();
  try {
    const r = await pull('/layout', t.files);
    assert.equal(r.endpoint, `http://127.0.0.1:${port}`);
    assert.ok(existsSync(path.join(t.root, 'layout/blobs/sha256', digest(layer).slice(7))));
  } finally {
    t.cleanup();
  }
});

test('oci pull: a blob larger than its descriptor says is cut off with an error naming it', async () => {
  oversized = true;
  const t = tempRoot();
  try {
    await assert.rejects(pull('/layout', t.files), (e: Error) => {
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}/v2/pause/blobs/${digest(layer)}: the answer is larger than ${layer.length} bytes`));
      return true;
    });
    assert.equal(existsSync(path.join(t.root, 'layout/blobs/sha256', digest(layer).slice(7))), false, 'nothing of it written');
  } finally {
    t.cleanup();
  }
});
