// bench/results.json's `summary`: exactly the keys issue 20 lists, numbers only (seconds
// unless the name says otherwise), each taken from the section that measured it in this
// run. A section not run leaves its keys NaN -> null in JSON, never a stale figure.
type Dict = Record<string, unknown>;

export const SUMMARY_KEYS = [
  'noopSeconds',
  'ansibleNoopSeconds',
  'ansibleTasks',
  'firstRunSeconds',
  'packageFloorSeconds',
  'runbookFirstRunSeconds',
  'startupMs',
  'helloStartupMs',
  'idleRssMiB',
  'helloIdleRssMiB',
  'statusRpsDuringFirstRun',
  'statusP99MsDuringFirstRun',
  'fleetNodes',
  'fleetJoined',
  'fleetP95JoinSeconds',
  'singleJoinSeconds',
  'binaryBytes',
] as const;

export type Summary = Record<(typeof SUMMARY_KEYS)[number], number>;

export function summarize(sections: Dict): Summary {
  const s = sections as Record<string, Dict | undefined>;
  const n = (v: unknown): number => (typeof v === 'number' ? v : NaN);
  const noop = s.noopRerun;
  const idle = noop?.idle as Dict | undefined;
  const first = s.firstRun;
  const fp = s.footprint;
  const during = s.statusLoad?.duringFirstRun as Dict | undefined;
  const fleet = s.fleet;
  return {
    noopSeconds: n(noop?.joinagentMedianS),
    ansibleNoopSeconds: n(noop?.ansibleMedianS),
    ansibleTasks: n(noop?.ansibleTasks),
    firstRunSeconds: n(first?.joinagentMedianS),
    packageFloorSeconds: n(first?.aptFloorMedianS),
    runbookFirstRunSeconds: n(first?.runbookMedianS),
    startupMs: n(fp?.startupToStatusMs),
    helloStartupMs: n(fp?.helloWorldStartupMs),
    idleRssMiB: n(idle?.rssMiB),
    helloIdleRssMiB: n(idle?.helloWorldRssMiB),
    statusRpsDuringFirstRun: n(during?.requestsPerSec),
    statusP99MsDuringFirstRun: n(during?.p99Ms),
    fleetNodes: n(fleet?.nodes),
    fleetJoined: n(fleet?.joined),
    fleetP95JoinSeconds: n((fleet?.joinS as Dict | undefined)?.p95),
    singleJoinSeconds: n(fleet?.singleJoinS),
    binaryBytes: n(fp?.binaryBytes),
  };
}
