// Serves the bundled render page at Splunk Web's dashboard paths (/app/oktasight/<view>) and
// answers the few splunkd endpoints the time range input calls, as splunkd would. Any other
// request is a 404 the test reports.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const types = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html' };

// Splunk's default time presets (etc/system/default/times.conf), the ones the picker lists.
const presets = [
    ['Last 15 minutes', '-15m', 'now', 1], ['Last 60 minutes', '-60m@m', 'now', 2], ['Last 4 hours', '-4h@m', 'now', 3],
    ['Last 24 hours', '-24h@h', 'now', 4], ['Last 7 days', '-7d@h', 'now', 5], ['Last 30 days', '-30d@d', 'now', 6],
    ['Today', '@d', 'now', 7], ['Yesterday', '-1d@d', '@d', 8], ['All time', '0', '', 9],
];

// relative resolves the subset of Splunk's relative time syntax the dashboards use.
function relative(spec, now = Date.now()) {
    if (spec === 'now' || spec === '') {
        return new Date(now);
    }
    if (/^\d+(\.\d+)?$/.test(spec)) {
        return new Date(Number(spec) * 1000);
    }
    const m = spec.match(/^([-+]\d+)([smhdw])(?:@([smhdw]))?$|^@([smhdw])$/);
    if (!m) {
        return null;
    }
    const unit = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };
    let t = now + (m[1] ? Number(m[1]) * unit[m[2]] : 0);
    const snap = m[3] || m[4];
    if (snap) {
        t -= t % unit[snap];
    }
    return new Date(t);
}

export function startServer(buildDir, log) {
    const server = http.createServer((req, res) => {
        const url = new URL(req.url, 'http://localhost');
        const json = (body) => {
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify(body));
        };
        const p = url.pathname;
        if (p.startsWith('/splunkd/__raw/')) {
            if (p.endsWith('/services/authentication/current-context')) {
                return json({ entry: [{ name: 'analyst', content: { username: 'analyst', capabilities: ['search', 'rtsearch'] } }] });
            }
            if (p.endsWith('/data/ui/times')) {
                return json({ entry: presets.map(([label, e, l, order]) => ({ name: label, content: { label, earliest_time: e, latest_time: l, order, disabled: false } })) });
            }
            if (p.endsWith('/services/search/timeparser')) {
                const time = url.searchParams.get('time');
                const t = relative(time);
                if (!t) {
                    res.statusCode = 400;
                    return json({ messages: [{ type: 'ERROR', text: `Invalid value "${time}" for time term 'time'` }] });
                }
                return json({ [time]: t.toISOString().replace('Z', '+00:00') });
            }
        }
        if (p === '/favicon.ico') {
            res.statusCode = 204;
            return res.end();
        }
        let file = null;
        if (/^\/app\/oktasight\/[\w-]+$/.test(p)) {
            file = path.join(buildDir, 'index.html');
        } else if (/^\/app\/oktasight\/(page\.js|page\.css)$/.test(p)) {
            file = path.join(buildDir, path.basename(p));
        }
        if (!file || !fs.existsSync(file)) {
            log(`404 ${req.method} ${req.url}`);
            res.statusCode = 404;
            return res.end();
        }
        res.setHeader('content-type', types[path.extname(file)]);
        return res.end(fs.readFileSync(file));
    });
    return new Promise((resolve) => {
        server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() }));
    });
}
