// Builds the setup page into ../../appserver/static/oktasight_setup.js (committed, so the app
// package needs no node). `node build.mjs --check` builds in memory and fails if the committed
// file differs: the same sources and lockfile give the same bytes (esbuild is deterministic;
// no timestamps, no absolute paths, no source map).
import * as esbuild from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '..', '..', 'appserver', 'static', 'oktasight_setup.js');
const check = process.argv.includes('--check');

const result = await esbuild.build({
    absWorkingDir: here,
    entryPoints: ['src/index.jsx'],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    jsx: 'automatic',
    charset: 'utf8',
    legalComments: 'eof',
    logLevel: 'warning',
    write: false,
    outfile: out,
    define: {
        'process.env.NODE_ENV': '"production"',
        // Splunk Web loads dashboard scripts with RequireJS: a bundled UMD wrapper that saw its
        // global define() would register an anonymous module and break the page.
        define: 'undefined',
    },
    banner: { js: '/* oktasight setup page: built from web/setup (npm ci && npm run build). */' },
});
const bytes = result.outputFiles[0].contents;
if (check) {
    let committed;
    try {
        committed = readFileSync(out);
    } catch (err) {
        console.error(`setup page: ${out} is missing: run make setup-build and commit it`);
        process.exit(1);
    }
    if (!Buffer.from(bytes).equals(committed)) {
        console.error(`setup page: appserver/static/oktasight_setup.js does not match a fresh build of web/setup (${committed.length} bytes committed, ${bytes.length} built): run make setup-build and commit it`);
        process.exit(1);
    }
    console.log(`setup page: appserver/static/oktasight_setup.js matches a fresh build (${bytes.length} bytes)`);
} else {
    writeFileSync(out, bytes);
    console.log(`setup page: wrote appserver/static/oktasight_setup.js (${bytes.length} bytes)`);
}
