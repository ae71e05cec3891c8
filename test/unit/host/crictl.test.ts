import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { crictlStep, renderCrictlYaml } from '../../../src/steps/host/crictl.js';
import { FakeProc, stepContext, tempRoot, testConfig } from '../../helpers/fakes.js';
import { runTwice } from './run-twice.js';

const SOCK = 'unix:///run/containerd/containerd.sock';

describe('crictl: renderCrictlYaml', () => {
  const table: [string, string | null, string][] = [
    ['no file', null, `runtime-endpoint: ${SOCK}\nimage-endpoint: ${SOCK}\n`],
    ['other settings and comments kept', `# mine\nruntime-endpoint: unix:///var/run/dockershim.sock\ntimeout: 10\ndebug: true\n`, `# mine\nruntime-endpoint: ${SOCK}\ntimeout: 10\ndebug: true\nimage-endpoint: ${SOCK}\n`],
    ['already right: byte for byte unchanged', `image-endpoint: ${SOCK}\nruntime-endpoint: ${SOCK}   # set by hand\n`, `image-endpoint: ${SOCK}\nruntime-endpoint: ${SOCK}   # set by hand\n`],
    ['garbage replaced', ': : :\n\t- [', `runtime-endpoint: ${SOCK}\nimage-endpoint: ${SOCK}\n`],
  ];
  for (const [name, current, want] of table) it(name, () => assert.equal(renderCrictlYaml(current, SOCK), want));
});

describe('crictl step', () => {
  it('writes /etc/crictl.yaml from the JoinConfiguration criSocket; second run ok', async () => {
    const t = tempRoot();
    after(t.cleanup);
    const config = testConfig();
    config.join.criSocket = 'unix:///run/k3s/containerd/containerd.sock';
    const proc = new FakeProc();
    await runTwice(crictlStep, stepContext(t.files, proc, config), proc);
    assert.equal(await t.files.read('/etc/crictl.yaml'), 'runtime-endpoint: unix:///run/k3s/containerd/containerd.sock\nimage-endpoint: unix:///run/k3s/containerd/containerd.sock\n');
  });
});
