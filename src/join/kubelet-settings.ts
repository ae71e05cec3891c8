import { isMap, parseDocument } from 'yaml';
import type { KubeletSettings } from '../config/kubelet.js';

// kubelet: settings against /var/lib/kubelet/config.yaml (pure). kubeadm wrote that file
// from the cluster's kubelet-config with the patches applied; a setting changed in the
// config after the join, or the file edited since, shows here and is merged back as the
// merge patch would (maps merged key by key, everything else replaced).
export interface SettingDiff {
  key: string;
  live: string;
  wanted: string;
}

export function kubeletSettingDiffs(configYaml: string, k: KubeletSettings): SettingDiff[] {
  const live = (parseDocument(configYaml).toJS() ?? {}) as Record<string, unknown>;
  const out: SettingDiff[] = [];
  for (const [key, want] of Object.entries(k)) {
    if (want !== null && typeof want === 'object') {
      const cur = (live[key] ?? {}) as Record<string, unknown>;
      for (const [sub, v] of Object.entries(want as Record<string, unknown>)) {
        if (String(cur[sub]) !== String(v) || cur[sub] === undefined) out.push({ key: `${key}.${sub}`, live: cur[sub] === undefined ? 'absent' : String(cur[sub]), wanted: String(v) });
      }
    } else if (live[key] !== want) {
      out.push({ key, live: live[key] === undefined ? 'absent' : String(live[key]), wanted: String(want) });
    }
  }
  return out;
}

// The file with the settings merged in; comments and the order of other keys kept.
export function mergeKubeletSettings(configYaml: string, k: KubeletSettings): string {
  const doc = parseDocument(configYaml);
  if (!isMap(doc.contents)) return configYaml;
  for (const [key, want] of Object.entries(k)) {
    if (want !== null && typeof want === 'object') {
      if (!isMap(doc.get(key))) doc.set(key, doc.createNode({}));
      for (const [sub, v] of Object.entries(want as Record<string, unknown>)) doc.setIn([key, sub], v);
    } else doc.set(key, want);
  }
  return doc.toString({ lineWidth: 0 });
}
