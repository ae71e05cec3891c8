// A strict parser for the Prometheus text exposition format 0.0.4, for tests: it throws on
// anything Prometheus would reject (bad names, bad escapes, a sample before its TYPE,
// a family split in two, duplicate series, a non-numeric value, no final newline).
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  samples: Sample[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SUFFIXES: Record<Family['type'], string[]> = { counter: [''], gauge: [''], untyped: [''], histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length && !text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: Family | undefined;
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, i) => {
    const at = `line ${i + 1}: ${line}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kw, name, rest] = m;
      if (!METRIC.test(name)) throw new Error(`${at}: bad metric name`);
      if (closed.has(name)) throw new Error(`${at}: ${name} appears in two separate groups`);
      const fam = families.get(name) ?? { name, type: 'untyped' as const, samples: [] };
      if (fam.samples.length) throw new Error(`${at}: ${kw} after samples of ${name}`);
      if (kw === 'TYPE') {
        if (!Object.keys(SUFFIXES).includes(rest)) throw new Error(`${at}: unknown type ${rest}`);
        if (families.has(name) && families.get(name)!.type !== 'untyped') throw new Error(`${at}: second TYPE for ${name}`);
        fam.type = rest as Family['type'];
      } else {
        if (fam.help !== undefined) throw new Error(`${at}: second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`${at}: bad escape in HELP`);
        fam.help = rest;
      }
      if (current && current.name !== name) closed.add(current.name);
      current = fam;
      families.set(name, fam);
      return;
    }
    const s = parseSample(line, at);
    const fam = familyOf(s.name, families);
    if (!fam) throw new Error(`${at}: sample without a TYPE/HELP for its family`);
    if (closed.has(fam.name)) throw new Error(`${at}: ${fam.name} appears in two separate groups`);
    if (current && current.name !== fam.name) {
      closed.add(current.name);
      current = fam;
    }
    const key = `${s.name}{${Object.entries(s.labels).sort().map(([k, v]) => `${k}=${v}`).join(',')}}`;
    if (seen.has(key)) throw new Error(`${at}: duplicate series ${key}`);
    seen.add(key);
    if (fam.type === 'histogram' && s.name.endsWith('_bucket') && s.labels.le === undefined) throw new Error(`${at}: bucket without le`);
    if (fam.type === 'counter' && !(s.value >= 0)) throw new Error(`${at}: negative or NaN counter`);
    fam.samples.push(s);
  });
  return families;
}

function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  for (const fam of families.values()) {
    if (SUFFIXES[fam.type].some((suf) => sample === fam.name + suf)) return fam;
  }
  return undefined;
}

function parseSample(line: string, at: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? ([^ ]+)( -?\d+)?$/.exec(line);
  if (!m) throw new Error(`${at}: not a sample line`);
  const labels: Record<string, string> = {};
  if (m[2]) {
    let rest = m[2].slice(1, -1);
    while (rest.length) {
      const lm = /^([^=]+)="((?:[^"\\]|\\[\\"n])*)"(,|$)/.exec(rest);
      if (!lm) throw new Error(`${at}: bad label set`);
      if (!LABEL.test(lm[1]) || lm[1].startsWith('__')) throw new Error(`${at}: bad label name ${lm[1]}`);
      if (lm[1] in labels) throw new Error(`${at}: label ${lm[1]} twice`);
      labels[lm[1]] = lm[2].replace(/\\(.)/g, (_a, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(lm[0].length);
    }
  }
  // Prometheus parses values with Go's ParseFloat: NaN and Inf in any case
  const v = m[3];
  const special = /^([-+]?)(inf|infinity)$/i.exec(v);
  let value: number;
  if (/^nan$/i.test(v)) value = NaN;
  else if (special) value = special[1] === '-' ? -Infinity : Infinity;
  else if (/^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)$/.test(v)) value = Number(v);
  else throw new Error(`${at}: bad value ${v}`);
  return { name: m[1], labels, value };
}

// The value of one series, or undefined.
export function sampleValue(f: Map<string, Family>, family: string, labels: Record<string, string> = {}, name = family): number | undefined {
  return f.get(family)?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
