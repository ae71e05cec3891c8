import type { AgentConfig, RepoOverride } from './types.js';

// Repository settings as the host will get them: URLs in their parsed form (what
// new URL() understood, not the string it was given: it drops line breaks, which in a
// repository file start a repository of their own), fingerprints without spaces.
export function repositories(raw: Record<string, RepoOverride>): AgentConfig['repositories'] {
  const out: AgentConfig['repositories'] = {};
  for (const id of ['kubernetes', 'docker'] as const) {
    const r = raw[id];
    if (!r) continue;
    out[id] = {
      // a local directory (file:///path, /path) is kept as written
      ...(r.url ? { url: /^https?:/i.test(r.url) ? new URL(r.url).href : r.url } : {}),
      ...(r.key ? { key: r.key.startsWith('/') ? r.key : new URL(r.key).href } : {}),
      ...(r.keyFingerprints ? { keyFingerprints: r.keyFingerprints.filter(Boolean).map((x) => x.replace(/ /g, '').toUpperCase()) } : {}),
    };
  }
  return out;
}

// Plain http is allowed (mirrors in closed networks) but said: for the repository what an
// observer learns, for the key that anyone on the path can sign packages.
export function repositoryWarnings(agent: Pick<AgentConfig, 'repositories'>): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const id of ['kubernetes', 'docker'] as const) {
    const r = agent.repositories[id];
    if (r?.url?.startsWith('http:')) out.push({ path: `repositories.${id}.url`, message: 'plain http: packages are still verified with the repository key, but anyone on the path sees what this node installs and can hold back updates; prefer https' });
    if (r?.key?.startsWith('http:') && !r.keyFingerprints?.length) {
      out.push({ path: `repositories.${id}.key`, message: 'the signing key over plain http: anyone on the path can replace it and sign packages this node installs; use https or a local file, or pin it with keyFingerprints' });
    }
  }
  return out;
}
