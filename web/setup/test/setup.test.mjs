// Browser test of the setup page: Debian's chromium (headless, through playwright-core) opens
// the committed appserver/static/oktasight_setup.js inside a stand-in for its Simple XML view,
// against test/fake-splunkd.mjs, whose validation runs the real bin/oktainput
// --validate-arguments against a real bin/oktasim org (HTTPS). Screenshots go to test-results/.
//
// Needs oktainput and oktasim in OKTASIGHT_BIN (default bin/: make build) and /usr/bin/chromium
// (CHROMIUM=<path>). Run: make setup-test, or npm test in web/setup.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startFake } from './fake-splunkd.mjs';
import { FIELDS, SECRETS, MASK } from '../src/fields.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
const bin = process.env.OKTASIGHT_BIN || path.join(root, 'bin');
const artifacts = path.join(here, '..', 'test-results');
const TOKEN = `00sim-${randomBytes(12).toString('hex')}`; // the simulated org's valid token
const CLEAR = `00clear-${randomBytes(12).toString('hex')}`; // a token typed into inputs.conf

let sim;
let simURL;
let simDir;
let fake;
let browser;
let page;
const pageErrors = [];

function startSim(dir) {
    return new Promise((resolve, reject) => {
        const p = spawn(path.join(bin, 'oktasim'), ['serve', '-addr', '127.0.0.1:0', '-tls', '-ca-out', path.join(dir, 'ca.pem'),
            '-token-env', 'OKTASIM_TOKEN', '-backlog', '50', '-users', '5'], { env: { ...process.env, OKTASIM_TOKEN: TOKEN } });
        let out = '';
        const timer = setTimeout(() => reject(new Error(`oktasim did not start: ${out}`)), 10000);
        p.stdout.on('data', (d) => {
            out += d;
            const m = out.match(/listening on (\S+)/);
            if (m) {
                clearTimeout(timer);
                resolve({ proc: p, url: m[1] });
            }
        });
        p.on('exit', (code) => reject(new Error(`oktasim exited ${code}: ${out}`)));
    });
}

// inputPosts are the forms the page posted to data/inputs (create and edit), through Splunk Web.
function inputPosts() {
    return fake.state.requests.filter((r) => r.method === 'POST' && /\/data\/inputs\/oktainput(\/[^/]+)?$/.test(r.path));
}

async function openForm(testId) {
    await page.click(`[data-test="${testId}"]`);
    await page.waitForSelector('#oktasight-org_url');
}

async function save() {
    await page.click('[data-test="save"]');
}

async function expectSaveError(re) {
    const el = await page.waitForSelector('[data-test="save-error"]', { timeout: 40000 });
    const text = await el.innerText();
    assert.match(text, re);
    return text;
}

async function formClosed() {
    await page.waitForSelector('#oktasight-org_url', { state: 'detached', timeout: 40000 });
}

// shot keeps a screenshot; a dialog is taken in a taller window, so it shows whole.
async function shot(name, height = 900) {
    if (height !== 900) await page.setViewportSize({ width: 1360, height });
    await page.screenshot({ path: path.join(artifacts, name), fullPage: true });
    if (height !== 900) await page.setViewportSize({ width: 1360, height: 900 });
}

before(async () => {
    for (const b of ['oktainput', 'oktasim']) {
        assert.ok(existsSync(path.join(bin, b)), `${path.join(bin, b)} is missing: run make build first`);
    }
    mkdirSync(artifacts, { recursive: true });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'oktasight-setup-test-'));
    simDir = dir;
    ({ proc: sim, url: simURL } = await startSim(dir));
    fake = await startFake({
        root,
        oktainput: path.join(bin, 'oktainput'),
        trust: [path.join(dir, 'ca.pem')], // the simulated org's CA
        inputs: {
            prod: { org_url: simURL, api_token: MASK, index: 'okta', rate_limit_pct: '40' },
            legacy: { app: 'search', org_url: 'https://legacy.okta.com', api_token: CLEAR, disabled: true },
            eu: { org_url: 'https://acme-eu.okta-emea.com', auth_type: 'oauth', client_id: '0oa8f2kq1sLogsReader', private_key: MASK, key_id: 'k1', index: 'okta', interval: '0' },
        },
        passwords: { prod: TOKEN, 'eu#private_key': 'PEM-OF-EU' },
    });
    browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    // Reduced motion, as an admin may set it: react-ui then skips its transitions, which
    // playwright would otherwise wait out before each click.
    page = await browser.newPage({ viewport: { width: 1360, height: 900 }, reducedMotion: 'reduce' });
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('console', (msg) => {
        if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of (400|404|409)/.test(msg.text())) {
            pageErrors.push(msg.text());
        }
    });
    await page.goto(fake.pageURL);
});

after(async () => {
    if (browser) await browser.close();
    if (fake) await fake.close();
    if (sim) sim.kill();
    if (simDir) rmSync(simDir, { recursive: true, force: true });
});

test('the page lists every input without showing a secret', async () => {
    await page.waitForSelector('[data-test="inputs"]');
    const rows = await page.$$eval('[data-test="inputs"] tbody tr', (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ')));
    assert.equal(rows.length, 3);
    assert.match(rows[0], /eu .*https:\/\/acme-eu\.okta-emea\.com .*OAuth app 0oa8f2kq1sLogsReader .*okta .*Encrypted store.*Enabled/);
    assert.match(rows[1], /legacy .*https:\/\/legacy\.okta\.com .*API token .*Clear text in inputs\.conf.*Disabled/);
    assert.match(rows[2], /prod .*127\.0\.0\.1.*API token .*okta .*Encrypted store.*Enabled/);
    const html = await page.content();
    assert.ok(!html.includes(CLEAR), 'a clear token from inputs.conf is never rendered');
    assert.ok(!html.includes(TOKEN), 'a stored token is never rendered');
    await shot('setup-list.png');
});

test('create: a wrong token is refused with Okta\'s answer, and nothing is left behind', async () => {
    await openForm('new');
    await page.fill('#oktasight-name', 'prod');
    await page.fill('#oktasight-org_url', simURL);
    await page.fill('#oktasight-api_token', 'wrong-token');
    await save();
    await page.waitForSelector('text=An input of this name exists');
    assert.equal(inputPosts().length, 0, 'an existing input is not touched');
    assert.equal(fake.state.passwords.get('oktasight:prod:').password, TOKEN, "nor are its secrets");
    await page.fill('#oktasight-name', 'acme');
    await page.fill('#oktasight-org_url', simURL);
    await page.fill('#oktasight-api_token', 'wrong-token');
    await page.fill('#oktasight-index', 'okta');
    await save();
    await expectSaveError(/401 E0000011 Invalid token provided.*create a new API token/);
    await shot('setup-create-invalid-token.png', 1500);
    assert.ok(!fake.state.inputs.has('acme'), 'no input was created');
    assert.ok(!fake.state.passwords.has('oktasight:acme:'), 'the token stored for the attempt was removed again');
    const [create] = inputPosts();
    assert.equal(create.form.api_token, MASK, 'the token reached splunkd only through storage/passwords');
});

test('create: a URL that is not https is caught in the form; a wrong host is refused by validation', async () => {
    await page.fill('#oktasight-org_url', 'http://acme.okta.com');
    const posts = inputPosts().length;
    await save();
    await page.waitForSelector('text=Use https://<your org host>');
    assert.equal(inputPosts().length, posts, 'nothing was posted');
    // A web server that is not an Okta org (the fake splunkd's port): its 404 comes back.
    await page.fill('#oktasight-org_url', fake.mgmtURI);
    await page.fill('#oktasight-api_token', TOKEN);
    await save();
    await expectSaveError(/404/);
    assert.ok(!fake.state.inputs.has('acme'));
    assert.ok(!fake.state.passwords.has('oktasight:acme:'));
});

test('create: the right token is stored encrypted and the input holds the mask', async () => {
    await page.fill('#oktasight-org_url', simURL);
    await page.fill('#oktasight-api_token', TOKEN);
    await page.fill('#oktasight-start_date', '-1d');
    await save();
    await formClosed();
    const notice = await (await page.waitForSelector('[data-test="notice"]')).innerText();
    assert.match(notice, /Input "acme" created: Okta accepted its credentials/);
    const acme = fake.state.inputs.get('acme');
    assert.equal(acme.api_token, MASK);
    assert.equal(acme.org_url, simURL);
    assert.equal(acme.index, 'okta');
    assert.equal(acme.start_date, '-1d');
    assert.equal(fake.state.passwords.get('oktasight:acme:').password, TOKEN);
    for (const p of inputPosts()) {
        for (const s of SECRETS) assert.ok(p.form[s] === undefined || p.form[s] === MASK, `${p.path} posted ${s} in clear`);
    }
    await page.waitForSelector('[data-test="row-acme"]');
    assert.ok(!(await page.content()).includes(TOKEN));
});

test('edit: posts only what changed; validation reads the stored token back from splunkd', async () => {
    await openForm('edit-acme');
    const token = await page.$eval('#oktasight-api_token', (el) => ({ value: el.value, placeholder: el.placeholder }));
    assert.deepEqual(token, { value: '', placeholder: 'Stored encrypted (hidden)' });
    assert.equal(await page.$eval('#oktasight-org_url', (el) => el.value), simURL);
    await page.fill('#oktasight-rate_limit_pct', '30');
    const before = fake.state.requests.length;
    await save();
    await formClosed();
    const edits = inputPosts().filter((p) => p.path.endsWith('/oktainput/acme'));
    assert.deepEqual(edits.at(-1).form, { rate_limit_pct: '30' });
    const v = fake.state.validations.at(-1);
    assert.equal(v.ok, true);
    assert.equal(v.params.api_token, MASK, 'splunkd passed the mask; oktainput read the token itself');
    const callbacks = fake.state.requests.slice(before).filter((r) => r.method === 'GET' && r.path.endsWith('/storage/passwords/oktasight:acme:'));
    assert.equal(callbacks.length, 1, 'oktainput --validate-arguments read the stored token once');
    assert.equal(fake.state.inputs.get('acme').rate_limit_pct, '30');
});

test('edit: saving without a change posts nothing', async () => {
    await openForm('edit-acme');
    const posts = fake.state.requests.filter((r) => r.method !== 'GET').length;
    await save();
    await formClosed();
    assert.match(await (await page.waitForSelector('[data-test="notice"]')).innerText(), /nothing changed, nothing saved/);
    assert.equal(fake.state.requests.filter((r) => r.method !== 'GET').length, posts);
});

test('edit: a wrong new token is refused and the previous one stays in the store', async () => {
    await openForm('edit-acme');
    await page.fill('#oktasight-api_token', 'rotated-but-wrong');
    await save();
    await expectSaveError(/Invalid token provided/);
    await shot('setup-edit-invalid-token.png', 1500);
    assert.equal(fake.state.passwords.get('oktasight:acme:').password, TOKEN, 'the working token was put back');
    assert.equal(fake.state.inputs.get('acme').api_token, MASK);
    await page.click('text=Cancel');
    await formClosed();
});

test('OAuth: the private key goes to the store as <name>#private_key; Okta\'s token endpoint answer is shown', async () => {
    await openForm('new');
    await page.fill('#oktasight-name', 'svcapp');
    await page.fill('#oktasight-org_url', simURL);
    await page.click('text=OAuth service app');
    await page.fill('#oktasight-client_id', '0oa1serviceapp');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    await page.fill('#oktasight-private_key', pem);
    await page.click('text=Proxy and TLS');
    await page.fill('#oktasight-proxy_username', 'splunk');
    await page.fill('#oktasight-proxy_password', 'proxy-secret');
    await shot('setup-create-oauth.png', 1500);
    await save();
    // The simulated org has no OAuth token endpoint: Okta's 404 comes back through validation.
    await expectSaveError(/token endpoint: 404.*E0000007/);
    const create = inputPosts().at(-1);
    assert.equal(create.form.private_key, MASK);
    assert.equal(create.form.proxy_password, MASK);
    assert.equal(create.form.auth_type, 'oauth');
    assert.equal(create.form.api_token, undefined);
    const stored = fake.state.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/storage/passwords'));
    assert.ok(stored.some((r) => r.form.name === 'svcapp#private_key' && r.form.password === pem.trim() && r.form.realm === 'oktasight'));
    assert.ok(stored.some((r) => r.form.name === 'svcapp#proxy_password'));
    assert.ok(![...fake.state.passwords.keys()].some((k) => k.startsWith('oktasight:svcapp')), 'removed after the failed create');
    await page.click('text=Cancel');
    await formClosed();
});

test('disable and enable', async () => {
    await page.click('[data-test="toggle-acme"]');
    await page.waitForSelector('[data-test="row-acme"] >> text=Disabled');
    assert.equal(fake.state.inputs.get('acme').disabled, true);
    await page.click('[data-test="toggle-acme"]');
    await page.waitForSelector('[data-test="row-acme"] >> text=Enabled');
    assert.equal(fake.state.inputs.get('acme').disabled, false);
});

test('delete removes the input and its secrets', async () => {
    await page.click('[data-test="delete-acme"]');
    await page.click('[data-test="confirm"]');
    await page.waitForSelector('[data-test="row-acme"]', { state: 'detached' });
    assert.ok(!fake.state.inputs.has('acme'));
    assert.ok(!fake.state.passwords.has('oktasight:acme:'));
    assert.ok(fake.state.inputs.has('prod') && fake.state.passwords.has('oktasight:prod:'), 'other inputs untouched');
    await shot('setup-after-delete.png');
});

test('with no input left, the page says how to start', async () => {
    for (const name of ['eu', 'legacy', 'prod']) {
        await page.click(`[data-test="delete-${name}"]`);
        await page.click('[data-test="confirm"]');
        await page.waitForSelector(`[data-test="row-${name}"]`, { state: 'detached' });
    }
    const empty = await (await page.waitForSelector('[data-test="empty"]')).innerText();
    assert.match(empty, /No Okta input yet/);
    assert.equal(fake.state.inputs.size, 0);
    assert.deepEqual([...fake.state.passwords.keys()], [], 'every secret went with its input');
    await shot('setup-empty.png');
});

test('the page raised no error in the browser', () => {
    if (process.env.SETUP_TEST_TIMING) console.log(fake.state.validations.map((v) => `${v.name} ${v.ok} ${v.ms}ms`).join('\n'));
    assert.deepEqual(pageErrors, []);
});

test('every setting of README/inputs.conf.spec has a field on the page', () => {
    const spec = readFileSync(path.join(root, 'README/inputs.conf.spec'), 'utf8');
    const keys = [...spec.matchAll(/^([a-z_]+) = /gm)].map((m) => m[1]);
    assert.ok(keys.length >= 20, `read ${keys.length} settings from the spec`);
    const names = new Set(FIELDS.map((f) => f.name));
    // start_by_shell is Splunk's own setting, shipped false in default/inputs.conf: no field.
    assert.deepEqual(keys.filter((k) => !names.has(k) && k !== 'start_by_shell'), []);
});
