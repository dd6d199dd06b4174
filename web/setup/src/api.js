// splunkd's REST API as the setup page uses it, through Splunk Web's /splunkd/__raw proxy with
// the session's CSRF form key (@splunk/splunk-utils). The same calls and secret scheme as
// oktainput itself (app/splunkd, app/secrets; docs/splunkd-integration.md):
//
//   inputs   GET/POST servicesNS/nobody/oktasight/data/inputs/oktainput[/<name>[/enable|/disable]], DELETE
//   secrets  POST storage/passwords (name, password, realm); on 409 POST storage/passwords/<realm>:<user>:
//
// A secret goes to storage/passwords before the input is created or edited, and the input holds
// the mask, so splunkd's validation (oktainput --validate-arguments) reads the stored value and
// no clear secret is ever written to inputs.conf. Secrets are never read back for display.
import { createRESTURL } from '@splunk/splunk-utils/url';
import { getDefaultFetchInit } from '@splunk/splunk-utils/fetch';
import { splunkdPath } from '@splunk/splunk-utils/config';
import { MASK, REALM, SCHEME, SECRETS, secretUser } from './fields.mjs';

const APP = 'oktasight';
const NS = { app: APP, owner: 'nobody' };

// SplunkdError is a failed call: the HTTP status and splunkd's own messages (messages[].text),
// which for a rejected create or edit carry oktainput's validation message (Okta's answer).
export class SplunkdError extends Error {
    constructor(op, status, messages) {
        const text = messages.length ? messages.join(' ') : `HTTP ${status}`;
        super(text);
        this.op = op;
        this.status = status;
        this.messages = messages;
    }
}

function inputsURL(name, action) {
    let path = `data/inputs/${SCHEME}`;
    if (name) path += `/${encodeURIComponent(name)}`;
    if (action) path += `/${action}`;
    return createRESTURL(path, NS);
}

// entityURL is an entry's own link (its "links" are splunkd paths such as
// /servicesNS/nobody/oktasight/data/inputs/oktainput/acme) reached through Splunk Web.
function linkURL(link) {
    return `${splunkdPath || ''}${link}`;
}

function passwordURL(user) {
    const path = user === undefined ? 'storage/passwords' : `storage/passwords/${encodeURIComponent(`${REALM}:${user}:`)}`;
    return createRESTURL(path, NS);
}

function withJSON(url, query = {}) {
    const q = new URLSearchParams({ output_mode: 'json', ...query });
    return `${url}${url.includes('?') ? '&' : '?'}${q}`;
}

// failed makes any error a SplunkdError, so that cleanup problems can be added to its messages.
function failed(op, err) {
    return err instanceof SplunkdError ? err : new SplunkdError(op, 0, [String((err && err.message) || err)]);
}

async function call(op, method, url, form, query) {
    const init = getDefaultFetchInit();
    init.method = method;
    if (form) {
        init.body = new URLSearchParams(form).toString();
        init.headers = { ...init.headers, 'Content-Type': 'application/x-www-form-urlencoded' };
    }
    let res;
    try {
        res = await fetch(withJSON(url, query), init);
    } catch (err) {
        throw new SplunkdError(op, 0, [`Splunk Web did not answer (${err.message}).`]);
    }
    let body = null;
    const text = await res.text();
    if (text) {
        try {
            body = JSON.parse(text);
        } catch (e) {
            body = null;
        }
    }
    if (!res.ok) {
        const msgs = ((body && body.messages) || []).map((m) => m.text).filter(Boolean);
        throw new SplunkdError(op, res.status, msgs);
    }
    return body;
}

// listInputs returns every oktainput input splunkd knows, in every app (the wildcard namespace).
export async function listInputs() {
    const body = await call('list inputs', 'GET', createRESTURL(`data/inputs/${SCHEME}`, { app: '-', owner: '-' }), null, { count: '0' });
    return (body && body.entry) || [];
}

// inputExists says whether an input of that name exists (a create must not overwrite the
// secrets of an existing input before splunkd refuses the duplicate).
export async function inputExists(name) {
    try {
        await call('read input', 'GET', inputsURL(name));
        return true;
    } catch (err) {
        if (err.status === 404) return false;
        throw err;
    }
}

// listIndexes returns the names of the event indexes this splunkd has (for the index picker;
// on a heavy forwarder that is its local list, and any name may be typed).
export async function listIndexes() {
    try {
        const body = await call('list indexes', 'GET', createRESTURL('data/indexes', NS), null, { count: '0', datatype: 'event' });
        return ((body && body.entry) || []).map((e) => e.name).filter((n) => !n.startsWith('_'));
    } catch (err) {
        return [];
    }
}

// storeSecret creates or, when it exists (409), updates the credential realm:user:.
async function storeSecret(user, secret) {
    try {
        await call('store secret', 'POST', passwordURL(), { name: user, password: secret, realm: REALM });
        return 'created';
    } catch (err) {
        if (err.status !== 409) throw err;
    }
    await call('store secret', 'POST', passwordURL(user), { password: secret });
    return 'updated';
}

async function deleteSecret(user) {
    try {
        await call('delete secret', 'DELETE', passwordURL(user));
    } catch (err) {
        if (err.status !== 404) throw err;
    }
}

// readSecret is the clear secret stored for user, or null. Used only to put the previous value
// back when splunkd rejects an edit that replaced it; it is never shown.
async function readSecret(user) {
    try {
        const body = await call('read secret', 'GET', passwordURL(user));
        const e = ((body && body.entry) || []).find((x) => x.content && x.content.username === user && x.content.realm === REALM);
        return e && typeof e.content.clear_password === 'string' ? e.content.clear_password : null;
    } catch (err) {
        if (err.status === 404) return null;
        throw err;
    }
}

function typedSecrets(secrets) {
    return SECRETS.filter((s) => (secrets[s] || '').trim() !== '');
}

// createInput stores the typed secrets, then creates the input with masks in their place.
// splunkd runs oktainput --validate-arguments on the create; if it (or anything) fails, the
// secrets stored for it are removed again and the error carries splunkd's message.
export async function createInput(name, settings, secrets) {
    if (await inputExists(name)) {
        throw new SplunkdError('create input', 409, [`An Okta input named "${name}" already exists. Choose another name, or edit that input.`]);
    }
    const typed = typedSecrets(secrets);
    const stored = [];
    try {
        for (const s of typed) {
            await storeSecret(secretUser(name, s), secrets[s].trim());
            stored.push(s);
        }
        const form = { name, ...settings };
        for (const s of typed) form[s] = MASK;
        return await call('create input', 'POST', inputsURL(), form);
    } catch (e) {
        const err = failed('create input', e);
        for (const s of stored) {
            try {
                await deleteSecret(secretUser(name, s));
            } catch (e2) {
                err.messages.push(`The ${s} stored for it could not be removed again (${e2.message}).`);
            }
        }
        throw err;
    }
}

// editInput posts the changed settings of an existing entry (null when there is none). A secret typed anew is stored
// first and the input set to the mask; if splunkd rejects the edit, the previous secret is put
// back (or the new one removed when there was none) so the running input keeps working.
export async function editInput(entry, settings, secrets) {
    const name = entry.name;
    const typed = typedSecrets(secrets);
    const previous = {};
    const replaced = [];
    try {
        for (const s of typed) {
            const user = secretUser(name, s);
            previous[s] = await readSecret(user);
            await storeSecret(user, secrets[s].trim());
            replaced.push(s);
        }
        const form = { ...settings };
        for (const s of typed) form[s] = MASK;
        if (Object.keys(form).length === 0) return null;
        return await call('edit input', 'POST', entry.links && entry.links.edit ? linkURL(entry.links.edit) : inputsURL(name), form);
    } catch (e) {
        const err = failed('edit input', e);
        for (const s of replaced) {
            const user = secretUser(name, s);
            try {
                if (previous[s] === null) await deleteSecret(user);
                else await storeSecret(user, previous[s]);
            } catch (e2) {
                err.messages.push(`The previous ${s} could not be put back (${e2.message}): enter it again.`);
            }
        }
        throw err;
    }
}

// setEnabled enables or disables an input (splunkd starts or stops it at once).
export async function setEnabled(entry, enabled) {
    const action = enabled ? 'enable' : 'disable';
    const link = entry.links && entry.links[action];
    return call(`${action} input`, 'POST', link ? linkURL(link) : inputsURL(entry.name, action));
}

// deleteInput removes the input, then its secrets. Its checkpoint stays where oktainput keeps
// it (a new input of the same name and org resumes from it).
export async function deleteInput(entry) {
    const link = entry.links && entry.links.remove;
    await call('delete input', 'DELETE', link ? linkURL(link) : inputsURL(entry.name));
    for (const s of SECRETS) await deleteSecret(secretUser(entry.name, s));
}
