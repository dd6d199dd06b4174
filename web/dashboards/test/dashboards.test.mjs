// The dashboards as Splunk Web shows them: each definition validated by Splunk's own
// DashboardValidator with the Enterprise preset's schema, then rendered by @splunk/dashboard-core
// with the Enterprise preset in headless Chromium (Debian's), every data source answered with
// rows computed from oktasim traffic read by oktainput and sessionized by oktasession. Any page
// error, validation message, missing data source, failed request or panel message fails.
// Screenshots go to artifacts/<view>.png.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';

import { generate } from './data.mjs';
import { build } from './fixtures.mjs';
import { startServer } from './server.mjs';
import { readView } from '../tools/xmlview.mjs';

const here = import.meta.dirname;
const repo = path.resolve(here, '../../..');
const artifacts = path.join(here, '..', 'artifacts');
const viewsDir = path.join(repo, 'default/data/ui/views');
// Dashboard Studio views only (version="2"); the setup page is a Simple XML view with a script,
// tested by web/setup.
const views = fs.readdirSync(viewsDir)
    .filter((f) => f.endsWith('.xml') && /<dashboard\s[^>]*version="2"/.test(fs.readFileSync(path.join(viewsDir, f), 'utf8')))
    .map((f) => f.replace(/\.xml$/, '')).sort();
if (views.length < 4) {
    throw new Error(`${viewsDir}: ${views.length} Dashboard Studio views, expected the app's four`);
}

// Ajv prints these while it compiles Splunk's own schema (its networkGraph options), whatever
// the definition: they say nothing about ours.
const schemaCompileNoise = /^strict mode: missing type .* at "http:\/\/www\.splunk\.com\/dashboard\.schema\.json#/;
// Splunk's own benign warnings, whatever the definition: the layout's first draw, before it has
// measured its container (it then measures and scales), and the timeline's debug print of the
// device pixel ratio on a resize.
const splunkNoise = [
    /^Failed to calculate layout scale: canvasWidth=\d+, containerWidth=undefined; falling back to scale=1$/,
    /^\d+(\.\d+)? \d+(\.\d+)?$/,
];

// The markers Splunk's packages put in a panel that could not show its data.
const panelMessageSelectors = ['[data-test="message"]', '[data-test="error"]', '[data-test="error-message"]',
    '[data-test="missing-props-message"]', '[data-test="no-results-message"]', '[data-test="data-source-warning"]',
    '[data-test="search-data-warning"]', '[data-test="truncated-data-warning"]', '[data-test="dashboard-message"]',
    '[data-test="grid-layout-error-message"]', '[data-test="dashboard-context-error"]'];

let browser;
let server;
let fixtures;
const serverLog = [];

before(async () => {
    fs.mkdirSync(artifacts, { recursive: true });
    const data = await generate(path.join(artifacts, 'data'));
    fixtures = build(data);
    fs.writeFileSync(path.join(artifacts, 'fixtures.json'), JSON.stringify(fixtures));
    server = await startServer(path.join(here, '..', 'build'), (m) => serverLog.push(m));
    browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--no-first-run', '--disable-quic'],
    });
});

after(async () => {
    await shared?.page.close();
    await browser?.close();
    server?.close();
});

// open loads a page the way Splunk Web serves /app/oktasight/<view>, and records what it logs.
async function open(view, query = '', height = 900) {
    const page = await browser.newPage({ viewport: { width: 1440, height } });
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
        const noise = schemaCompileNoise.test(m.text()) || (m.type() === 'warning' && splunkNoise.some((re) => re.test(m.text())));
        if ((m.type() === 'error' || m.type() === 'warning') && !noise) {
            problems.push(`console ${m.type()}: ${m.text()}`);
        }
    });
    page.on('response', (r) => {
        if (r.status() >= 400) {
            problems.push(`HTTP ${r.status()} ${r.url()}`);
        }
    });
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.goto(`${server.url}/app/oktasight/${view}${query}`, { timeout: 120000 });
    return { page, problems };
}

// heightOf is the page height a definition needs: its inputs bar and its tallest layout, so the
// page is never resized (a resize redraws every chart).
const heightOf = (definition) => 140 + Math.max(...Object.values(definition.layout.layoutDefinitions).map((l) => l.options?.height || 900));

// render draws the definition with the given rows and waits until every panel has drawn.
async function render(page, definition, rows, tokens) {
    await page.evaluate((f) => { window.__fixtures = f; }, rows);
    await page.evaluate(([d, t]) => window.renderDashboard(d, t), [definition, tokens || null]);
    const expected = Object.keys(definition.visualizations).length;
    await page.waitForFunction((n) => document.querySelectorAll('[data-test="viz-item"]').length === n, expected, { timeout: 120000 });
    // Charts draw after their data arrives; wait until the page stops changing.
    await page.waitForFunction(() => {
        const size = document.getElementById('root').innerHTML.length;
        const same = window.__lastSize === size;
        window.__lastSize = size;
        return same;
    }, null, { polling: 1000, timeout: 120000 });
    return page.evaluate((selectors) => ({
        state: window.oktasight,
        panels: [...document.querySelectorAll('[data-test="viz-item"]')].map((el) => ({
            title: el.querySelector('[data-test="viz-title"]')?.textContent || '(untitled)',
            messages: selectors.flatMap((s) => [...el.querySelectorAll(s)].map((m) => `${s}: ${m.textContent.trim()}`)),
            drawn: !!el.querySelector('svg, canvas, table, [data-test="SingleValueWrapper"]'),
            text: el.textContent,
        })),
    }), panelMessageSelectors);
}

// The page the validation and render tests share: loading Splunk's bundle is the slow part.
let shared;
async function sharedPage() {
    if (!shared) {
        // Tall enough for every dashboard, so the page is never resized.
        const height = Math.max(...views.map((v) => heightOf(readView(path.join(viewsDir, `${v}.xml`)).definition)));
        shared = await open('oktasight_signin_overview', '', height);
    }
    shared.problems.length = 0;
    return shared;
}

describe('dashboard definitions', () => {
    for (const view of views) {
        test(`${view}: Splunk's DashboardValidator (Enterprise preset schema) finds no error or warning`, async () => {
            const { definition } = readView(path.join(viewsDir, `${view}.xml`));
            const { page, problems } = await sharedPage();
            const errors = await page.evaluate((d) => window.validateDefinition(d), definition);
            assert.deepEqual(errors, [], JSON.stringify(errors, null, 1));
            assert.deepEqual(problems, []);
        });
    }
});

describe('dashboards render', () => {
    for (const view of views) {
        test(`${view}: every panel draws its rows, no page, panel or validation error`, async () => {
            const { definition } = readView(path.join(viewsDir, `${view}.xml`));
            const fx = fixtures[view];
            assert.ok(fx, `no fixtures for ${view}`);
            const unknown = Object.keys(fx.fixtures).filter((id) => !definition.dataSources[id]);
            assert.deepEqual(unknown, [], 'fixtures for data sources the definition lacks');
            const { page, problems } = await sharedPage();
            const got = await render(page, definition, fx.fixtures, fx.tokens);
            await page.screenshot({ path: path.join(artifacts, `${view}.png`), clip: { x: 0, y: 0, width: 1440, height: heightOf(definition) } });
            assert.deepEqual(got.state.validationErrors, [], 'DashboardCore validation');
            assert.deepEqual(got.state.missing, [], 'data sources without rows');
            assert.deepEqual(problems, []);
            const bad = got.panels.filter((p) => p.messages.length || !p.drawn || /No search results returned/.test(p.text));
            assert.deepEqual(bad.map((p) => `${p.title}: ${p.messages.join('; ') || 'nothing drawn'}`), []);
            assert.equal(got.panels.length, Object.keys(definition.visualizations).length);
        });
    }

    test('the check fails a panel whose data source returns nothing', async () => {
        const view = 'oktasight_signin_overview';
        const { definition } = readView(path.join(viewsDir, `${view}.xml`));
        const rows = { ...fixtures[view].fixtures };
        delete rows.ds_top_users;
        const { page } = await sharedPage();
        const got = await render(page, definition, rows);
        assert.deepEqual(got.state.missing, ['ds_top_users']);
        const bad = got.panels.filter((p) => p.messages.length || /No search results returned/.test(p.text)).map((p) => p.title);
        assert.ok(bad.some((t) => t.startsWith('Top failing users')), `flagged: ${bad}`);
    });
});

describe('drilldowns', () => {
    test('a failing user on the overview opens Investigate with that user, and Investigate searches for them', async () => {
        const view = 'oktasight_signin_overview';
        const { definition } = readView(path.join(viewsDir, `${view}.xml`));
        const { page, problems } = await open(view, '', heightOf(definition));
        try {
            await render(page, definition, fixtures[view].fixtures);
            const table = page.locator('[data-test="viz-item"]', { hasText: 'Top failing users' });
            const cell = table.locator('tbody [data-test="row"]').first().locator('[data-test="cell"]').first();
            const user = (await cell.textContent()).trim();
            await Promise.all([page.waitForURL(/oktasight_investigate/, { timeout: 120000 }), cell.click()]);
            const url = new URL(page.url());
            assert.equal(url.pathname, '/app/oktasight/oktasight_investigate');
            assert.equal(url.searchParams.get('form.user'), user);
            assert.equal(url.searchParams.get('form.time.earliest'), '-24h@h');
            // The Investigate page opened by that URL searches for the user.
            const inv = readView(path.join(viewsDir, 'oktasight_investigate.xml')).definition;
            const got = await render(page, inv, fixtures.oktasight_investigate.fixtures);
            assert.match(got.state.requests.ds_seqs.query, new RegExp(`actor\\.alternateId="${user.replace(/[.]/g, '\\.')}"`));
            assert.deepEqual(problems, []);
        } finally {
            await page.close();
        }
    });

    test('a sequence row on Investigate selects its raw events', async () => {
        const view = 'oktasight_investigate';
        const { definition } = readView(path.join(viewsDir, `${view}.xml`));
        const fx = fixtures[view];
        const { page, problems } = await open(view, '', heightOf(definition));
        try {
            await render(page, definition, fx.fixtures, { ...fx.tokens, seq: '*' });
            const table = page.locator('[data-test="viz-item"]', { hasText: 'Sequence details' });
            const row = table.locator('tbody [data-test="row"]').first();
            const seq = (await row.locator('[data-test="cell"]').last().textContent()).trim();
            await row.locator('[data-test="cell"]').first().click();
            await page.waitForFunction((s) => (window.oktasight.requests.ds_seq_events?.query || '').includes(`seq_id="${s}"`), seq, { timeout: 20000 });
            assert.deepEqual(problems, []);
        } finally {
            await page.close();
        }
    });
});
