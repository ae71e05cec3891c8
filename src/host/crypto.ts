// node:crypto on first use, not at start-up: every command imports the modules that need
// it (CA pins, bootstrap-token signatures, snapshot hashes), few commands ever call them.
export const crypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto');
