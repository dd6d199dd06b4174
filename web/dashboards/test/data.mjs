// Generates the data the render test feeds the dashboards: a simulated Okta org (oktasim)
// read by oktainput and sessionized by oktasession, as scripts/demo.sh chains them. Needs the
// binaries `make build` puts in bin/.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '../../..');
const bin = (name) => path.join(repo, 'bin', name);

// startSim starts oktasim serve and resolves with its URL once it listens.
function startSim(dir, name, args) {
    const out = path.join(dir, `${name}.sim.out`);
    const child = spawn(bin('oktasim'), ['serve', '-addr', '127.0.0.1:0', '-tls', '-ca-out', path.join(dir, `${name}.ca.pem`),
        '-token-env', 'OKTASIGHT_TEST_TOKEN', ...args], {
        stdio: ['ignore', fs.openSync(out, 'w'), fs.openSync(path.join(dir, `${name}.sim.err`), 'w')],
    });
    return new Promise((resolve, reject) => {
        const deadline = Date.now() + 15000;
        const poll = () => {
            const m = fs.readFileSync(out, 'utf8').match(/listening on (\S+)/);
            if (m) {
                resolve({ url: m[1], ca: path.join(dir, `${name}.ca.pem`), stop: () => child.kill() });
            } else if (child.exitCode !== null || Date.now() > deadline) {
                reject(new Error(`oktasim ${name} did not start: ${fs.readFileSync(path.join(dir, `${name}.sim.err`), 'utf8')}`));
            } else {
                setTimeout(poll, 50);
            }
        };
        poll();
    });
}

// runInput runs oktainput once until caught up and returns its stderr lines.
function runInput(dir, sim, name, extra = [], token = process.env.OKTASIGHT_TEST_TOKEN, timeout = 120000) {
    const r = spawnSync(bin('oktainput'), ['run', '--name', name, '--org-url', sim.url, '--ca-file', sim.ca,
        '--token-env', 'OKTASIGHT_TEST_TOKEN', '--checkpoint-dir', path.join(dir, `cp-${name}`),
        '--out', path.join(dir, `${name}.ndjson`), '--start-date', '-2d', '--once', ...extra], {
        env: { ...process.env, OKTASIGHT_TEST_TOKEN: token }, encoding: 'utf8', timeout, killSignal: 'SIGTERM',
    });
    return r.stderr.split('\n').filter(Boolean);
}

// generate writes events.ndjson, sequences.ndjson and input.log under dir and returns them parsed.
export async function generate(dir) {
    // A fresh org each run: oktainput appends to its output and resumes from its checkpoint.
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    process.env.OKTASIGHT_TEST_TOKEN = `test-${process.pid}-${Date.now()}`;
    const log = [];
    // prod: two days of sign-ins (this period and the previous one), read in one go, then polled again (live events would make each
    // poll chase the tail for seconds: too slow for CI).
    const prod = await startSim(dir, 'prod', ['-backlog', '12000', '-users', '150', '-seed', '7', '-start', '-48h',
        '-limit', '600']);
    // sandbox: a tight rate limit and faults (500s, 429s), read 100 events a page: it falls behind.
    const sandbox = await startSim(dir, 'sandbox', ['-backlog', '3000', '-users', '40', '-seed', '3', '-start', '-24h',
        '-limit', '8', '-window', '1s', '-faults', '500:0.08,429:0.05', '-fault-seed', '5']);
    try {
        for (let i = 0; i < 6; i++) {
            log.push(...runInput(dir, prod, 'prod'));
            if (i === 0) {
                // Stopped after 3 s, as splunkd stops an input; the next run resumes from the checkpoint.
                log.push(...runInput(dir, sandbox, 'sandbox', ['--page-limit', '100'], undefined, 3000));
            } else if (i === 3) {
                log.push(...runInput(dir, sandbox, 'sandbox', ['--page-limit', '100']));
            }
        }
        // A revoked token: oktainput says what failed and exits, as an admin would see it.
        log.push(...runInput(dir, sandbox, 'sandbox', [], 'revoked-token'));
    } finally {
        prod.stop();
        sandbox.stop();
    }
    fs.writeFileSync(path.join(dir, 'input.log'), `${log.join('\n')}\n`);
    const eventsFile = path.join(dir, 'prod.ndjson');
    const seq = spawnSync(bin('oktasession'), ['--file', eventsFile, '--format', 'json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (seq.status !== 0) {
        throw new Error(`oktasession: ${seq.stderr}`);
    }
    fs.writeFileSync(path.join(dir, 'sequences.ndjson'), seq.stdout);
    const parse = (text) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    return {
        events: parse(fs.readFileSync(eventsFile, 'utf8')),
        sandboxEvents: parse(fs.readFileSync(path.join(dir, 'sandbox.ndjson'), 'utf8')),
        sequences: parse(seq.stdout),
        inputLog: log,
    };
}
