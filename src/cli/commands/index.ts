import type { Command } from 'commander';
import { registerBundle } from './bundle.js';
import { registerCaHash } from './ca-hash.js';
import { registerDiagnose } from './diagnose.js';
import { registerDiscover } from './discover.js';
import { registerInstall } from './install.js';
import { registerReset } from './reset.js';
import { registerRun } from './run.js';
import { registerSnapshot } from './snapshot.js';
import { registerStatus } from './status.js';
import { registerValidate } from './validate.js';
import { registerVersion } from './version.js';

// Every command module registers itself here; order = order in --help.
export const commands: ((program: Command) => void)[] = [
  registerRun,
  registerValidate,
  registerDiscover,
  registerCaHash,
  registerDiagnose,
  registerStatus,
  registerInstall,
  registerSnapshot,
  registerReset,
  registerBundle,
  registerVersion,
];
