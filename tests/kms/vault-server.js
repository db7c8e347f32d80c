#!/usr/bin/env node
'use strict';
// HashiCorp Vault / OpenBao transit emulator for byokfs tests (Node.js stdlib only).
// Serves /v1/<mount>/{encrypt,decrypt,rewrap}/<name>, /datakey/(plaintext|wrapped)/<name>,
// /keys/<name> (create, read, delete, list), /keys/<name>/rotate, /keys/<name>/config,
// plus /v1/auth/token/{lookup-self,renew-self,revoke-self}, /v1/sys/health and
// /v1/sys/seal-status, with Vault's envelopes, status codes and error texts
// (400 {"errors":[msg]}, 403 permission denied, 404 {"errors":[]}, 503 sealed).
// Tokens come in X-Vault-Token or Authorization: Bearer; X-Vault-Namespace
// isolates keys. An unsigned admin API under /_admin/ manages tokens, policies,
// seal state, faults and counters.
// Limits (see README.md): transit only; no batch_input, convergent encryption,
// export/backup, signing/HMAC; no namespace-in-path form; no token create API.

const crypto = require('crypto');
const path = require('path');
const { parseArgs, loadConfig, die } = require('./lib/cli');
const clock = require('./lib/clock');
const admin = require('./lib/admin');
const { listen, readBody, sendJson } = require('./lib/httpserver');
const { Faults } = require('./lib/faults');
const { Counters } = require('./lib/counters');
const { TransitStore, VaultError, userErr, b64go, toInt } = require('./lib/vault-transit');
const { Auth, normNamespace } = require('./lib/vault-auth');
const { listVerbHook } = require('./lib/list-verb');

const USAGE = `usage: vault-server.js [options]
  --port N             TCP port on 127.0.0.1 (0 = pick one; default 0)
  --host ADDR          listen address (default 127.0.0.1)
  --port-file FILE     write the port here once listening (atomic)
  --tls                serve HTTPS; needs --tls-dir DIR or --cert/--key
  --tls-dir DIR        directory made by ./mkcerts (server.pem, server-key.pem)
  --cert FILE --key FILE
  --mount PATH         transit mount path (repeatable; default "transit")
  --root-token TOKEN   root token (default "root")
  --transit-key [MOUNT/]NAME[:derived]  create a key at start (repeatable; default
                       mount = the first --mount)
  --config FILE        JSON {mounts, rootToken, keys:[{name, mount, namespace, derived, type}],
                        tokens:[{id, policies, ttl, namespace}], policies:{name: {path:{...}}}}
  --version STR        version reported by sys/health (default 1.15.6)
  --quiet              no per-request log lines on stderr
Prints "READY vault <url> pid=<pid>" on stdout when listening.
`;

const args = parseArgs(process.argv.slice(2), {
  port: { type: 'number', default: 0 },
  host: { type: 'string', default: '127.0.0.1' },
  'port-file': { type: 'string' },
  tls: { type: 'bool', default: false },
  'tls-dir': { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  mount: { type: 'list' },
  'root-token': { type: 'string' },
  'transit-key': { type: 'list' },
  config: { type: 'string' },
  version: { type: 'string', default: '1.15.6' },
  quiet: { type: 'bool', default: false },
}, USAGE);
const config = loadConfig(args.config);
const MOUNTS = [...new Set([...(config.mounts || []), ...args.mount])].map((m) => m.replace(/^\/+|\/+$/g, ''));
if (!MOUNTS.length) MOUNTS.push('transit');
for (const m of MOUNTS) if (!/^[\w.-]+(\/[\w.-]+)*$/.test(m) || m.startsWith('sys') || m.startsWith('auth')) die(`bad mount path '${m}'`);
const DEFAULT_MOUNT = MOUNTS[0];
MOUNTS.sort((a, b) => b.length - a.length); // longest prefix first
const ROOT_TOKEN = args['root-token'] || config.rootToken || 'root';
const CLUSTER_ID = crypto.randomUUID();

// ---------------------------------------------------------------- state

let store;
let auth;
let sealed = false;
const faults = new Faults(['500', '503', '429', 'throttle', 'error']);
const counters = new Counters();

function initialKeys() {
  const list = [...(config.keys || [])];
  for (const spec of args['transit-key']) {
    const [p, flag] = spec.split(':');
    const mount = MOUNTS.find((m) => p.startsWith(`${m}/`)) || DEFAULT_MOUNT;
    const name = p.startsWith(`${mount}/`) ? p.slice(mount.length + 1) : p;
    list.push({ name, mount, derived: flag === 'derived' });
  }
  return list;
}

function resetState() {
  store = new TransitStore(clock.now);
  auth = new Auth({ rootToken: ROOT_TOKEN, now: clock.now });
  sealed = false;
  try {
    for (const [name, doc] of Object.entries(config.policies || {})) auth.putPolicy(name, doc);
    for (const t of config.tokens || []) auth.createToken(t);
    for (const k of initialKeys()) {
      store.upsert(normNamespace(k.namespace), k.mount || DEFAULT_MOUNT, k.name, k);
    }
  } catch (e) {
    die(`bad start-up configuration: ${e.message}`);
  }
}
resetState();

// ---------------------------------------------------------------- responses

function envelope(extra) {
  return {
    request_id: crypto.randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: null,
    warnings: null,
    auth: null,
    ...extra,
  };
}

const ok = (data, warnings) => ({ status: 200, body: envelope({ data, warnings: warnings && warnings.length ? warnings : null }) });
const DENIED = () => new VaultError(403, ['permission denied']);

// ---------------------------------------------------------------- routing

const NAME = '\\w(?:[\\w.@-]*\\w)?';
const ROUTES = [
  // [op, regex on the path below the mount, capability-by-method resolver]
  ['encrypt', new RegExp(`^encrypt/(${NAME})$`)],
  ['decrypt', new RegExp(`^decrypt/(${NAME})$`)],
  ['rewrap', new RegExp(`^rewrap/(${NAME})$`)],
  ['datakey', new RegExp(`^datakey/([^/]+)/(${NAME})$`)],
  ['rotate', new RegExp(`^keys/(${NAME})/rotate$`)],
  ['config', new RegExp(`^keys/(${NAME})/config$`)],
  ['keys', new RegExp(`^keys/(${NAME})$`)],
  ['list', /^keys\/?$/],
];

// Classifies a request path for counters, faults and dispatch.
function classify(method, rel) {
  if (rel === 'sys/health') return { op: 'health' };
  if (rel === 'sys/seal-status') return { op: 'seal-status' };
  const tok = /^auth\/token\/(lookup-self|renew-self|revoke-self)$/.exec(rel);
  if (tok) return { op: tok[1] };
  const mount = MOUNTS.find((m) => rel === m || rel.startsWith(`${m}/`));
  if (!mount) return { op: 'unknown' };
  const sub = rel.slice(mount.length + 1);
  for (const [op, re] of ROUTES) {
    const m = re.exec(sub);
    if (m) return { op, mount, m };
  }
  return { op: 'unknown', mount };
}

function capabilityFor(method, route, ns) {
  switch (method) {
    case 'GET': case 'HEAD': return 'read';
    case 'LIST': return 'list';
    case 'DELETE': return 'delete';
    case 'POST': case 'PUT':
      // Vault's existence check: writing to a missing key is "create".
      if (route.op === 'encrypt' || route.op === 'keys') {
        return store.get(ns, route.mount, route.m[1]) ? 'update' : 'create';
      }
      return 'update';
    default: return null;
  }
}

function needKey(ns, route, name, notFound = 'encryption key not found') {
  const p = store.get(ns, route.mount, name);
  if (!p) throw userErr(notFound);
  return p;
}

function transit(method, route, ns, body) {
  const write = method === 'POST' || method === 'PUT';
  const name = route.m && route.m[route.op === 'datakey' ? 2 : 1];
  switch (route.op) {
    case 'encrypt': {
      if (!write) break;
      if (body.batch_input !== undefined) throw userErr('batch_input is not supported by this emulator');
      if (body.plaintext === undefined || body.plaintext === null) throw userErr('missing plaintext to encrypt');
      const plaintext = b64go(body.plaintext);
      const context = b64go(body.context);
      const ad = b64go(body.associated_data);
      let p = store.get(ns, route.mount, name);
      const warnings = [];
      if (!p) p = store.upsert(ns, route.mount, name, { type: body.type, derived: context.length > 0 }).policy;
      return ok(store.encrypt(p, plaintext, context, toInt(body.key_version, 'key_version'), ad), warnings);
    }
    case 'decrypt': {
      if (!write) break;
      if (body.batch_input !== undefined) throw userErr('batch_input is not supported by this emulator');
      if (!body.ciphertext) throw userErr('missing ciphertext to decrypt');
      const context = b64go(body.context);
      const p = needKey(ns, route, name);
      const ad = b64go(body.associated_data);
      const r = store.decrypt(p, String(body.ciphertext), context, ad);
      return ok({ plaintext: r.plaintext.toString('base64') });
    }
    case 'rewrap': {
      if (!write) break;
      if (body.batch_input !== undefined) throw userErr('batch_input is not supported by this emulator');
      if (!body.ciphertext) throw userErr('missing ciphertext to decrypt');
      const context = b64go(body.context);
      const p = needKey(ns, route, name);
      const r = store.decrypt(p, String(body.ciphertext), context, Buffer.alloc(0));
      return ok(store.encrypt(p, r.plaintext, context, toInt(body.key_version, 'key_version'), Buffer.alloc(0)));
    }
    case 'datakey': {
      if (!write) break;
      const type = route.m[1];
      if (type !== 'plaintext' && type !== 'wrapped') throw userErr('invalid type');
      const bits = toInt(body.bits, 'bits') || 256;
      if (![128, 256, 512].includes(bits)) throw userErr('invalid bits length');
      const context = b64go(body.context);
      const ad = b64go(body.associated_data);
      const p = needKey(ns, route, name);
      const dk = crypto.randomBytes(bits / 8);
      const r = store.encrypt(p, dk, context, toInt(body.key_version, 'key_version'), ad);
      const data = { ciphertext: r.ciphertext, key_version: r.key_version };
      if (type === 'plaintext') data.plaintext = dk.toString('base64');
      return ok(data);
    }
    case 'keys': {
      if (method === 'GET') {
        const p = store.get(ns, route.mount, name);
        if (!p) return { status: 404, body: { errors: [] } };
        return ok(store.format(p));
      }
      if (method === 'DELETE') {
        store.delete(ns, route.mount, name);
        return { status: 204 };
      }
      if (!write) break;
      const r = store.upsert(ns, route.mount, name, body);
      return ok(store.format(r.policy), r.created ? null : [`key ${name} already existed`]);
    }
    case 'rotate': {
      if (!write) break;
      const p = needKey(ns, route, name, 'key not found');
      return ok(store.format(store.rotate(p)));
    }
    case 'config': {
      if (!write) break;
      const p = needKey(ns, route, name, `no existing key named ${name} could be found`);
      const r = store.configure(p, body);
      return ok(r.data, r.warnings);
    }
    case 'list': {
      if (method !== 'LIST') break;
      const keys = store.list(ns, route.mount);
      if (!keys.length) return { status: 404, body: { errors: [] } };
      return ok({ keys });
    }
    default:
      return { status: 404, body: { errors: ['1 error occurred:\n\t* unsupported path\n\n'] } };
  }
  return { status: 405, body: { errors: ['1 error occurred:\n\t* unsupported operation\n\n'] } };
}

function health() {
  return {
    initialized: true,
    sealed,
    standby: false,
    performance_standby: false,
    replication_performance_mode: 'disabled',
    replication_dr_mode: 'disabled',
    server_time_utc: Math.floor(clock.now() / 1000),
    version: args.version,
    cluster_name: 'vault-cluster-byokfs-test',
    cluster_id: CLUSTER_ID,
  };
}

function tokenFrom(req) {
  const t = req.headers['x-vault-token'];
  if (t) return String(t);
  const a = String(req.headers.authorization || '');
  const m = /^Bearer\s+(.+)$/i.exec(a);
  return m ? m[1].trim() : '';
}

// -> {status, body?}
function route(req, url, rel, body) {
  // LIST arrives either as the verb (see lib/list-verb.js) or as GET ?list=true.
  const method = req.method === 'GET' && ['true', '1'].includes(url.searchParams.get('list')) ? 'LIST' : req.method;
  const r = classify(method, rel);
  if (r.op === 'health') {
    if (method !== 'GET' && method !== 'HEAD') return { status: 405, body: { errors: [] } };
    return { status: sealed ? 503 : 200, body: health() };
  }
  if (r.op === 'seal-status') {
    return { status: 200, body: { type: 'shamir', initialized: true, sealed, t: 1, n: 1, progress: 0, nonce: '', version: args.version, build_date: '', migration: false, recovery_seal: false, storage_type: 'inmem' } };
  }
  if (sealed) return { status: 503, body: { errors: ['Vault is sealed'] } };
  const tok = auth.lookup(tokenFrom(req));
  if (!tok) throw DENIED();
  const ns = normNamespace(req.headers['x-vault-namespace']);
  if (['lookup-self', 'renew-self', 'revoke-self'].includes(r.op)) {
    const cap = r.op === 'lookup-self' && method === 'GET' ? 'read' : 'update';
    if (!auth.allowed(tok, ns, rel, cap)) throw DENIED();
    if (r.op === 'lookup-self') return ok(auth.describe(tok));
    if (method !== 'POST' && method !== 'PUT') return { status: 405, body: { errors: [] } };
    if (r.op === 'revoke-self') { auth.revoke(tok.id); return { status: 204 }; }
    try { auth.renew(tok, body.increment); } catch (e) { throw userErr(e.message); }
    const d = auth.describe(tok);
    return {
      status: 200,
      body: envelope({
        auth: {
          client_token: tok.id, accessor: tok.accessor, policies: tok.policies, token_policies: tok.policies,
          identity_policies: null, metadata: tok.meta, lease_duration: d.ttl, renewable: tok.renewable,
          entity_id: '', token_type: 'service', orphan: true, mfa_requirement: null, num_uses: 0,
        },
      }),
    };
  }
  const cap = capabilityFor(method, r, ns);
  if (!cap) return { status: 405, body: { errors: [] } };
  if (!auth.allowed(tok, ns, rel, cap)) throw DENIED();
  if (!r.mount) return { status: 404, body: { errors: [`no handler for route "${rel}". route entry not found.`] } };
  return transit(method, r, ns, body);
}

// ---------------------------------------------------------------- faults

function renderFault(rule) {
  const d = {
    500: [500, ['internal error']],
    503: [503, ['Vault is sealed']],
    429: [429, ['request path "transit": rate limit quota exceeded']],
  };
  d.throttle = d['429'];
  let status;
  let errors;
  if (rule.type === 'error') {
    status = rule.status || 500;
    errors = rule.errors || (rule.message !== undefined ? [rule.message] : ['injected error']);
  } else {
    [status, errors] = d[rule.type];
    if (rule.status) status = rule.status;
    if (rule.errors) errors = rule.errors;
    else if (rule.message !== undefined) errors = [rule.message];
  }
  const headers = { 'Content-Type': 'application/json' };
  if (status === 429) headers['Retry-After'] = '1';
  return { status, body: { errors }, headers };
}

// ---------------------------------------------------------------- admin API

function keyRef(b) {
  if (!b.name) throw new admin.AdminError('name is required');
  return { ns: normNamespace(b.namespace), mount: b.mount || DEFAULT_MOUNT, name: String(b.name) };
}

function asAdmin(fn) {
  return (b) => {
    try { return fn(b); } catch (e) {
      if (e instanceof admin.AdminError) throw e;
      throw new admin.AdminError(e.message, e.status === 404 ? 404 : 400);
    }
  };
}

const ADMIN = {
  'create-token': (b) => {
    const t = auth.createToken({ ...b, noDefaultPolicy: b.noDefaultPolicy || b.no_default_policy });
    return { token: t.id, accessor: t.accessor, policies: t.policies, namespace: t.namespace, ttl: t.ttl, renewable: t.renewable };
  },
  'revoke-token': (b) => ({ revoked: auth.revoke(b.token) }),
  'put-policy': (b) => {
    if (!b.name) throw new admin.AdminError('name is required');
    auth.putPolicy(b.name, b.policy || { path: b.path });
    return { name: b.name };
  },
  'delete-policy': (b) => ({ deleted: auth.deletePolicy(b.name) }),
  seal: () => { sealed = true; return { sealed }; },
  unseal: () => { sealed = false; return { sealed }; },
  'create-key': (b) => {
    const k = keyRef(b);
    if (!MOUNTS.includes(k.mount)) throw new admin.AdminError(`no mount ${k.mount}; mounts: ${MOUNTS.join(', ')}`);
    const r = store.upsert(k.ns, k.mount, k.name, b);
    for (let i = 1; i < (Number(b.versions) || 1); i++) store.rotate(r.policy);
    return { created: r.created, key: store.format(r.policy) };
  },
  'rotate-key': (b) => {
    const k = keyRef(b);
    const p = store.get(k.ns, k.mount, k.name);
    if (!p) throw new admin.AdminError('no such key', 404);
    return { key: store.format(store.rotate(p)) };
  },
  'delete-key': (b) => {
    const k = keyRef(b);
    return { deleted: store.policies.delete(TransitStore.k(k.ns, k.mount, k.name)) };
  },
  state: () => ({
    mounts: MOUNTS, sealed,
    keys: [...store.policies.entries()].map(([k, p]) => {
      const [ns, mount] = k.split('\u0000');
      return { namespace: ns, mount, ...store.format(p) };
    }),
    ...auth.snapshot(), faults: faults.list(), clockOffsetSeconds: clock.offsetSeconds(),
  }),
  reset: () => {
    resetState();
    faults.clear();
    faults.releaseHung();
    counters.reset();
    clock.setOffsetSeconds(0);
    return {};
  },
};
for (const k of Object.keys(ADMIN)) ADMIN[k] = asAdmin(ADMIN[k]);

// ---------------------------------------------------------------- dispatch

function log(line) {
  if (!args.quiet) process.stderr.write(`[vault ${new Date().toISOString()}] ${line}\n`);
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  if (admin.isAdmin(url.pathname)) return admin.handle(req, res, ADMIN, { faults, counters });
  const rel = url.pathname.startsWith('/v1/') ? url.pathname.slice(4).replace(/\/+$/, '') : null;
  const { op } = rel === null ? { op: 'unknown' } : classify(req.method, rel);
  counters.request(op);
  const raw = await readBody(req);
  const base = { 'Cache-Control': 'no-store', Date: new Date(clock.now()).toUTCString() };

  const rule = faults.take(op);
  if (rule) {
    counters.fault(rule.type);
    log(`${req.method} ${url.pathname} fault=${rule.type}`);
    let status;
    const consumed = await faults.apply(rule, req, res, () => {
      const r = renderFault(rule);
      status = r.status;
      return { ...r, headers: { ...r.headers, ...base } };
    });
    if (consumed) { if (status) counters.status(status); return; }
  }

  let out;
  try {
    if (rel === null) throw new VaultError(404, []);
    if (raw === null) throw userErr('request body too large');
    let body = {};
    if (raw.length && req.method !== 'GET') {
      try { body = JSON.parse(raw.toString('utf8')); } catch (e) { throw userErr(`failed to parse JSON input: ${e.message}`); }
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw userErr('failed to parse JSON input: not an object');
    }
    out = route(req, url, rel, body);
  } catch (e) {
    if (e instanceof VaultError) out = { status: e.status, body: { errors: e.errors } };
    else {
      process.stderr.write(`[vault] internal error: ${e.stack}\n`);
      out = { status: 500, body: { errors: ['1 error occurred:\n\t* internal error\n\n'] } };
    }
  }
  counters.status(out.status);
  if (out.status >= 400) counters.error(String(out.status));
  log(`${req.method} ${url.pathname} ${out.status}${out.status >= 400 && out.body && out.body.errors ? ` ${JSON.stringify(out.body.errors)}` : ''}`);
  if (out.status === 204) { res.writeHead(204, base); res.end(); return; }
  if (req.method === 'HEAD') { res.writeHead(out.status, { ...base, 'Content-Type': 'application/json' }); res.end(); return; }
  sendJson(res, out.status, out.body, base);
}

// ---------------------------------------------------------------- start

let tls = null;
if (args.tls) {
  const dir = args['tls-dir'];
  const certFile = args.cert || (dir && path.join(dir, 'server.pem'));
  const keyFile = args.key || (dir && path.join(dir, 'server-key.pem'));
  if (!certFile || !keyFile) die('--tls needs --tls-dir DIR or --cert FILE --key FILE');
  tls = { certFile, keyFile };
}

const handler = (req, res) => handle(req, res).catch((e) => {
  process.stderr.write(`[vault] handler crashed: ${e.stack}\n`);
  if (!res.headersSent) { res.writeHead(500); res.end(); }
});

listen({
  name: 'vault', host: args.host, port: args.port, tls, portFile: args['port-file'],
  handler, clientError: listVerbHook(handler),
});
