'use strict';
// Command-line and config-file parsing shared by the KMS test servers.
// Limits: a tiny --flag value parser (no combined short flags); repeatable flags
// collect into arrays; a JSON config file (--config FILE) is merged under the CLI.

const fs = require('fs');

// spec: { name: {type: 'string'|'number'|'bool'|'list', default} }
function parseArgs(argv, spec, usage) {
  const out = {};
  for (const [k, v] of Object.entries(spec)) {
    if (v.type === 'list') out[k] = [];
    else if ('default' in v) out[k] = v.default;
  }
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (a === '-h' || a === '--help') {
      process.stdout.write(usage);
      process.exit(0);
    }
    if (!a.startsWith('--')) die(`unexpected argument: ${a}\n${usage}`);
    let val;
    const eq = a.indexOf('=');
    if (eq > 0) { val = a.slice(eq + 1); a = a.slice(0, eq); }
    const name = a.slice(2);
    const s = spec[name];
    if (!s) die(`unknown option --${name}\n${usage}`);
    if (s.type === 'bool') { out[name] = val === undefined ? true : val !== 'false'; continue; }
    if (val === undefined) {
      if (i + 1 >= argv.length) die(`option --${name} needs a value`);
      val = argv[++i];
    }
    if (s.type === 'number') {
      const n = Number(val);
      if (!Number.isInteger(n) || n < 0) die(`option --${name}: not a non-negative integer: ${val}`);
      out[name] = n;
    } else if (s.type === 'list') out[name].push(val);
    else out[name] = val;
  }
  return out;
}

function loadConfig(file) {
  if (!file) return {};
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    die(`cannot read config ${file}: ${e.message}`);
  }
  return {};
}

function die(msg) {
  process.stderr.write(msg.endsWith('\n') ? msg : msg + '\n');
  process.exit(2);
}

module.exports = { parseArgs, loadConfig, die };
