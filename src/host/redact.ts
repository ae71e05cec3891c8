// Every string that leaves the process (logs, /status, metrics, errors) passes through
// redact(); secrets are registered as soon as they are read from config or a file.
const secrets = new Set<string>();

// Bootstrap tokens are "<id>.<secret>"; the id is public (it names the JWS key in
// cluster-info), the secret part is what must never show. Bounded by anything but a
// letter or digit (\b would miss "x_abcdef.0123456789abcdef": _ is a word character).
const TOKEN_RE = /(?<![a-z0-9])([a-z0-9]{6})\.([a-z0-9]{16})(?![a-z0-9])/g;

export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 6) return;
  secrets.add(value);
  const m = /^([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(value.trim());
  if (m) secrets.add(m[2]);
}

// Credentials in a URL (a proxy's http://user:password@host): the password part, however
// short, never shows.
const URL_CREDENTIALS_RE = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s"']*):[^@/\s"']*@/gi;

// Every token-shaped string in a text the agent reads (the config: a token pasted into
// the wrong field, glued to other text) is registered before anything about that text is
// reported, so no message, however it echoes or cuts the value, shows the secret.
export function registerSecretsIn(text: string): void {
  for (const m of text.matchAll(/([a-z0-9]{6})\.([a-z0-9]{16})/g)) registerSecret(m[0]);
}

export function redact(text: string): string {
  let out = text.replace(TOKEN_RE, (_all, id: string) => `${id}.<redacted>`).replace(URL_CREDENTIALS_RE, '$1:<redacted>@');
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('<redacted>');
  }
  return out;
}

// Whether text holds a bootstrap token or a registered secret: such content is never
// copied anywhere (backups), since no copy of a secret may outlive its use.
export function holdsSecret(text: string | Buffer): boolean {
  const t = typeof text === 'string' ? text : text.toString('latin1');
  return redact(t) !== t;
}

// Deep copy with every string redacted: used on whole status/state documents.
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}
