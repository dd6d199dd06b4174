// A fake of the part of Splunk the setup page talks to, for its browser test:
//
//   Splunk Web (http)   GET /en-US/app/oktasight/oktasight_setup: a stand-in for the Simple XML
//                       view: window.$C, the CSRF cookie, RequireJS (as Splunk Web loads dashboard
//                       scripts), the view's own <html> panel from default/data/ui/views, and the
//                       committed appserver/static/oktasight_setup.js and .css;
//                       /en-US/splunkd/__raw/*: the proxy to splunkd (X-Splunk-Form-Key checked).
//   splunkd (https)     /servicesNS/<owner>/<app>/data/inputs/oktainput[/<name>[/enable|/disable]],
//                       storage/passwords[/<realm>:<user>:], data/indexes; JSON shaped as splunkd's
//                       REST API answers (entry/links/acl/content/paging/messages; errors as
//                       messages[].text with splunkd's status codes).
//
// What no fake can invent is done for real: a create or an edit runs the real
// `bin/oktainput --validate-arguments` with the validation XML splunkd sends (server_uri and
// session key of this fake's https port, so a masked secret is read back from this fake's
// storage/passwords exactly as in Splunk), and its <error><message> becomes the call's error.
// The exact status splunkd answers a failed validation with is not documented; 400 is used and
// the page does not depend on it.
import http from 'node:http';
import https from 'node:https';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';

const SCHEME = 'oktainput';
// default/inputs.conf's [oktainput] stanza, which splunkd merges into every input.
const DEFAULTS = { interval: '60', sourcetype: 'OktaIM2:log', start_by_shell: 'false' };

function xmlEscape(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function xmlUnescape(s) {
    return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#(\d+);/g, (m, n) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
}

function selfSignedCert(dir) {
    const key = path.join(dir, 'splunkd.key');
    const cert = path.join(dir, 'splunkd.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
        '-subj', '/CN=SplunkServerDefaultCert', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    return { key: readFileSync(key), cert: readFileSync(cert) };
}

// trust: PEM files of CAs oktainput trusts besides this fake's own certificate (SSL_CERT_FILE),
// so that an org_url naming this fake reaches a host that is not Okta, quickly.
export async function startFake({ root, oktainput, trust = [], inputs = {}, passwords = {}, indexes = ['main', 'okta', 'security'] }) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'oktasight-fake-splunkd-'));
    const sessionKey = crypto.randomBytes(16).toString('hex');
    const formKey = crypto.randomBytes(8).toString('hex');
    const state = {
        inputs: new Map(Object.entries(inputs).map(([name, params]) => [name, { app: 'oktasight', disabled: false, ...params }])),
        passwords: new Map(),
        requests: [], // every REST call: {method, path, form}
        validations: [], // every validation: {name, params, ok, message}
    };
    for (const [user, password] of Object.entries(passwords)) {
        state.passwords.set(`oktasight:${user}:`, { realm: 'oktasight', username: user, password });
    }
    let mgmtURI = '';

    const now = () => new Date().toISOString().replace('Z', '+00:00');
    const send = (res, status, body) => {
        res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8' });
        res.end(JSON.stringify(body));
    };
    const fail = (res, status, text) => send(res, status, { messages: [{ type: 'ERROR', text }] });
    const feed = (base, entries) => ({
        links: { create: `${base}/_new`, _reload: `${base}/_reload`, _acl: `${base}/_acl` },
        origin: `${mgmtURI}${base}`,
        updated: now(),
        generator: { build: '64e843ea36b1', version: '9.4.1' },
        entry: entries,
        paging: { total: entries.length, perPage: 30, offset: 0 },
        messages: [],
    });
    const acl = (app) => ({
        app, can_change_perms: true, can_list: true, can_share_app: true, can_share_global: true, can_share_user: false,
        can_write: true, modifiable: true, owner: 'nobody', perms: { read: ['*'], write: ['admin'] }, removable: true, sharing: 'app',
    });

    const inputEntry = (name) => {
        const st = state.inputs.get(name);
        const link = `/servicesNS/nobody/${st.app}/data/inputs/${SCHEME}/${encodeURIComponent(name)}`;
        const { app, disabled, ...params } = st;
        return {
            name, id: `${mgmtURI}${link}`, updated: now(),
            links: { alternate: link, list: link, _reload: `${link}/_reload`, edit: link, remove: link, [disabled ? 'enable' : 'disable']: `${link}/${disabled ? 'enable' : 'disable'}` },
            author: 'nobody', acl: acl(app),
            content: { ...DEFAULTS, host: 'splunk-hf1', index: 'default', ...params, disabled, 'eai:acl': null },
        };
    };
    const passwordEntry = (entity) => {
        const p = state.passwords.get(entity);
        const link = `/servicesNS/nobody/oktasight/storage/passwords/${encodeURIComponent(entity)}`;
        return {
            name: entity, id: `${mgmtURI}${link}`, updated: now(),
            links: { alternate: link, list: link, edit: link, remove: link },
            author: 'nobody', acl: acl('oktasight'),
            content: { clear_password: p.password, encr_password: `$7$${Buffer.from(p.password).toString('base64')}`, password: '********', realm: p.realm, username: p.username, 'eai:acl': null },
        };
    };

    // validate runs oktainput --validate-arguments as splunkd does on a create or an edit.
    const validate = (name, params) => new Promise((resolve) => {
        const t0 = Date.now();
        const items = Object.entries(params).map(([k, v]) => `        <param name="${xmlEscape(k)}">${xmlEscape(v)}</param>`).join('\n');
        const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<items>\n    <server_host>splunk-hf1</server_host>\n    <server_uri>${mgmtURI}</server_uri>\n    <session_key>${sessionKey}</session_key>\n    <checkpoint_dir>${dir}/modinputs/${SCHEME}</checkpoint_dir>\n    <item name="${xmlEscape(name)}">\n${items}\n    </item>\n</items>\n`;
        const child = spawn(oktainput, ['--validate-arguments'], { env: { PATH: process.env.PATH, SPLUNK_HOME: dir, SSL_CERT_FILE: bundle }, stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => { out += d; });
        child.stderr.on('data', () => {});
        child.on('close', (code) => {
            if (code === 0) {
                state.validations.push({ name, params, ok: true, ms: Date.now() - t0 });
                resolve(null);
                return;
            }
            const m = out.match(/<message>([\s\S]*?)<\/message>/);
            const message = m ? xmlUnescape(m[1]) : `Argument validation for scheme=${SCHEME}: script running failed (PID ${child.pid} exited with code ${code}).`;
            state.validations.push({ name, params, ok: false, message, ms: Date.now() - t0 });
            resolve(message);
        });
        child.stdin.end(xml);
    });

    // rest is splunkd: path is /services[NS/<owner>/<app>]/<endpoint>, form the posted fields.
    const rest = async (req, res, pathname, form) => {
        state.requests.push({ method: req.method, path: pathname, form });
        const m = pathname.match(/^\/services(?:NS\/([^/]+)\/([^/]+))?\/(.*)$/);
        if (!m) return fail(res, 404, `Not Found`);
        const app = m[2] && m[2] !== '-' ? m[2] : 'search';
        const parts = m[3].split('/').map(decodeURIComponent);
        const base = `/servicesNS/${m[1] || 'nobody'}/${m[2] || '-'}/${parts.slice(0, 3).join('/')}`;

        if (parts[0] === 'data' && parts[1] === 'inputs' && parts[2] === SCHEME) {
            const name = parts[3];
            const action = parts[4];
            if (!name) {
                if (req.method === 'GET') return send(res, 200, feed(base, [...state.inputs.keys()].sort().map(inputEntry)));
                if (req.method !== 'POST') return fail(res, 405, 'Method Not Allowed');
                const { name: newName, ...params } = form;
                if (!newName) return fail(res, 400, 'Missing "name"');
                if (state.inputs.has(newName)) return fail(res, 409, `Object id=${SCHEME}://${newName} cannot be created in config=inputs. An object already exists with the same name`);
                if (!params.org_url) return fail(res, 400, `Argument "org_url" is required`);
                const message = await validate(newName, { ...DEFAULTS, ...params, disabled: '0', index: params.index || 'default' });
                if (message) return fail(res, 400, message);
                state.inputs.set(newName, { app, disabled: params.disabled === '1', ...params });
                return send(res, 201, feed(base, [inputEntry(newName)]));
            }
            if (!state.inputs.has(name)) return fail(res, 404, `Could not find object id=${name}`);
            const st = state.inputs.get(name);
            if (!action && req.method === 'GET') return send(res, 200, feed(base, [inputEntry(name)]));
            if (!action && req.method === 'DELETE') {
                state.inputs.delete(name);
                return send(res, 200, feed(base, [...state.inputs.keys()].sort().map(inputEntry)));
            }
            if (req.method !== 'POST') return fail(res, 405, 'Method Not Allowed');
            if (action === 'enable' || action === 'disable') {
                st.disabled = action === 'disable';
                return send(res, 200, feed(base, [inputEntry(name)]));
            }
            if (action) return fail(res, 404, 'Not Found');
            const { app: a, disabled, ...current } = st;
            const merged = { ...current, ...form };
            const message = await validate(name, { ...DEFAULTS, ...merged, disabled: disabled ? '1' : '0', index: merged.index || 'default' });
            if (message) return fail(res, 400, message);
            Object.assign(st, form);
            return send(res, 200, feed(base, [inputEntry(name)]));
        }

        if (parts[0] === 'storage' && parts[1] === 'passwords') {
            const entity = parts[2];
            const pbase = `/servicesNS/nobody/oktasight/storage/passwords`;
            if (!entity) {
                if (req.method === 'GET') return send(res, 200, feed(pbase, [...state.passwords.keys()].map(passwordEntry)));
                if (req.method !== 'POST') return fail(res, 405, 'Method Not Allowed');
                if (!form.name || !form.password) return fail(res, 400, 'Missing "name" or "password"');
                const key = `${form.realm || ''}:${form.name}:`;
                if (state.passwords.has(key)) return fail(res, 409, `An object with name=${form.name} already exists`);
                state.passwords.set(key, { realm: form.realm || '', username: form.name, password: form.password });
                return send(res, 201, feed(pbase, [passwordEntry(key)]));
            }
            if (!state.passwords.has(entity)) return fail(res, 404, `Could not find object id=${entity}`);
            if (req.method === 'GET') return send(res, 200, feed(pbase, [passwordEntry(entity)]));
            if (req.method === 'DELETE') {
                state.passwords.delete(entity);
                return send(res, 200, feed(pbase, [...state.passwords.keys()].map(passwordEntry)));
            }
            if (req.method === 'POST') {
                if (!form.password) return fail(res, 400, 'Missing "password"');
                state.passwords.get(entity).password = form.password;
                return send(res, 200, feed(pbase, [passwordEntry(entity)]));
            }
            return fail(res, 405, 'Method Not Allowed');
        }

        if (parts[0] === 'data' && parts[1] === 'indexes' && req.method === 'GET') {
            const entries = [...indexes, '_internal', '_audit'].map((n) => ({ name: n, links: {}, acl: acl('system'), content: { datatype: 'event', disabled: false } }));
            return send(res, 200, feed('/servicesNS/nobody/oktasight/data/indexes', entries));
        }
        return fail(res, 404, `Not Found`);
    };

    const readForm = (req) => new Promise((resolve) => {
        let body = '';
        req.on('data', (d) => { body += d; });
        req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(body))));
    });

    // splunkd's management port: what oktainput's validation calls back to.
    const tls = selfSignedCert(dir);
    const bundle = path.join(dir, 'trust.pem');
    writeFileSync(bundle, [...trust.map((f) => readFileSync(f)), tls.cert].join('\n'));
    const mgmt = https.createServer(tls, async (req, res) => {
        if (!req.url.startsWith('/services')) {
            // Any other path, such as an Okta API path: a web server that is not Okta.
            res.writeHead(404, { 'Content-Type': 'text/html' });
            return res.end('<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>');
        }
        if (req.headers.authorization !== `Splunk ${sessionKey}`) {
            return fail(res, 401, 'call not properly authenticated');
        }
        const u = new URL(req.url, 'https://x');
        await rest(req, res, u.pathname, req.method === 'POST' ? await readForm(req) : {});
    });
    await new Promise((r) => mgmt.listen(0, '127.0.0.1', r));
    mgmtURI = `https://127.0.0.1:${mgmt.address().port}`;

    const view = readFileSync(path.join(root, 'default/data/ui/views/oktasight_setup.xml'), 'utf8');
    const panel = view.match(/<html>([\s\S]*?)<\/html>/)[1];
    const script = view.match(/script="([^"]+)"/)[1];
    const stylesheet = view.match(/stylesheet="([^"]+)"/)[1];
    let webPort = 0;
    const page = () => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Setup | OktaSight | Splunk</title>
<link rel="stylesheet" href="/en-US/static/app/oktasight/${stylesheet}">
<style>body{margin:0;font-family:'Splunk Platform Sans','Proxima Nova',Roboto,Helvetica,Arial,sans-serif;font-size:14px;background:#f2f4f5}
.app-bar{height:40px;background:#3c444d;color:#fff;display:flex;align-items:center;padding:0 20px;gap:18px;font-size:13px}
.app-bar b{font-size:15px}.dashboard-body{padding:12px 20px}.dashboard-panel{background:#fff;padding:12px}</style>
<script>window.$C=${JSON.stringify({ LOCALE: 'en-US', MRSPARKLE_ROOT_PATH: '', MRSPARKLE_PORT_NUMBER: String(webPort), SPLUNKD_PATH: '/en-US/splunkd/__raw', APP_BUILD: 1, BUILD_NUMBER: 'fake', BUILD_PUSH_NUMBER: 0, USERNAME: 'admin', SPLUNK_UI_THEME: 'enterprise' })};</script>
<script src="/en-US/static/js/require.js"></script>
</head><body>
<div class="app-bar"><b>OktaSight</b><span>Okta sign-in overview</span><span>Okta recovery</span><span>Okta investigate</span><span>Okta ingest health</span><span>Search</span><span><u>Setup</u></span></div>
<div class="dashboard-body"><div class="dashboard-row"><div class="dashboard-panel">${panel}</div></div></div>
<script>require.config({baseUrl:'/en-US/static/'});require(['app/oktasight/${script.replace(/\.js$/, '')}']);</script>
</body></html>`;

    const staticFile = (res, file, type) => {
        try {
            const body = readFileSync(file);
            res.writeHead(200, { 'Content-Type': type });
            res.end(body);
        } catch (e) {
            res.writeHead(404);
            res.end();
        }
    };

    const web = http.createServer(async (req, res) => {
        const u = new URL(req.url, 'http://x');
        if (u.pathname === '/en-US/app/oktasight/oktasight_setup') {
            res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Set-Cookie': `splunkweb_csrf_token_${webPort}=${formKey}; Path=/` });
            return res.end(page());
        }
        if (u.pathname === '/en-US/static/js/require.js') {
            return staticFile(res, path.join(root, 'web/setup/node_modules/requirejs/require.js'), 'application/javascript');
        }
        const st = u.pathname.match(/^\/en-US\/static\/app\/oktasight\/([\w.-]+)$/);
        if (st) {
            return staticFile(res, path.join(root, 'appserver/static', st[1]), st[1].endsWith('.css') ? 'text/css' : 'application/javascript');
        }
        if (u.pathname.startsWith('/en-US/splunkd/__raw/')) {
            if (req.method !== 'GET' && req.headers['x-splunk-form-key'] !== formKey) {
                return fail(res, 401, 'Splunk cannot authenticate the request. CSRF validation failed.');
            }
            const form = req.method === 'POST' ? await readForm(req) : {};
            return rest(req, res, u.pathname.slice('/en-US/splunkd/__raw'.length), form);
        }
        res.writeHead(404);
        res.end();
    });
    await new Promise((r) => web.listen(0, '127.0.0.1', r));
    webPort = web.address().port;

    return {
        state,
        pageURL: `http://127.0.0.1:${webPort}/en-US/app/oktasight/oktasight_setup`,
        mgmtURI,
        close: () => {
            web.closeAllConnections();
            mgmt.closeAllConnections();
            return Promise.all([new Promise((r) => web.close(r)), new Promise((r) => mgmt.close(r))])
                .then(() => rmSync(dir, { recursive: true, force: true }));
        },
    };
}
