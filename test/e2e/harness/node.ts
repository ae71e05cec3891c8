import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { onCleanup } from './cleanup.js';
import { installCniAfterJoin, type CniMode } from './cni.js';
import { attachNode, configureNodeNetwork, createServiceAddress, deleteLink, type Link, type LinkFamily } from './net.js';
import { effectiveSlot, nodesDir, prefix } from './paths.js';
import { copyRootfs, ensureRootfs, suiteOf, type RootfsVariant } from './rootfs.js';
import { sh, waitFor, type ShOptions, type ShResult } from './sh.js';

export interface NodeOptions {
  /** Picks the node's /30 link and its names (paths.ts linkFor). */
  slot: number;
  variant?: RootfsVariant;
  /** The link's families (default IPv4 only). */
  family?: LinkFamily;
  /** A prepared root to copy instead of the cached variant (the fleet bench's golden
   *  image); its /usr is hard-linked, not copied, to boot many nodes from it quickly. */
  rootfs?: string;
  hostname?: string;
  /** Runs on the copied root before the first boot (seed cloud-init, add files). */
  beforeBoot?: (root: string) => Promise<void>;
  /** System calls nspawn's seccomp filter lets through besides its defaults, e.g. '@swap':
   *  nspawn denies swapon/swapoff to the node's services (a real host does not). */
  allowSyscalls?: string[];
  log?: (m: string) => void;
  /** The cluster's CNI reaching the node after its join (cni.ts); default flannel. */
  cni?: CniMode;
}

// nspawn exits with 133 when the container asks for a reboot (systemd-nspawn@.service
// restarts on it); the harness does the same so `systemctl reboot` inside works.
const REBOOT_EXIT = 133;
const NODE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// A booted Debian 12 node: its own root directory, network namespace and systemd.
export class Node {
  readonly name: string;
  readonly dir: string;
  readonly root: string;
  link!: Link;
  pid1 = 0;
  boots = 0;
  private nspawn?: ChildProcess;
  private exited?: Promise<number>;
  private stopping = false;
  private undo?: () => void;
  /** Stops playing install-cni (a scenario that takes the CNI config away itself). */
  stopCni?: () => void;

  private constructor(private readonly opts: NodeOptions) {
    this.name = `${prefix}-${effectiveSlot(opts.slot)}`;
    this.dir = path.join(nodesDir, this.name);
    this.root = path.join(this.dir, 'root');
  }

  // Copies the cached root, makes the link, boots and waits for systemd.
  static async create(opts: NodeOptions): Promise<Node> {
    const n = new Node(opts);
    const log = opts.log ?? (() => {});
    const cached = opts.rootfs ?? (await ensureRootfs(opts.variant ?? 'base', log));
    await raiseInotifyLimits();
    n.undo = onCleanup(`node ${n.name}`, () => n.destroy());
    await n.killLeftover();
    const t = Date.now();
    await copyRootfs(cached, n.root, opts.hostname ?? `worker-${opts.slot}`, opts.variant, opts.rootfs ? ['usr'] : []);
    log(`copied root filesystem in ${((Date.now() - t) / 1000).toFixed(1)}s`);
    await configureNodeNetwork(n.root, opts.slot, opts.family);
    n.link = await createServiceAddress(opts.slot);
    if (opts.beforeBoot) await opts.beforeBoot(n.root);
    // watching before the boot: a join during the first boot (cloud-init) waits for Ready
    n.stopCni = installCniAfterJoin(n.root, opts.cni);
    await n.boot();
    return n;
  }

  // Starts nspawn on the node's directory and waits until systemd finished booting.
  // nspawn makes a new veth each boot (a reboot gets a fresh network stack).
  async boot(): Promise<void> {
    const console = createWriteStream(path.join(this.dir, 'console.log'), { flags: 'a' });
    const child = spawn(
      'systemd-nspawn',
      ['-q', '-D', this.root, '--boot', '--register=no', '--keep-unit', `--machine=${this.link.machine}`, `--network-veth`, '--console=read-only', ...(this.opts.allowSyscalls?.length ? [`--system-call-filter=${this.opts.allowSyscalls.join(' ')}`] : [])],
      // sid's systemd (the Fedora-like node) refuses this host's cgroup v1 hierarchy: give it
      // a cgroup2 of its own, as a Fedora host has
      { stdio: ['ignore', 'pipe', 'pipe'], env: suiteOf(this.opts.variant ?? 'base') === 'sid' ? { ...process.env, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '1' } : process.env },
    );
    // both streams into one file: neither may end it (nspawn can write to stderr after its
    // stdout closed: "write after end" crashed a run booting 20 nodes)
    child.stdout!.pipe(console, { end: false });
    child.stderr!.pipe(console, { end: false });
    child.once('close', () => console.end());
    this.nspawn = child;
    this.exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? (sig ? 128 : -1))));
    await fs.writeFile(path.join(this.dir, 'nspawn.pid'), String(child.pid));
    await attachNode(this.opts.slot, () => child.exitCode === null && child.signalCode === null, this.opts.family);
    void this.exited.then(async (code) => {
      if (code !== REBOOT_EXIT || this.stopping || this.nspawn !== child) return;
      await this.boot().catch((e: Error) => (this.opts.log ?? (() => {}))(`reboot failed: ${e.message}`));
    });
    this.pid1 = await waitFor('the node\'s PID 1 (systemd)', async () => {
      if (child.exitCode !== null) throw Object.assign(new Error(`systemd-nspawn exited ${child.exitCode}: ${await fs.readFile(path.join(this.dir, 'console.log'), 'utf8').catch(() => '')}`), { fatal: true });
      const kids = (await fs.readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean);
      for (const k of kids) if ((await fs.readFile(`/proc/${k}/comm`, 'utf8').catch(() => '')).trim() === 'systemd') return Number(k);
      return undefined;
    }, 30_000, 100);
    const state = await waitFor('systemd to finish booting', async () => {
      // `timeout` inside the node: a boot that never finishes must not leave a systemctl
      // holding our pipe open after nsenter is killed (the harness then waited forever)
      const r = await this.exec(['timeout', '110', 'systemctl', 'is-system-running', '--wait'], { allowFailure: true, timeoutMs: 120_000 });
      const s = r.stdout.trim();
      return ['running', 'degraded'].includes(s) ? s : undefined;
    }, 120_000, 300);
    this.boots++;
    if (state === 'degraded') {
      const failed = await this.exec(['systemctl', '--failed', '--no-legend', '--plain'], { allowFailure: true });
      (this.opts.log ?? (() => {}))(`node booted degraded; failed units: ${failed.stdout.trim().replace(/\n/g, '; ')}`);
    }
  }

  // Runs a command inside every namespace of the node, as root, with the node's PATH.
  // The node's own `timeout` ends the command at the deadline: killing nsenter on this side
  // leaves the command running in the node holding our output pipe, and the wait for that
  // pipe to close never ended (a CI run hung 30 min on `systemctl is-system-running --wait`
  // in a node whose boot had stalled). The host-side timeout stays as a backstop.
  exec(cmd: string[], opts: ShOptions = {}): Promise<ShResult> {
    const timeoutMs = opts.timeoutMs ?? 10 * 60_000; // sh()'s default
    const limit = ['timeout', '-k', '5', String(Math.ceil(timeoutMs / 1000))];
    const env = ['env', '-i', `PATH=${NODE_PATH}`, 'HOME=/root', 'LC_ALL=C', ...Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`)];
    return sh('nsenter', ['-t', String(this.pid1), '-a', '--', ...env, ...limit, ...cmd], { ...opts, env: undefined, timeoutMs: timeoutMs + 15_000 });
  }

  sh(script: string, opts: ShOptions = {}): Promise<ShResult> {
    return this.exec(['sh', '-c', script], opts);
  }

  // Copies a host file into the node (the root is a plain directory on this host).
  async copyIn(hostPath: string, nodePath: string, mode = 0o644): Promise<void> {
    const dest = this.hostPath(nodePath);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.copyFile(hostPath, dest);
    await fs.chmod(dest, mode);
  }

  async writeFile(nodePath: string, content: string, mode = 0o644): Promise<void> {
    const dest = this.hostPath(nodePath);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.writeFile(dest, content, { mode });
    await fs.chmod(dest, mode);
  }

  hostPath(nodePath: string): string {
    return path.join(this.root, nodePath);
  }

  // `systemctl reboot` inside; nspawn exits 133 and boot() runs again on the same root.
  async reboot(): Promise<void> {
    const before = this.boots;
    const old = this.pid1;
    await this.exec(['systemctl', 'reboot'], { allowFailure: true });
    await waitFor('the node to reboot', async () => (this.boots > before && this.pid1 !== old ? true : undefined), 180_000, 300);
  }

  // SIGTERM to nspawn = a clean shutdown of the node's systemd.
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.nspawn;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([this.exited!.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 30_000)))]);
    // a pending timer would keep the test process alive for the full 30 s
    clearTimeout(timer);
    if (!done) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  // Stop, then remove every trace: swap files the node activated (swap is host-global),
  // mounts under its directory, the link, the directory (kept with JOINAGENT_E2E_KEEP=1).
  async destroy(): Promise<void> {
    this.undo?.();
    this.stopCni?.();
    await this.stop();
    await releaseSwapAndMounts(this.dir);
    await deleteLink(this.opts.slot);
    if (process.env.JOINAGENT_E2E_KEEP !== '1') await fs.rm(this.dir, { recursive: true, force: true });
  }

  // A crashed earlier run may have left this node's nspawn running: end it by its
  // recorded pid (only if that pid is still an nspawn on this very directory).
  private async killLeftover(): Promise<void> {
    const pidFile = path.join(this.dir, 'nspawn.pid');
    if (existsSync(pidFile)) {
      const pid = Number(await fs.readFile(pidFile, 'utf8'));
      const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (pid > 0 && cmdline.startsWith('systemd-nspawn') && cmdline.includes(this.root)) {
        process.kill(pid, 'SIGKILL');
        await waitFor('the leftover node to exit', async () => (existsSync(`/proc/${pid}`) ? undefined : true), 10_000, 100);
      }
    }
    await releaseSwapAndMounts(this.dir);
  }
}

// Every booted node's systemd, journald and containerd (its CRI watches /etc/cni/net.d)
// take inotify instances from the host's one per-user budget: the nodes run as the host's
// root. Debian's default of 128 instances ran out with a few nodes up at once, and
// containerd 2.1 then started without its CRI plugin ("failed to create fsnotify watcher:
// too many open files"). Raised as container hosts (kind, k3d) document; never lowered.
async function raiseInotifyLimits(): Promise<void> {
  for (const [key, min] of [['max_user_instances', 8192], ['max_user_watches', 1048576]] as const) {
    const file = `/proc/sys/fs/inotify/${key}`;
    if (Number(await fs.readFile(file, 'utf8')) < min) await fs.writeFile(file, String(min));
  }
}

// /proc/swaps shows a node's swap file by its path inside the node ("/swapfile"), so
// each entry is tried under this node's root; swapoff matches the inode, not the name.
async function releaseSwapAndMounts(dir: string): Promise<void> {
  const swaps = await fs.readFile('/proc/swaps', 'utf8');
  for (const line of swaps.split('\n').slice(1)) {
    const file = line.split(/\s+/)[0];
    if (!file) continue;
    for (const candidate of [file, path.join(dir, 'root', file)]) {
      // regular files under this node only: never a device, never the host's own swap
      if (candidate.startsWith(dir + '/') && existsSync(candidate) && statSync(candidate).isFile()) await sh('swapoff', [candidate], { allowFailure: true });
    }
  }
  const mounts = (await fs.readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1]).filter((m): m is string => Boolean(m?.startsWith(dir + '/')));
  for (const m of mounts.reverse()) await sh('umount', ['-l', m], { allowFailure: true });
}
