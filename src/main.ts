import { EXIT } from './cli/exit.js';
import { main } from './cli/main.js';

// Single-binary entry point (bundled by build.sh).
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = EXIT.failed;
  },
);
