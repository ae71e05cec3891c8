// One list of undo actions for everything the harness creates (nodes, links, servers),
// run in reverse order at the end of a test file, on Ctrl-C and on SIGTERM, so a failed
// or interrupted run leaves no namespaces, veths, mounts or processes behind.
type Undo = () => Promise<void>;
const undos: { what: string; fn: Undo }[] = [];
let installed = false;

export function onCleanup(what: string, fn: Undo): () => void {
  installSignalHandlers();
  const entry = { what, fn };
  undos.push(entry);
  return () => {
    const i = undos.indexOf(entry);
    if (i >= 0) undos.splice(i, 1);
  };
}

export async function cleanupAll(): Promise<void> {
  while (undos.length) {
    const { what, fn } = undos.pop()!;
    const t = Date.now();
    try {
      await fn();
      // slow teardown is time every run pays: say where it goes
      if (Date.now() - t > 3000) process.stderr.write(`e2e cleanup: ${what} took ${((Date.now() - t) / 1000).toFixed(1)}s\n`);
    } catch (e) {
      process.stderr.write(`e2e cleanup: ${what}: ${(e as Error).message}\n`);
    }
  }
}

function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\ne2e: ${sig}: cleaning up...\n`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}
