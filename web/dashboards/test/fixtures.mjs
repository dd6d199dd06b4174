// The rows each dashboard data source would return, computed from the generated traffic the
// way its SPL computes them (field names, types and shapes as Splunk returns them). A data
// source without rows here fails the render test.
import fs from 'node:fs';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '../../..');
const HOUR = 3600;

// frame turns row objects into the {fields, columns} a data source returns.
export function frame(rows, fields) {
    const names = fields || [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return { fields: names.map((name) => ({ name })), columns: names.map((f) => rows.map((r) => (r[f] === undefined ? null : r[f]))) };
}

const iso = (sec) => new Date(sec * 1000).toISOString().replace('Z', '+00:00');
const strftime = (sec, withSeconds = false) => {
    const s = new Date(sec * 1000).toISOString();
    return withSeconds ? `${s.slice(5, 10)} ${s.slice(11, 19)}` : `${s.slice(0, 10)} ${s.slice(11, 16)}`;
};
const get = (obj, dotted) => dotted.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
const countBy = (items, keyFn) => items.reduce((m, it) => {
    const k = keyFn(it);
    if (k != null) {
        m.set(k, (m.get(k) || 0) + 1);
    }
    return m;
}, new Map());

// timechart buckets items into span-second bins over [t0, t1), one column per series.
function timechart(items, timeOf, seriesOf, t0, t1, span = 30 * 60, valueOf = () => 1, agg = (a, b) => a + b) {
    const start = Math.floor(t0 / span) * span;
    const n = Math.ceil((t1 - start) / span);
    const series = [...new Set(items.map(seriesOf).filter((s) => s != null))].sort();
    const rows = Array.from({ length: n }, (_, i) => ({ _time: iso(start + i * span) }));
    for (const it of items) {
        const t = timeOf(it);
        const i = Math.floor((t - start) / span);
        const s = seriesOf(it);
        if (i < 0 || i >= n || s == null) {
            continue;
        }
        const v = valueOf(it);
        rows[i][s] = rows[i][s] === undefined ? v : agg(rows[i][s], v);
    }
    for (const r of rows) {
        for (const s of series) {
            if (r[s] === undefined && agg.length === 2 && valueOf.length === 0) {
                r[s] = 0;
            }
        }
    }
    return { rows, fields: ['_time', ...series] };
}

// chart is `chart count OVER over BY by`.
function chart(items, overOf, byOf, overName) {
    const by = [...new Set(items.map(byOf))].sort();
    const m = new Map();
    for (const it of items) {
        const o = overOf(it);
        if (!m.has(o)) {
            m.set(o, Object.fromEntries([[overName, o], ...by.map((b) => [b, 0])]));
        }
        m.get(o)[byOf(it)]++;
    }
    const rows = [...m.values()].sort((a, b) => String(a[overName]).localeCompare(String(b[overName])));
    return frame(rows, [overName, ...by]);
}

// stepNames mirrors the dashboards' mvmap: eventTypes to short step names, deduplicated.
export function stepNames(steps) {
    const name = (s) => {
        if (s === 'user.session.start') return 'password';
        if (s === 'policy.evaluate_sign_on') return 'policy';
        if (/^(user\.authentication\.auth_via_mfa|system\.(push|sms|email|voice)\.send_(factor_verify_push|factor_verify_message|mfa_challenge_call))$/.test(s)) return 'MFA';
        if (s === 'user.authentication.verify') return 'verify';
        if (s === 'user.authentication.sso') return 'app SSO';
        if (s === 'application.policy.sign_on.deny_access') return 'denied by app policy';
        if (s === 'user.mfa.factor.activate' || /send_phone_verification/.test(s)) return 'MFA enrolment';
        if (/password_reset|send_password_reset/.test(s)) return 'reset sent';
        if (s === 'user.account.reset_password') return 'reset';
        if (s === 'user.account.update_password') return 'new password';
        if (/account_unlock/.test(s)) return 'unlock sent';
        if (s === 'user.account.unlock_token') return 'unlock link';
        if (s === 'user.account.unlock') return 'unlocked';
        return null;
    };
    return [...new Set(steps.map(name).filter(Boolean))];
}

// behaviors returns the Okta behaviours a debugData.behaviors string marks POSITIVE.
const behaviors = (s) => [...String(s || '').matchAll(/([A-Za-z][A-Za-z -]+)=POSITIVE/g)].map((m) => m[1].trim());
const riskLevel = (s) => (String(s || '').match(/level=(\w+)/) || [, 'none'])[1];

// alertStanzas reads the app's alerts from savedsearches.conf (names and severities).
function alertStanzas() {
    const conf = fs.readFileSync(path.join(repo, 'default/savedsearches.conf'), 'utf8');
    const out = [];
    let cur = null;
    for (const line of conf.split('\n')) {
        const h = line.match(/^\[(.+)\]\s*$/);
        if (h) {
            cur = { name: h[1], severity: 3, alert: false };
            out.push(cur);
        } else if (cur) {
            const kv = line.match(/^\s*([\w.]+)\s*=\s*(.*)$/);
            if (kv && kv[1] === 'alert.severity') {
                cur.severity = Number(kv[2]);
            }
            if (kv && kv[1] === 'counttype') {
                cur.alert = true;
            }
        }
    }
    return out.filter((s) => s.alert);
}

// build computes every dashboard's fixtures from the generated data.
export function build(data) {
    const now = Math.ceil(Math.max(...data.events.map((e) => Date.parse(e.published) / 1000)));
    const t0 = now - 24 * HOUR;
    const ev = data.events.map((e) => ({ ...e, _t: Date.parse(e.published) / 1000 }));
    const cur = ev.filter((e) => e._t >= t0);
    const prev = ev.filter((e) => e._t < t0 && e._t >= t0 - 24 * HOUR);
    const seqs = data.sequences.filter((s) => s.start >= t0);
    const signins = cur.filter((e) => e.eventType === 'user.session.start');
    const failed = signins.filter((e) => e.outcome.result === 'FAILURE');
    const out = {};

    // --- Sign-in overview
    const periodRow = (events, period) => {
        const si = events.filter((e) => e.eventType === 'user.session.start');
        const ok = si.filter((e) => e.outcome.result === 'SUCCESS').length;
        const bad = si.filter((e) => e.outcome.result === 'FAILURE').length;
        return {
            period, signins: si.length, succeeded: ok, failed: bad,
            users: new Set(si.map((e) => e.actor.alternateId)).size,
            client_ips: new Set(si.map((e) => e.client.ipAddress)).size,
            countries: new Set(si.map((e) => get(e, 'client.geographicalContext.country'))).size,
            success_pct: si.length ? Math.round(1000 * ok / si.length) / 10 : null,
        };
    };
    const periods = [periodRow(prev, '1 previous period'), periodRow(cur, '2 this period')];
    const ov = {};
    ov.ds_periods = frame(periods);
    for (const f of ['signins', 'failed', 'success_pct', 'users']) {
        ov[`ds_kpi_${f === 'success_pct' ? 'rate' : f}`] = frame(periods.map((p) => ({ period: p.period, [f]: p[f] })), ['period', f]);
    }
    const labels = { signins: 'Sign-ins', failed: 'Failed sign-ins', success_pct: 'Success rate (%)', users: 'Users signing in', client_ips: 'Client IPs', countries: 'Countries' };
    ov.ds_compare = frame(Object.keys(labels).map((m) => ({
        metric: labels[m], this_period: periods[1][m], previous_period: periods[0][m],
        change_pct: periods[0][m] > 0 ? Math.round(1000 * (periods[1][m] - periods[0][m]) / periods[0][m]) / 10 : null,
    })), ['metric', 'this_period', 'previous_period', 'change_pct']);
    const oc = timechart(signins, (e) => e._t, (e) => e.outcome.result, t0, now);
    ov.ds_outcome = frame(oc.rows, oc.fields);
    const signinSeqs = seqs.filter((s) => s.flow === 'signin');
    ov.ds_seq = frame(signinSeqs);
    ov.ds_status = chart(signinSeqs, (s) => s.flow, (s) => s.status, 'flow');
    ov.ds_paths = chart(signinSeqs, (s) => stepNames(s.steps).join('›'), (s) => s.status, 'path');
    const st = timechart(signinSeqs, (s) => s.start, (s) => s.status, t0, now);
    ov.ds_seq_time = frame(st.rows, st.fields);
    const factor = (e) => get(e, 'debugContext.debugData.factor') || get(e, 'authenticationContext.credentialType') || 'unknown';
    ov.ds_factors = chart(cur.filter((e) => e.eventType === 'user.authentication.auth_via_mfa'), factor, (e) => e.outcome.result, 'factor');
    const byUser = new Map();
    for (const e of failed) {
        const u = byUser.get(e.actor.alternateId) || { user: e.actor.alternateId, failures: 0, ips: new Set(), countries: new Set(), last: 0 };
        u.failures++;
        u.ips.add(e.client.ipAddress);
        u.countries.add(get(e, 'client.geographicalContext.country'));
        u.last = Math.max(u.last, e._t);
        byUser.set(u.user, u);
    }
    ov.ds_top_users = frame([...byUser.values()].sort((a, b) => b.failures - a.failures).slice(0, 100).map((u) => ({
        user: u.user, failures: u.failures, client_ips: u.ips.size, countries: u.countries.size, last_failure: strftime(u.last),
    })), ['user', 'failures', 'client_ips', 'countries', 'last_failure']);
    const byIP = new Map();
    for (const e of failed) {
        const r = byIP.get(e.client.ipAddress) || { src_ip: e.client.ipAddress, failures: 0, users: new Set(), country: null, isp: null };
        r.failures++;
        r.users.add(e.actor.alternateId);
        r.country = get(e, 'client.geographicalContext.country');
        r.isp = get(e, 'securityContext.isp');
        byIP.set(r.src_ip, r);
    }
    ov.ds_top_ips = frame([...byIP.values()].sort((a, b) => b.failures - a.failures).slice(0, 100).map((r) => ({ ...r, users: r.users.size })),
        ['src_ip', 'failures', 'users', 'country', 'isp']);
    const geo = signins.map((e) => ({
        _time: iso(e._t), country: get(e, 'client.geographicalContext.country') || 'unknown', city: get(e, 'client.geographicalContext.city') || 'unknown',
        risk: riskLevel(get(e, 'debugContext.debugData.risk')), behavior: behaviors(get(e, 'debugContext.debugData.behaviors')),
        'outcome.result': e.outcome.result, 'actor.alternateId': e.actor.alternateId, 'client.ipAddress': e.client.ipAddress,
    }));
    ov.ds_geo = frame(geo);
    const countries = new Map();
    for (const g of geo) {
        const c = countries.get(g.country) || { country: g.country, success: 0, failure: 0, total: 0 };
        c.total++;
        c.success += g['outcome.result'] === 'SUCCESS' ? 1 : 0;
        c.failure += g['outcome.result'] === 'FAILURE' ? 1 : 0;
        countries.set(g.country, c);
    }
    ov.ds_geo_countries = frame([...countries.values()].sort((a, b) => b.total - a.total).slice(0, 12), ['country', 'success', 'failure']);
    const places = new Map();
    for (const g of geo) {
        const k = `${g.country}\u0000${g.city}`;
        const p = places.get(k) || { country: g.country, city: g.city, signins: 0, failed: 0, users: new Set(), high_risk: 0, medium_risk: 0, b: new Set() };
        p.signins++;
        p.failed += g['outcome.result'] === 'FAILURE' ? 1 : 0;
        p.users.add(g['actor.alternateId']);
        p.high_risk += g.risk === 'HIGH' ? 1 : 0;
        p.medium_risk += g.risk === 'MEDIUM' ? 1 : 0;
        g.behavior.forEach((b) => p.b.add(b));
        places.set(k, p);
    }
    ov.ds_geo_table = frame([...places.values()]
        .sort((a, b) => b.high_risk - a.high_risk || b.failed - a.failed || b.signins - a.signins)
        .map((p) => ({ ...p, users: p.users.size, new_behaviors: [...p.b].sort(), b: undefined })),
    ['country', 'city', 'signins', 'failed', 'users', 'high_risk', 'medium_risk', 'new_behaviors']);
    // Alerts fired: the app's alerts (savedsearches.conf) firing where the data would trigger
    // them: a burst of failed sign-ins, an MFA prompt storm, an abandoned recovery, an input error.
    const alerts = alertStanzas();
    const pick = (re) => {
        const a = alerts.find((x) => re.test(x.name));
        if (!a) {
            throw new Error(`no alert in default/savedsearches.conf matches ${re}`);
        }
        return a;
    };
    const fired = [];
    const fire = (re, t) => {
        const a = pick(re);
        fired.push({ _time: iso(Math.ceil(t / 300) * 300), alert: a.name.replace(/^OktaSight - Alert - /, ''), severity: a.severity,
            sid: `scheduler__nobody_b2t0YXNpZ2h0__RMD5${(fired.length + 1).toString(16).padStart(12, '0')}_at_${Math.ceil(t / 300) * 300}_${fired.length + 1}` });
    };
    for (const s of seqs.filter((x) => x.flow === 'signin' && x.status === 'failure')) {
        const burst = seqs.filter((x) => x.user === s.user && x.status === 'failure' && Math.abs(x.start - s.start) <= 300);
        if (burst.length >= 3 && burst[0] === s) {
            fire(/failed sign-ins for one user in 5/i, s.start);
        }
    }
    seqs.filter((s) => s.mfa_sent >= 3 && s.mfa_verified === 0).forEach((s) => fire(/mfa fatigue/i, s.end));
    seqs.filter((s) => s.flow === 'sspr' && s.status !== 'success').forEach((s) => fire(/abandoned recovery/i, s.end + HOUR));
    seqs.filter((s) => s.flow === 'unlock' && s.status !== 'success').forEach((s) => fire(/abandoned recovery/i, s.end + HOUR));
    data.inputLog.filter((l) => /^ERROR /.test(l)).forEach(() => fire(/input error/i, now - 600));
    const inWindow = fired.filter((f) => Date.parse(f._time) / 1000 <= now);
    ov.ds_alerts = frame(inWindow, ['_time', 'alert', 'severity', 'sid']);
    ov.ds_kpi_alerts = frame([{ fired: inWindow.length }]);
    const at = timechart(inWindow, (f) => Date.parse(f._time) / 1000, (f) => f.alert, t0, now);
    ov.ds_alerts_time = frame(at.rows, at.fields);
    const byAlert = new Map();
    for (const f of inWindow) {
        const a = byAlert.get(f.alert) || { alert: f.alert, fired: 0, severity: f.severity, last: 0, _sid: null };
        a.fired++;
        const t = Date.parse(f._time) / 1000;
        if (t >= a.last) {
            a.last = t;
            a._sid = f.sid;
        }
        byAlert.set(f.alert, a);
    }
    ov.ds_alerts_table = frame([...byAlert.values()].sort((a, b) => b.last - a.last).map((a) => ({ ...a, last_fired: strftime(a.last) })),
        ['alert', 'fired', 'severity', 'last_fired', '_sid']);
    out.oktasight_signin_overview = { fixtures: ov };

    // --- Recovery
    const rec = seqs.filter((s) => s.flow === 'sspr' || s.flow === 'unlock');
    const rv = {};
    rv.ds_rec = frame(rec);
    for (const flow of ['sspr', 'unlock']) {
        const f = rec.filter((s) => s.flow === flow);
        const done = f.filter((s) => s.status === 'success').length;
        rv[`ds_${flow}_started`] = frame([{ count: f.length }]);
        rv[`ds_${flow}_rate`] = frame([{ completion_pct: f.length ? Math.round(1000 * done / f.length) / 10 : null }]);
    }
    rv.ds_by_channel = chart(rec, (s) => `${s.flow} by ${s.channel || 'unknown'}`, (s) => s.status, 'flow_channel');
    const unfinished = rec.filter((s) => s.status !== 'success');
    rv.ds_stops = chart(unfinished, (s) => stepNames(s.steps).pop() || 'none', (s) => s.flow, 'last_step');
    const groups = new Map();
    for (const s of rec) {
        const k = `${s.flow}/${s.channel || 'unknown'}`;
        const g = groups.get(k) || { flow: s.flow, channel: s.channel || 'unknown', started: 0, completed: 0, unfinished: 0, d: [] };
        g.started++;
        if (s.status === 'success') {
            g.completed++;
            g.d.push(s.duration);
        } else {
            g.unfinished++;
        }
        groups.set(k, g);
    }
    const pct = (arr, p) => {
        // Splunk's perc<N> picks the nearest rank.
        const a = [...arr].sort((x, y) => x - y);
        return a.length ? Math.round(a[Math.min(a.length - 1, Math.floor(p * (a.length - 1) + 0.5))]) : null;
    };
    rv.ds_completion = frame([...groups.values()].sort((a, b) => a.flow.localeCompare(b.flow) || a.channel.localeCompare(b.channel)).map((g) => ({
        ...g, completion_pct: Math.round(1000 * g.completed / g.started) / 10, median_s: pct(g.d, 0.5), p90_s: pct(g.d, 0.9),
    })), ['flow', 'channel', 'started', 'completed', 'unfinished', 'completion_pct', 'median_s', 'p90_s']);
    const rt = timechart(rec, (s) => s.start, (s) => s.status, t0, now);
    rv.ds_over_time = frame(rt.rows, rt.fields);
    rv.ds_recent = frame(unfinished.sort((a, b) => b.start - a.start).map((s) => ({
        started: `${new Date(s.start * 1000).toISOString().slice(0, 10)} ${new Date(s.start * 1000).toISOString().slice(11, 19)}`, flow: s.flow, channel: s.channel, user: s.user,
        status: s.status, stopped_after: stepNames(s.steps).pop(), src_ip: (s.src_ip || [])[0], seconds: Math.round(s.duration), seq_id: s.seq_id,
        _earliest: Math.floor(s.start) - HOUR, _latest: Math.ceil(s.end) + HOUR,
    })), ['started', 'flow', 'channel', 'user', 'status', 'stopped_after', 'src_ip', 'seconds', 'seq_id', '_earliest', '_latest']);
    out.oktasight_recovery = { fixtures: rv };

    // --- Investigate: the user with the most unsuccessful sequences, and one of them selected.
    // The user an analyst would open: unsuccessful sequences of several kinds among others.
    const score = new Map();
    for (const [u, n] of countBy(seqs.filter((s) => s.user), (s) => s.user)) {
        const m = seqs.filter((s) => s.user === u);
        const kinds = new Set(m.map((s) => s.status)).size * 100 + new Set(m.map((s) => s.flow)).size * 10;
        const unfinished = m.some((s) => s.status !== 'success');
        score.set(u, (unfinished ? 10000 : 0) + (n <= 30 ? 1000 : 0) + kinds + Math.min(n, 30));
    }
    const user = [...score.entries()].sort((a, b) => b[1] - a[1])[0][0];
    const mine = seqs.filter((s) => s.user === user).sort((a, b) => b.start - a.start);
    const selected = mine.find((s) => s.status !== 'success' && s.event_count > 1) || mine.find((s) => s.status !== 'success') || mine[0];
    const iv = {};
    iv.ds_seqs = frame(mine);
    const counts = {
        sequences: mine.length, failed: mine.filter((s) => s.status === 'failure').length,
        denied: mine.filter((s) => s.status === 'denied').length, incomplete: mine.filter((s) => s.status === 'incomplete').length,
    };
    iv.ds_counts = frame([counts]);
    for (const f of Object.keys(counts)) {
        iv[`ds_kpi_${f}`] = frame([{ [f]: counts[f] }]);
    }
    const lane = (s) => {
        const names = stepNames(s.steps);
        return `${strftime(s.start, true)}  ${s.flow}: ${names.join(' > ')}${s.status === 'success' ? '' : `  | stopped after ${names[names.length - 1]}`}`;
    };
    iv.ds_timeline = frame(mine.slice(0, 15).reverse().map((s) => ({
        _time: iso(s.start), lane: lane(s), duration: s.duration, status: s.status, steps_taken: stepNames(s.steps).join(' > '), user: s.user, seq_id: s.seq_id,
    })), ['_time', 'lane', 'duration', 'status', 'steps_taken', 'user', 'seq_id']);
    iv.ds_seq_table = frame(mine.map((s) => {
        const names = stepNames(s.steps);
        return {
            started: strftime(s.start, true), flow: s.flow + (s.app ? ` (${s.app})` : ''), status: s.status, steps_taken: names.join(' > '),
            stopped_after: s.status === 'success' ? '' : names[names.length - 1], user: s.user, src_ip: (s.src_ip || []).join(', '),
            mfa_factors: (s.mfa_factors || []).join(', '), reasons: (s.reasons || []).join('; '), seq_id: s.seq_id,
        };
    }), ['started', 'flow', 'status', 'steps_taken', 'stopped_after', 'user', 'src_ip', 'mfa_factors', 'reasons', 'seq_id']);
    const uuids = new Set(selected.uuids);
    const rawRow = (e) => ({
        time: `${strftime(e._t, true)}.${String(Math.round((e._t % 1) * 1000)).padStart(3, '0')}`, eventType: e.eventType,
        outcome: e.outcome.result, reason: e.outcome.reason, src_ip: e.client.ipAddress,
        country: get(e, 'client.geographicalContext.country'), city: get(e, 'client.geographicalContext.city'),
        factor: get(e, 'debugContext.debugData.factor') || null, displayMessage: e.displayMessage, uuid: e.uuid,
    });
    iv.ds_seq_events = frame(ev.filter((e) => uuids.has(e.uuid)).sort((a, b) => a._t - b._t).map(rawRow),
        ['time', 'eventType', 'outcome', 'reason', 'src_ip', 'country', 'city', 'factor', 'displayMessage', 'uuid']);
    const touches = (e) => e.actor.alternateId === user || (e.target || []).some((t) => t.alternateId === user);
    const userEvents = cur.filter(touches);
    iv.ds_events = frame(userEvents.map((e) => ({ _time: iso(e._t), eventType: e.eventType, 'outcome.result': e.outcome.result })));
    const et = timechart(userEvents, (e) => e._t, (e) => e.outcome.result, t0, now);
    iv.ds_event_timeline = frame(et.rows, et.fields);
    const types = new Map();
    for (const e of userEvents) {
        const r = types.get(e.eventType) || { eventType: e.eventType, count: 0, failed_or_denied: 0, last: 0 };
        r.count++;
        r.failed_or_denied += ['FAILURE', 'DENY'].includes(e.outcome.result) ? 1 : 0;
        r.last = Math.max(r.last, e._t);
        types.set(e.eventType, r);
    }
    iv.ds_event_types = frame([...types.values()].sort((a, b) => b.count - a.count).map((r) => ({ ...r, last: strftime(r.last, true) })),
        ['eventType', 'count', 'failed_or_denied', 'last']);
    out.oktasight_investigate = { fixtures: iv, tokens: { user, by: 'user', seq: selected.seq_id }, user, selected: selected.seq_id };

    // --- Ingest health: oktainput's own stats and error lines. Each run of the generator is one
    // polling cycle; the cycles are laid along the day (their values are as oktainput logged them).
    const kv = (line) => Object.fromEntries([...line.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map((m) => [m[1], m[2].replace(/^"|"$/g, '')]));
    const statsLines = data.inputLog.filter((l) => l.includes('oktainput stats')).map(kv);
    const perInput = new Map();
    statsLines.forEach((s) => perInput.set(s.stanza, [...(perInput.get(s.stanza) || []), s]));
    const stats = [];
    for (const [stanza, lines] of perInput) {
        lines.forEach((s, i) => stats.push({
            _time: now - Math.round((lines.length - i) * (22 * HOUR) / lines.length), host: 'sh1', input_stanza: stanza, okta_org: s.org,
            input_events: Number(s.events), input_pages: Number(s.pages), duplicates_skipped: Number(s.duplicates_skipped),
            lag_seconds: Number(s.lag_seconds), rate_limit_limit: Number(s.rate_limit_limit), rate_limit_remaining: Number(s.rate_limit_remaining),
            retries: Number(s.retries), throttled_seconds: Number(s.throttled_seconds), caught_up: s.caught_up,
        }));
    }
    stats.sort((a, b) => a._time - b._time);
    const hv = {};
    hv.ds_stats = frame(stats.map((s) => ({ ...s, _time: iso(s._time) })));
    const inputs = [...perInput.keys()].map((stanza) => {
        const l = stats.filter((s) => s.input_stanza === stanza);
        const last = l[l.length - 1];
        const sum = (f) => l.reduce((a, s) => a + s[f], 0);
        return {
            input_stanza: stanza, host: last.host, org: last.okta_org, caught_up: last.caught_up, lag_seconds: Math.round(10 * last.lag_seconds) / 10,
            lag_threshold: 900, last_report: strftime(last._time, true), events: sum('input_events'), pages: sum('input_pages'),
            rate_limit: last.rate_limit_limit, lowest_remaining: Math.min(...l.map((s) => s.rate_limit_remaining)), retries: sum('retries'),
            throttled_seconds: Math.round(10 * sum('throttled_seconds')) / 10,
        };
    });
    hv.ds_inputs = frame(inputs);
    const health = {
        inputs: inputs.length, behind: inputs.filter((i) => i.caught_up === 'false').length,
        max_lag: Math.max(...inputs.map((i) => i.lag_seconds)), events: inputs.reduce((a, i) => a + i.events, 0),
    };
    hv.ds_health = frame([health]);
    for (const f of Object.keys(health)) {
        hv[`ds_kpi_${f}`] = frame([{ [f]: health[f] }]);
    }
    const span = 5 * 60;
    const tcs = (valueOf, agg) => timechart(stats, (s) => s._time, (s) => s.input_stanza, t0, now, span, valueOf, agg);
    const epm = tcs((s) => s.input_events / 5, (a, b) => a + b);
    hv.ds_epm = frame(epm.rows, epm.fields);
    const lag = tcs((s) => s.lag_seconds, Math.max);
    lag.rows.forEach((r) => { r['alert threshold'] = 900; });
    hv.ds_lag = frame(lag.rows, [...lag.fields, 'alert threshold']);
    const rem = tcs((s) => Math.round(1000 * s.rate_limit_remaining / s.rate_limit_limit) / 10, Math.min);
    rem.rows.forEach((r) => { r['rate limit'] = 100; });
    hv.ds_remaining = frame(rem.rows, [...rem.fields, 'rate limit']);
    const thr = tcs((s) => s.throttled_seconds, (a, b) => a + b);
    hv.ds_throttle = frame(thr.rows, thr.fields);
    const ret = timechart(stats, (s) => s._time, () => 'retries', t0, now, span, (s) => s.retries, (a, b) => a + b);
    const dup = timechart(stats, (s) => s._time, () => 'duplicates_skipped', t0, now, span, (s) => s.duplicates_skipped, (a, b) => a + b);
    ret.rows.forEach((r, i) => { r.duplicates_skipped = dup.rows[i].duplicates_skipped; });
    hv.ds_retries = frame(ret.rows, ['_time', 'retries', 'duplicates_skipped']);
    const sources = [
        ...data.events.map((e) => ({ t: Date.parse(e.published) / 1000, source: 'okta:prod.example.okta.com' })),
        ...data.sandboxEvents.map((e) => ({ t: Date.parse(e.published) / 1000, source: 'okta:sandbox.example.okta.com' })),
    ];
    const idx = timechart(sources, (s) => s.t, (s) => s.source, t0, now, span);
    hv.ds_indexed = frame(idx.rows, idx.fields);
    const errors = data.inputLog.filter((l) => /^(ERROR|FATAL) /.test(l)).map((l) => ({
        time: strftime(now - 600, true), host: 'sh1', log_level: l.split(' ')[0], input_message: l.replace(/^(ERROR|FATAL) /, ''),
    }));
    hv.ds_errors = frame(errors, ['time', 'host', 'log_level', 'input_message']);
    hv.ds_kpi_errors = frame([{ errors: errors.length }]);
    out.oktasight_ingest_health = { fixtures: hv };
    return out;
}
