#!/usr/bin/env node
// Runs mcp-remote (the stdio bridge Claude Desktop uses) against a ttai
// /mcp URL, as Claude Desktop would: writes initialize, then calls a
// tool over its stdin, and prints one JSON summary.  mcp-remote signs
// in by itself through the browser in $BROWSER.
//
//   node t/e2e/mcp-remote-client.mjs --url URL --port CALLBACK_PORT
//
// Exits 0 when both answers came, 1 otherwise, 2 on a usage error.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = {};
for (let i = 0; i < args.length; i++) {
    if (args[i] === '--help' || args[i] === '-h') {
        console.log('Usage: node t/e2e/mcp-remote-client.mjs --url URL --port PORT');
        process.exit(0);
    }
    if ((args[i] === '--url' || args[i] === '--port') && i + 1 < args.length) {
        opt[args[i].slice(2)] = args[++i];
    } else {
        console.error(`mcp-remote-client: unknown argument ${args[i]}`);
        process.exit(2);
    }
}
if (!opt.url || !opt.port) {
    console.error('mcp-remote-client: --url and --port are needed');
    process.exit(2);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
                          '../..');
const child = spawn(path.join(root, 'node_modules/.bin/mcp-remote'),
                    [opt.url, opt.port], { stdio: ['pipe', 'pipe', 'pipe'] });

const summary = { initialize: null, call: null, stderr: [] };
const waiting = new Map();

createInterface({ input: child.stdout }).on('line', (line) => {
    let msg;
    try {
        msg = JSON.parse(line);
    } catch {
        return;
    }
    if (msg.id !== undefined && waiting.has(msg.id)) {
        waiting.get(msg.id)(msg);
        waiting.delete(msg.id);
    }
});
createInterface({ input: child.stderr }).on('line', (line) => {
    summary.stderr.push(line);
});

function send(msg, timeout = 60000) {
    child.stdin.write(JSON.stringify(msg) + '\n');
    if (msg.id === undefined) {
        return Promise.resolve(null);
    }
    return new Promise((resolve, reject) => {
        waiting.set(msg.id, resolve);
        setTimeout(() => reject(new Error(`no answer to ${msg.method}`)),
                   timeout);
    });
}

let rc = 1;
try {
    summary.initialize = await send({ jsonrpc: '2.0', id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {},
                  clientInfo: { name: 'mcp-remote-test', version: '1' } } });
    await send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    summary.call = await send({ jsonrpc: '2.0', id: 2, method: 'tools/call',
        params: { name: 'get_accounts', arguments: {} } });
    rc = summary.initialize.result && summary.call.result ? 0 : 1;
} catch (e) {
    summary.error = e.message;
} finally {
    child.kill('SIGTERM');
}

console.log(JSON.stringify(summary, null, 1));
process.exit(rc);
