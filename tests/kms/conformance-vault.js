#!/usr/bin/env node
'use strict';
// Fidelity checks of vault-server.js against the official-ecosystem client
// node-vault (pinned in package-lock.json). Every transit/token call goes
// through node-vault; only set-up and fault injection use the admin API. Each
// check asserts the exact HTTP status and Vault error text node-vault surfaces.
// usage: conformance-vault.js --url http(s)://127.0.0.1:PORT [--ca CA.pem]
//        [--label NAME] [--root-token T] [--mount2 NAME]
// For https, run with NODE_EXTRA_CA_CERTS=CA.pem.
// Limits: needs a server it may reconfigure (faults, seal); creates its own
// keys, tokens and policies; expects a second transit mount (--mount2, default
// "transit2") for the multi-mount check.

const crypto = require('crypto');
const tls = require('tls');
const nodeVault = require('node-vault');
const { Checks, fail, eq, truthy, rejects, adminClient, sleep, parseFlags } = require('./lib/testkit');

const flags = parseFlags(process.argv.slice(2));
if (!flags.url) { process.stderr.write('usage: conformance-vault.js --url URL [--ca FILE] [--label NAME]\n'); process.exit(2); }
const URL_ = flags.url.replace(/\/$/, '');
const ROOT = flags['root-token'] || 'root';
const MOUNT2 = flags.mount2 || 'transit2';
const admin = adminClient(URL_, flags.ca);
const checks = new Checks(`vault ${flags.label || new URL(URL_).protocol.replace(':', '')}`);

const rnd = () => crypto.randomBytes(4).toString('hex');
const b64 = (b) => Buffer.from(b).toString('base64');
const vault = (o = {}) => nodeVault({ apiVersion: 'v1', endpoint: URL_, token: ROOT, ...o });
const root = vault();

// Asserts node-vault rejected with HTTP `status` and first error `message`.
async function expectVault(fn, status, message, what) {
  const e = await rejects(fn, what || `${status}`);
  if (!e.response) fail(`expected an HTTP ${status} answer, got ${e.code || e.name}: ${e.message}`);
  eq(e.response.statusCode, status, 'HTTP status');
  if (message !== undefined) eq(e.message, message, 'error message');
  return e;
}

async function main() {
  await admin('clear-faults');
  await admin('unseal');
  const kd = `derived-${rnd()}`; // derived key, context binds the volume id
  const ka = `plain-${rnd()}`; // non-derived key, associated_data binds it
  const pt = crypto.randomBytes(32);
  const ctx = b64('vol-1');
  let ct1;
  let ct2;

  await checks.check('write transit/keys/<k> {derived:true} creates a derived aes256-gcm96 key', async () => {
    await root.write(`transit/keys/${kd}`, { derived: true });
    const r = await root.read(`transit/keys/${kd}`);
    eq([r.data.type, r.data.derived, r.data.latest_version, r.data.min_decryption_version, r.data.kdf],
      ['aes256-gcm96', true, 1, 1, 'hkdf_sha256'], 'key');
    eq([r.lease_id, r.renewable, r.wrap_info, r.auth], ['', false, null, null], 'envelope');
    truthy(typeof r.request_id === 'string' && r.request_id.length > 0, 'request_id');
  });

  await checks.check('encrypt with context -> "vault:v1:" + base64(nonce 12 || ct || tag 16)', async () => {
    const r = await root.write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx });
    ct1 = r.data.ciphertext;
    truthy(/^vault:v1:[A-Za-z0-9+/]+={0,2}$/.test(ct1), `format: ${ct1}`);
    eq(ct1.length, 'vault:v1:'.length + 80, 'length for a 32-byte plaintext');
    eq(Buffer.from(ct1.slice(9), 'base64').length, 12 + 32 + 16, 'decoded length');
    eq(r.data.key_version, 1, 'key_version');
  });

  await checks.check('decrypt with the same context returns the plaintext', async () => {
    const r = await root.write(`transit/decrypt/${kd}`, { ciphertext: ct1, context: ctx });
    eq(r.data.plaintext, b64(pt), 'plaintext');
  });

  await checks.check('node-vault decryptData (command form) decrypts too', async () => {
    const r = await root.decryptData({ name: kd, ciphertext: ct1, context: ctx });
    eq(r.data.plaintext, b64(pt), 'plaintext');
  });

  await checks.check('decrypt with another context -> 400 "cipher: message authentication failed"', () =>
    expectVault(() => root.write(`transit/decrypt/${kd}`, { ciphertext: ct1, context: b64('vol-2') }), 400, 'cipher: message authentication failed'));

  await checks.check('decrypt without context on a derived key -> 400 missing context', async () => {
    const e = await expectVault(() => root.write(`transit/decrypt/${kd}`, { ciphertext: ct1 }), 400);
    truthy(e.message.startsWith("missing 'context' for key derivation"), `message: ${e.message}`);
  });

  await checks.check('associated_data binds a non-derived key\'s ciphertext', async () => {
    await root.write(`transit/keys/${ka}`, {});
    const ad = b64('vol-1');
    const r = await root.write(`transit/encrypt/${ka}`, { plaintext: b64(pt), associated_data: ad });
    const d = await root.write(`transit/decrypt/${ka}`, { ciphertext: r.data.ciphertext, associated_data: ad });
    eq(d.data.plaintext, b64(pt), 'plaintext with the same associated_data');
    await expectVault(() => root.write(`transit/decrypt/${ka}`, { ciphertext: r.data.ciphertext, associated_data: b64('vol-2') }), 400, 'cipher: message authentication failed');
    await expectVault(() => root.write(`transit/decrypt/${ka}`, { ciphertext: r.data.ciphertext }), 400, 'cipher: message authentication failed');
  });

  await checks.check('context is ignored by a non-derived key (as in Vault)', async () => {
    const r = await root.write(`transit/encrypt/${ka}`, { plaintext: b64(pt), context: b64('a') });
    const d = await root.write(`transit/decrypt/${ka}`, { ciphertext: r.data.ciphertext, context: b64('b') });
    eq(d.data.plaintext, b64(pt), 'plaintext');
  });

  await checks.check('rotate -> latest_version 2 with versions {1,2}; encrypt now yields vault:v2', async () => {
    const r = await root.write(`transit/keys/${kd}/rotate`, {});
    eq([r.data.latest_version, Object.keys(r.data.keys).sort()], [2, ['1', '2']], 'versions');
    const e = await root.write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx });
    ct2 = e.data.ciphertext;
    truthy(ct2.startsWith('vault:v2:'), `prefix: ${ct2.slice(0, 9)}`);
    eq(e.data.key_version, 2, 'key_version');
  });

  await checks.check('a v1 ciphertext still decrypts after rotation', async () => {
    const r = await root.write(`transit/decrypt/${kd}`, { ciphertext: ct1, context: ctx });
    eq(r.data.plaintext, b64(pt), 'plaintext');
  });

  await checks.check('rewrap moves a v1 ciphertext to v2 without exposing the plaintext', async () => {
    const r = await root.write(`transit/rewrap/${kd}`, { ciphertext: ct1, context: ctx });
    truthy(r.data.ciphertext.startsWith('vault:v2:'), `prefix: ${r.data.ciphertext.slice(0, 9)}`);
    eq(r.data.plaintext, undefined, 'no plaintext in the answer');
    const d = await root.write(`transit/decrypt/${kd}`, { ciphertext: r.data.ciphertext, context: ctx });
    eq(d.data.plaintext, b64(pt), 'plaintext');
  });

  await checks.check('min_decryption_version=2 makes the v1 ciphertext fail (too old)', async () => {
    const c = await root.write(`transit/keys/${kd}/config`, { min_decryption_version: 2 });
    eq(c.data.min_decryption_version, 2, 'min_decryption_version');
    await expectVault(() => root.write(`transit/decrypt/${kd}`, { ciphertext: ct1, context: ctx }), 400,
      'ciphertext or signature version is disallowed by policy (too old)');
    const d = await root.write(`transit/decrypt/${kd}`, { ciphertext: ct2, context: ctx });
    eq(d.data.plaintext, b64(pt), 'v2 still decrypts');
  });

  await checks.check('min_decryption_version=0 is taken as 1 (with a warning)', async () => {
    const c = await root.write(`transit/keys/${kd}/config`, { min_decryption_version: 0 });
    eq(c.data.min_decryption_version, 1, 'min_decryption_version');
    truthy(Array.isArray(c.warnings) && c.warnings.length === 1, `warnings: ${JSON.stringify(c.warnings)}`);
    const d = await root.write(`transit/decrypt/${kd}`, { ciphertext: ct1, context: ctx });
    eq(d.data.plaintext, b64(pt), 'v1 decrypts again');
  });

  await checks.check('min_decryption_version above latest -> 400', () =>
    expectVault(() => root.write(`transit/keys/${kd}/config`, { min_decryption_version: 3 }), 400,
      'cannot set min decryption version of 3, latest key version is 2'));

  await checks.check('min_encryption_version=2 refuses key_version 1', async () => {
    await root.write(`transit/keys/${kd}/config`, { min_encryption_version: 2 });
    await expectVault(() => root.write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx, key_version: 1 }), 400,
      'requested version for encryption is less than the minimum encryption key version');
    await root.write(`transit/keys/${kd}/config`, { min_encryption_version: 0 });
  });

  await checks.check('ciphertext errors: no prefix / version too new / bad base64', async () => {
    await expectVault(() => root.write(`transit/decrypt/${kd}`, { ciphertext: 'abc', context: ctx }), 400, 'invalid ciphertext: no prefix');
    await expectVault(() => root.write(`transit/decrypt/${kd}`, { ciphertext: `vault:v9:${ct1.slice(9)}`, context: ctx }), 400, 'invalid ciphertext: version is too new');
    await expectVault(() => root.write(`transit/decrypt/${kd}`, { ciphertext: 'vault:v1:!!!', context: ctx }), 400, 'invalid ciphertext: could not decode base64');
  });

  await checks.check('datakey/plaintext returns a 256-bit key that decrypts from its ciphertext; wrapped has none', async () => {
    const r = await root.write(`transit/datakey/plaintext/${kd}`, { context: ctx });
    eq(Buffer.from(r.data.plaintext, 'base64').length, 32, 'data key length');
    const d = await root.write(`transit/decrypt/${kd}`, { ciphertext: r.data.ciphertext, context: ctx });
    eq(d.data.plaintext, r.data.plaintext, 'data key');
    const w = await root.write(`transit/datakey/wrapped/${kd}`, { context: ctx, bits: 512 });
    eq(w.data.plaintext, undefined, 'no plaintext for wrapped');
    truthy(w.data.ciphertext.startsWith('vault:v2:'), 'wrapped ciphertext');
  });

  await checks.check('missing key: read -> 404 {"errors":[]} (node-vault: "Status 404")', async () => {
    const e = await expectVault(() => root.read(`transit/keys/missing-${rnd()}`), 404, 'Status 404');
    eq(e.response.body, { errors: [] }, 'body');
  });

  await checks.check('missing key: decrypt -> 400 "encryption key not found"', () =>
    expectVault(() => root.write(`transit/decrypt/missing-${rnd()}`, { ciphertext: ct1 }), 400, 'encryption key not found'));

  await checks.check('encrypt to a missing key creates it (upsert) when the token may "create"', async () => {
    const k = `upsert-${rnd()}`;
    await root.write(`transit/encrypt/${k}`, { plaintext: b64(pt), context: ctx });
    const r = await root.read(`transit/keys/${k}`);
    eq(r.data.derived, true, 'derived because a context was given');
  });

  await checks.check('bad token -> 403 "permission denied"', () =>
    expectVault(() => vault({ token: `bogus-${rnd()}` }).write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx }), 403, 'permission denied'));

  const pol = `byokfs-${rnd()}`;
  await admin('put-policy', {
    name: pol,
    policy: {
      path: {
        [`transit/encrypt/${kd}`]: { capabilities: ['update'] },
        [`transit/decrypt/${kd}`]: { capabilities: ['update'] },
        'transit/keys/*': { capabilities: ['read'] },
        [`transit/keys/${ka}`]: { capabilities: ['read'] },
      },
    },
  });
  await admin('put-policy', { name: `${pol}-deny`, policy: { path: { [`transit/keys/${ka}`]: { capabilities: ['deny'] } } } });

  await checks.check('token revoke -> the next call answers 403 "permission denied"', async () => {
    const t = (await admin('create-token', { policies: [pol] })).token;
    const v = vault({ token: t });
    await v.write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx });
    await admin('revoke-token', { token: t });
    await expectVault(() => v.write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx }), 403, 'permission denied');
  });

  await checks.check('policy denial -> 403 "permission denied"; allowed paths work', async () => {
    const t = (await admin('create-token', { policies: [pol, `${pol}-deny`] })).token;
    const v = vault({ token: t });
    const r = await v.write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx });
    await v.write(`transit/decrypt/${kd}`, { ciphertext: r.data.ciphertext, context: ctx });
    await expectVault(() => v.write(`transit/encrypt/${ka}`, { plaintext: b64(pt) }), 403, 'permission denied', 'encrypt on another key');
    await expectVault(() => v.write(`transit/keys/${kd}/rotate`, {}), 403, 'permission denied', 'rotate');
    await v.read(`transit/keys/${kd}`);
    await expectVault(() => v.read(`transit/keys/${ka}`), 403, 'permission denied', '"deny" in one policy beats "read" in another');
  });

  await checks.check('encrypt to a missing key without "create" capability -> 403', async () => {
    await admin('put-policy', { name: `${pol}-upd`, policy: { path: { 'transit/encrypt/*': { capabilities: ['update'] } } } });
    const t = (await admin('create-token', { policies: [`${pol}-upd`] })).token;
    await expectVault(() => vault({ token: t }).write(`transit/encrypt/new-${rnd()}`, { plaintext: b64(pt) }), 403, 'permission denied');
  });

  await checks.check('token TTL: a 1 s token works, then answers 403 after expiry', async () => {
    const t = (await admin('create-token', { policies: [pol], ttl: 1 })).token;
    const v = vault({ token: t });
    await v.write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx });
    await sleep(1200);
    await expectVault(() => v.write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx }), 403, 'permission denied');
  });

  await checks.check('tokenLookupSelf shows policies and ttl; tokenRenewSelf extends the lease', async () => {
    const t = (await admin('create-token', { policies: [pol], ttl: 60 })).token;
    const v = vault({ token: t });
    const l = await v.tokenLookupSelf();
    eq([l.data.policies, l.data.renewable, l.data.type], [[pol, 'default'].sort(), true, 'service'], 'lookup');
    truthy(l.data.ttl > 50 && l.data.ttl <= 60, `ttl ${l.data.ttl}`);
    const r = await v.tokenRenewSelf({ increment: '120s' });
    eq([r.auth.client_token, r.auth.lease_duration, r.auth.renewable], [t, 120, true], 'renew');
  });

  await checks.check('root token is not renewable -> 400 "lease is not renewable"', () =>
    expectVault(() => root.tokenRenewSelf(), 400, 'lease is not renewable'));

  await checks.check('namespaces isolate keys (X-Vault-Namespace)', async () => {
    const k = `ns-${rnd()}`;
    const ns1 = vault({ namespace: 'team1' });
    await ns1.write(`transit/keys/${k}`, {});
    const r = await ns1.write(`transit/encrypt/${k}`, { plaintext: b64(pt) });
    const d = await ns1.write(`transit/decrypt/${k}`, { ciphertext: r.data.ciphertext });
    eq(d.data.plaintext, b64(pt), 'plaintext in team1');
    await expectVault(() => root.write(`transit/decrypt/${k}`, { ciphertext: r.data.ciphertext }), 400, 'encryption key not found', 'root namespace');
    await expectVault(() => vault({ namespace: 'team2' }).read(`transit/keys/${k}`), 404, 'Status 404', 'team2');
    const t = (await admin('create-token', { policies: [pol], namespace: 'team2' })).token;
    await expectVault(() => vault({ token: t, namespace: 'team1' }).read(`transit/keys/${k}`), 403, 'permission denied', 'team2 token in team1');
  });

  await checks.check(`second mount "${MOUNT2}" works; an unknown mount -> 404 no handler`, async () => {
    const k = `m2-${rnd()}`;
    await root.write(`${MOUNT2}/keys/${k}`, {});
    const r = await root.write(`${MOUNT2}/encrypt/${k}`, { plaintext: b64(pt) });
    await expectVault(() => root.write(`transit/decrypt/${k}`, { ciphertext: r.data.ciphertext }), 400, 'encryption key not found', 'key is per mount');
    await expectVault(() => root.read(`nomount-${rnd()}/keys/x`), 404);
  });

  await checks.check('transitListKeys (LIST verb) and list() (GET ?list=true) both list keys', async () => {
    const a = await root.transitListKeys();
    truthy(a.data.keys.includes(kd) && a.data.keys.includes(ka), `LIST: ${JSON.stringify(a.data.keys)}`);
    const b = await vault({ noCustomHTTPVerbs: true }).list('transit/keys');
    eq(b.data.keys, a.data.keys, 'GET ?list=true');
  });

  await checks.check('sealed: health() reports sealed; transit answers 503 "Vault is sealed"', async () => {
    await admin('seal');
    try {
      const h = await root.health();
      eq([h.sealed, h.initialized], [true, true], 'health');
      await expectVault(() => root.write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx }), 503, 'Vault is sealed');
    } finally {
      await admin('unseal');
    }
    eq((await root.health()).sealed, false, 'unsealed');
  });

  await checks.check('fault 429 -> node-vault error with status 429', async () => {
    await admin('fault', { type: '429', count: 1 });
    await expectVault(() => root.write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx }), 429);
  });

  await checks.check('fault 500 -> status 500; fault 503 -> status 503', async () => {
    await admin('fault', { type: '500', count: 1, op: 'decrypt' });
    await expectVault(() => root.write(`transit/decrypt/${kd}`, { ciphertext: ct2, context: ctx }), 500, 'internal error');
    await admin('fault', { type: '503', count: 1 });
    await expectVault(() => root.write(`transit/decrypt/${kd}`, { ciphertext: ct2, context: ctx }), 503, 'Vault is sealed');
  });

  await checks.check('fault reset -> a network error, not an HTTP answer', async () => {
    await admin('fault', { type: 'reset', count: 1 });
    const e = await rejects(() => root.write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx }), 'reset');
    truthy(!e.response && ['ECONNRESET', 'EPIPE'].includes(e.code), `network error (got ${e.code}: ${e.message})`);
  });

  await checks.check('fault hang -> the client times out (requestOptions.timeout 500 ms)', async () => {
    await admin('fault', { type: 'hang', count: 1 });
    const t0 = Date.now();
    const e = await rejects(() => vault({ requestOptions: { timeout: 500 } }).write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx }), 'hang');
    truthy(e.code === 'ECONNABORTED' && Date.now() - t0 >= 450, `timeout (got ${e.code}: ${e.message})`);
    await admin('release-hung');
  });

  await checks.check('fault slow 300 ms -> answer after the delay', async () => {
    await admin('fault', { type: 'slow', count: 1, delayMs: 300 });
    const t0 = Date.now();
    await root.write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx });
    truthy(Date.now() - t0 >= 290, `took ${Date.now() - t0} ms`);
  });

  await checks.check('counters count node-vault calls per operation', async () => {
    await admin('reset-counters');
    for (let i = 0; i < 3; i++) await root.write(`transit/encrypt/${kd}`, { plaintext: b64(pt), context: ctx });
    await root.write(`transit/decrypt/${kd}`, { ciphertext: ct2, context: ctx });
    const k = (await admin('counters')).counters;
    eq([k.total, k.ops.encrypt, k.ops.decrypt], [4, 3, 1], 'total / encrypt / decrypt');
  });

  if (URL_.startsWith('https:')) {
    const port = new URL(URL_).port;
    await checks.check('TLS: https://localhost (DNS SAN) verifies against the test CA', async () => {
      await vault({ endpoint: `https://localhost:${port}` }).read(`transit/keys/${kd}`);
    });
    await checks.check('TLS: a client trusting only the public roots rejects the test server', async () => {
      const e = await rejects(() => vault({ requestOptions: { ca: tls.rootCertificates } }).read(`transit/keys/${kd}`), 'untrusted CA');
      truthy(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/.test(`${e.code} ${e.message}`), `certificate error (got ${e.code}: ${e.message})`);
    });
  }

  await admin('clear-faults');
  checks.done();
}

main().catch((e) => {
  process.stdout.write(`not ok - vault conformance aborted: ${e.stack}\n`);
  process.exit(1);
});
