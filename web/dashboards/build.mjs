// Bundles the render page (src/page.jsx and Splunk's packages) into build/ with esbuild, so
// the test needs no network.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const here = import.meta.dirname;
const out = path.join(here, 'build');
fs.mkdirSync(out, { recursive: true });
await esbuild.build({
    entryPoints: [path.join(here, 'src/page.jsx')],
    bundle: true,
    minify: true,
    outfile: path.join(out, 'page.js'),
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    loader: { '.js': 'jsx' },
    logLevel: 'warning',
});
fs.copyFileSync(path.join(here, 'src/index.html'), path.join(out, 'index.html'));
