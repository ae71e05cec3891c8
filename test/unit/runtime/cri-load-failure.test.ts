import assert from 'node:assert/strict';
import { test } from 'node:test';
import { criLoadFailure, criLoadHint } from '../../../src/runtime/cri-load-failure.js';

// The line containerd 2.1.9 logged in a booted test node whose host had run out of inotify
// instances (the agent then said only "the CRI API is not available").
const LINE =
  'Dec 02 08:38:35 worker-12 containerd[297]: time="2026-12-02T08:38:35.042564415Z" level=warning msg="failed to load plugin" error="failed to create CRI service: failed to create cni conf monitor for default: failed to create fsnotify watcher: couldn\'t initialize inotify: too many open files" id=io.containerd.grpc.v1.cri type=io.containerd.grpc.v1';

test('the CRI plugin\'s own start-up error is found in containerd\'s log, with the next action', () => {
  const journal = ['level=info msg="loading plugin" id=io.containerd.cri.v1.images type=io.containerd.cri.v1', 'level=info msg="skip loading plugin" error="skip plugin: tracing endpoint not configured" id=io.containerd.tracing.processor.v1.otlp', LINE].join('\n');
  const e = criLoadFailure(journal);
  assert.equal(e, "failed to create CRI service: failed to create cni conf monitor for default: failed to create fsnotify watcher: couldn't initialize inotify: too many open files");
  assert.match(criLoadHint(e!) ?? '', /fs\.inotify\.max_user_instances/);
});

test('no CRI plugin failure in the log (CRI disabled by config, or another plugin failed): nothing claimed', () => {
  assert.equal(criLoadFailure('level=warning msg="failed to load plugin" error="x" id=io.containerd.snapshotter.v1.zfs type=io.containerd.snapshotter.v1\n'), undefined);
  assert.equal(criLoadHint('some other reason'), undefined);
});
