// The settings of an [oktainput://<name>] stanza as the page edits them. Names, defaults and
// limits follow README/inputs.conf.spec and cmd/oktainput's scheme; the test checks that every
// argument of the spec has a field here (so a new setting is not silently missing from the page).

// SECRETS live in splunkd's encrypted store (storage/passwords, realm "oktasight"), never in
// inputs.conf; the stanza holds MASK in their place. Same list as app/inputconf.Secrets, same
// order: the first is the input's main credential, stored under the input's own name.
export const SECRETS = ['api_token', 'private_key', 'proxy_password'];
export const MASK = '********';
export const REALM = 'oktasight';
export const SCHEME = 'oktainput';

// secretUser is the storage/passwords user name of one secret of input `name` (app/secrets:
// Resolver.User): the name itself for api_token, "<name>#<setting>" for the others.
export function secretUser(name, setting) {
    return setting === SECRETS[0] ? name : `${name}#${setting}`;
}

// Every setting the page edits, with what inputs.conf means by an empty value.
// kind: text | secret | number | choice | flag | textarea. group: where the form shows it.
export const FIELDS = [
    { name: 'org_url', group: 'org', kind: 'text', label: 'Okta org URL', required: true, placeholder: 'https://acme.okta.com',
        help: 'https, host name only (no path). Changing it starts a new checkpoint.' },
    { name: 'auth_type', group: 'auth', kind: 'choice', label: 'Method', default: 'api_token',
        options: [['api_token', 'API token'], ['oauth', 'OAuth service app']] },
    { name: 'api_token', group: 'auth', kind: 'secret', label: 'API token', when: { auth_type: 'api_token' }, required: true,
        help: 'Okta Admin Console > Security > API > Tokens, created by a Read-only Administrator. Okta deactivates a token unused for 30 days.' },
    { name: 'client_id', group: 'auth', kind: 'text', label: 'Client ID', when: { auth_type: 'oauth' }, required: true, placeholder: '0oa...',
        help: 'The Client ID of the Okta API Services app granted okta.logs.read, with a Read-only Administrator role.' },
    { name: 'private_key', group: 'auth', kind: 'secret', multiline: true, label: 'Private key', when: { auth_type: 'oauth' }, required: true,
        help: 'PEM (RSA, or EC on P-256, P-384 or P-521; PKCS#1 or PKCS#8) or JWK of the public key registered on the app.' },
    { name: 'key_id', group: 'auth', kind: 'text', label: 'Key ID (kid)', when: { auth_type: 'oauth' },
        help: 'The kid Okta shows for the registered key. Read from a JWK when it has one.' },
    { name: 'dpop', group: 'auth', kind: 'flag', label: 'DPoP', when: { auth_type: 'oauth' }, default: '0',
        help: 'On when the app has "Require Demonstrating Proof of Possession (DPoP) header in token requests" checked.' },
    { name: 'scopes', group: 'auth', kind: 'text', label: 'Scopes', when: { auth_type: 'oauth' }, placeholder: 'okta.logs.read' },
    { name: 'index', group: 'dest', kind: 'index', label: 'Index', placeholder: 'default',
        help: 'Where the events go. Set the oktasight_index macro to the same index.' },
    { name: 'start_date', group: 'dest', kind: 'text', label: 'Start date', placeholder: '-7d',
        help: 'Where a new input starts: -7d, -12h, 2026-11-01 or 2026-11-01T08:00:00Z. Okta keeps 90 days. Read only when the input has no checkpoint.' },
    { name: 'rate_limit_pct', group: 'dest', kind: 'number', label: 'Rate-limit share (%)', min: 1, max: 100, placeholder: '50',
        help: "Share of the org's per-minute /api/v1/logs limit this input may use; it pauses when the org's use reaches it." },
    { name: 'interval', group: 'dest', kind: 'number', label: 'Interval (seconds)', min: 0, placeholder: '60',
        help: 'Splunk runs the input every interval seconds; each run reads until caught up. 0: one long-lived process.' },
    { name: 'proxy_url', group: 'proxy', kind: 'text', label: 'Proxy URL', placeholder: 'http://proxy.corp:3128',
        help: "http:// or https://, no credentials. Empty: splunkd's HTTPS_PROXY / NO_PROXY environment." },
    { name: 'proxy_username', group: 'proxy', kind: 'text', label: 'Proxy user' },
    { name: 'proxy_password', group: 'proxy', kind: 'secret', label: 'Proxy password' },
    { name: 'ca_file', group: 'proxy', kind: 'text', label: 'CA file', placeholder: '/opt/splunk/etc/auth/proxy-ca.pem',
        help: 'PEM file of extra CA certificates to trust, for TLS-inspecting proxies.' },
    { name: 'filter', group: 'advanced', kind: 'text', label: 'Filter', placeholder: 'eventType sw "user."',
        help: 'Okta System Log SCIM filter. Empty: every event.' },
    { name: 'q', group: 'advanced', kind: 'text', label: 'Keywords', help: 'At most 10 words of at most 40 characters.' },
    { name: 'poll_interval', group: 'advanced', kind: 'number', label: 'Poll interval (seconds)', min: 1, max: 3600, placeholder: '10',
        help: 'Seconds between polls once caught up (long-lived input, interval = 0).' },
    { name: 'page_limit', group: 'advanced', kind: 'number', label: 'Page size', min: 1, max: 1000, placeholder: '1000' },
    { name: 'checkpoint_store', group: 'advanced', kind: 'choice', label: 'Checkpoint store', default: 'file',
        options: [['file', 'File'], ['kvstore', 'KV store']],
        help: 'KV store: the checkpoint follows the input across search-head-cluster members.' },
    { name: 'backfill_since', group: 'backfill', kind: 'text', label: 'Backfill from', placeholder: '2026-11-20T08:00:00Z',
        help: 'With Backfill until: a past range read again beside polling, e.g. to fill an outage. Absolute ISO 8601.' },
    { name: 'backfill_until', group: 'backfill', kind: 'text', label: 'Backfill until', placeholder: '2026-11-20T12:00:00Z',
        help: 'Exclusive, at least 2 minutes ago.' },
    { name: 'backfill_dedup', group: 'backfill', kind: 'choice', label: 'Skip events already indexed', default: 'index',
        options: [['index', 'Yes (index)'], ['none', 'No (none)']] },
];

// Splunk's own settings that the page edits besides the scheme's arguments.
export const SPLUNK_SETTINGS = ['index', 'interval'];

export const GROUPS = [
    ['org', 'Okta org'],
    ['auth', 'Authentication'],
    ['dest', 'Collection'],
    ['proxy', 'Proxy and TLS'],
    ['advanced', 'Advanced'],
    ['backfill', 'Backfill'],
];

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

// visible says whether field f applies to the form's values (auth fields by auth_type).
export function visible(f, values) {
    if (!f.when) return true;
    return Object.entries(f.when).every(([k, v]) => (values[k] || fieldDefault(k)) === v);
}

function fieldDefault(name) {
    const f = FIELDS.find((x) => x.name === name);
    return (f && f.default) || '';
}

// fromEntry is the form's values for a splunkd data/inputs entry's content: every
// non-secret setting as a string; secrets are never copied (the form starts them empty).
export function fromEntry(content) {
    const v = {};
    for (const f of FIELDS) {
        if (f.kind === 'secret') continue;
        const raw = content[f.name];
        v[f.name] = raw === undefined || raw === null ? '' : String(raw);
    }
    if (!v.auth_type) v.auth_type = 'api_token';
    if (v.index === 'default') v.index = '';
    return v;
}

// secretState says what inputs.conf holds for a secret: 'stored' (the mask), 'clear' (a value
// typed into inputs.conf that the input moves to the store on its next run), or 'none'.
export function secretState(content, name) {
    const v = content[name];
    if (v === undefined || v === null || String(v).trim() === '') return 'none';
    return String(v).trim() === MASK ? 'stored' : 'clear';
}

// check returns the form's problems by field name, the checks oktainput would make anyway,
// caught before a round trip. Okta's own answer (token, URL, filter) comes from validation.
export function check(values, secrets, { creating, stored }) {
    const errs = {};
    if (creating && !NAME.test(values.name || '')) {
        errs.name = 'Letters, digits, ".", "_" and "-", starting with a letter or digit, at most 64.';
    }
    const url = (values.org_url || '').trim();
    if (!url) {
        errs.org_url = 'Required.';
    } else if (!/^https:\/\/[^/?#@\s]+\/?$/.test(url)) {
        errs.org_url = 'Use https://<your org host>, with no path, query or credentials.';
    }
    for (const f of FIELDS) {
        if (!visible(f, values)) continue;
        if (f.kind === 'secret' && f.required && !(secrets[f.name] || '').trim() && !stored[f.name]) {
            errs[f.name] = 'Required.';
        }
        if (f.kind === 'text' && f.required && !(values[f.name] || '').trim()) {
            errs[f.name] = 'Required.';
        }
        if (f.kind === 'number' && (values[f.name] || '').trim() !== '') {
            const n = Number(values[f.name]);
            if (!Number.isInteger(n) || (f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) {
                errs[f.name] = f.max !== undefined ? `A whole number from ${f.min} to ${f.max}.` : `A whole number, at least ${f.min}.`;
            }
        }
    }
    if (!!(values.backfill_since || '').trim() !== !!(values.backfill_until || '').trim()) {
        errs[(values.backfill_since || '').trim() ? 'backfill_until' : 'backfill_since'] = 'Set both or neither.';
    }
    if ((values.proxy_url || '').trim() && !/^https?:\/\/[^/@\s]+\/?$/.test(values.proxy_url.trim())) {
        errs.proxy_url = 'http://host:port or https://host:port, without credentials (use Proxy user and password).';
    }
    return errs;
}

// changes is what an edit posts: the non-secret settings whose value differs from the entry's,
// trimmed. A setting the form hides (OAuth fields under API token) is left as it is.
export function changes(values, original) {
    const out = {};
    for (const f of FIELDS) {
        if (f.kind === 'secret') continue;
        const now = (values[f.name] || '').trim();
        const before = (original[f.name] || '').trim();
        if (now !== before) out[f.name] = now;
    }
    return out;
}
