'use strict';
// Tiny TAP-like check runner and admin-API client for the conformance scripts.
// Each check prints "ok - name" or "not ok - name: reason"; done() exits
// non-zero if any failed. Limits: sequential checks only, no plan line.

const http = require('http');
const https = require('https');
const fs = require('fs');

const CHECK_TIMEOUT_MS = 30000;

class Checks {
  constructor(prefix) {
    this.prefix = prefix;
    this.failed = 0;
    this.passed = 0;
    this.finished = false;
    // A script whose event loop drains before done() (e.g. a promise that
    // never settles) must not look like a pass.
    process.on('exit', (code) => {
      if (!this.finished) {
        process.stdout.write(`not ok - ${this.prefix}: ended before all checks ran (exit code ${code})\n`);
        process.exitCode = 1;
      }
    });
  }

  async check(name, fn) {
    const label = this.prefix ? `${this.prefix}: ${name}` : name;
    let timer;
    try {
      await Promise.race([
        fn(),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no result within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS); }),
      ]);
      this.passed += 1;
      process.stdout.write(`ok - ${label}\n`);
    } catch (e) {
      this.failed += 1;
      process.stdout.write(`not ok - ${label}: ${e && e.message ? e.message : e}\n`);
    } finally {
      clearTimeout(timer);
    }
  }

  done() {
    this.finished = true;
    process.stdout.write(`# ${this.prefix || 'checks'}: ${this.passed} passed, ${this.failed} failed\n`);
    process.exit(this.failed ? 1 : 0);
  }
}

function fail(msg) { throw new Error(msg); }

function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) fail(`${what}: expected ${b}, got ${a}`);
}

function truthy(v, what) { if (!v) fail(what); }

// Runs fn, which must throw; returns the error for further assertions.
async function rejects(fn, what) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return fail(`${what}: expected an error, the call succeeded`);
}

// An admin client: admin('verb', {json}) -> parsed JSON; throws on non-200.
function adminClient(baseUrl, caFile) {
  const ca = caFile ? fs.readFileSync(caFile) : undefined;
  return (verb, body = {}) => new Promise((resolve, reject) => {
    const u = new URL(`/_admin/${verb}`, baseUrl);
    const data = Buffer.from(JSON.stringify(body));
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(u, {
      method: 'POST', ca, agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': data.length },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let obj;
        try { obj = JSON.parse(text); } catch (_) { obj = { raw: text }; }
        if (res.statusCode !== 200) reject(new Error(`admin ${verb} -> ${res.statusCode}: ${obj.error || text}`));
        else resolve(obj);
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function parseFlags(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    out[m[1]] = m[2] !== undefined ? m[2] : (argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : true);
  }
  return out;
}

module.exports = { Checks, fail, eq, truthy, rejects, adminClient, sleep, parseFlags };
