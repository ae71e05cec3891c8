// Replaced at bundle time by build.sh (esbuild --define); the fallbacks serve tsx runs.
declare const JOINAGENT_VERSION: string | undefined;
declare const JOINAGENT_COMMIT: string | undefined;

export const VERSION: string = typeof JOINAGENT_VERSION === 'string' ? JOINAGENT_VERSION : '0.0.0-dev';
export const COMMIT: string = typeof JOINAGENT_COMMIT === 'string' ? JOINAGENT_COMMIT : 'dev';
