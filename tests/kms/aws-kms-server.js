#!/usr/bin/env node
'use strict';
// AWS KMS emulator for byokfs tests (Node.js stdlib only).
// Speaks the JSON 1.1 protocol (POST /, X-Amz-Target: TrentService.<Op>,
// Content-Type: application/x-amz-json-1.1), verifies SigV4 from the request's
// own SignedHeaders, and implements Encrypt, Decrypt, ReEncrypt,
// GenerateDataKey(WithoutPlaintext), DescribeKey, EnableKey, DisableKey,
// ScheduleKeyDeletion, CancelKeyDeletion, CreateKey and CreateAlias with real
// AES-256-GCM blobs bound to the key id and EncryptionContext. An unsigned admin
// API under /_admin/ manages keys, credentials, deny rules, faults and counters.
// Beside KMS it serves container credentials and EC2 instance metadata (IMDSv2)
// that mint temporary keys KMS accepts (lib/aws-metadata.js).
// Limits (see README.md): symmetric keys only, emulator blob format, no grants,
// no IAM policy language, no key rotation, no List*/Tag*/Grant* operations.

const crypto = require('crypto');
const path = require('path');
const { parseArgs, loadConfig, die } = require('./lib/cli');
const clock = require('./lib/clock');
const admin = require('./lib/admin');
const { listen, readBody } = require('./lib/httpserver');
const { Faults } = require('./lib/faults');
const { Counters } = require('./lib/counters');
const sigv4 = require('./lib/sigv4');
const { decodeStrict } = require('./lib/b64');
const { KmsError, render, setStyle, style } = require('./lib/aws-errors');
const { KeyStore, STATES } = require('./lib/aws-keystore');
const { Access, parseTime } = require('./lib/aws-access');
const { Metadata } = require('./lib/aws-metadata');

const USAGE = `usage: aws-kms-server.js [options]
  --port N             TCP port on 127.0.0.1 (0 = pick one; default 0)
  --host ADDR          listen address (default 127.0.0.1)
  --port-file FILE     write the port here once listening (atomic)
  --tls                serve HTTPS; needs --tls-dir DIR or --cert/--key
  --tls-dir DIR        directory made by ./mkcerts (server.pem, server-key.pem)
  --cert FILE --key FILE
  --region R           default us-east-1
  --account N          default 111122223333
  --cred AKID:SECRET               long-term access key (repeatable)
  --temp-cred AKID:SECRET:TOKEN[:EXPIRES]  temporary key; EXPIRES = epoch s or ISO
  --kms-key ID[:ALIAS]             create a key at start (repeatable; ID may be empty)
  --config FILE        JSON {region, account, credentials:[...], keys:[...]}
  --error-style plain|namespaced   __type as Name or com.amazonaws.kms#Name
  --error-type-header  also send x-amzn-ErrorType on errors
  --debug-sigv4        log canonical request / string to sign of rejected signatures
  --quiet              no per-request log lines on stderr
Without credentials: AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.
Without keys: 1234abcd-12ab-34cd-56ef-1234567890ab with alias/byokfs.
Prints "READY aws-kms <url> pid=<pid>" on stdout when listening.
`;

const DEFAULT_CRED = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const DEFAULT_KEY = { id: '1234abcd-12ab-34cd-56ef-1234567890ab', aliases: ['alias/byokfs'] };

const args = parseArgs(process.argv.slice(2), {
  port: { type: 'number', default: 0 },
  host: { type: 'string', default: '127.0.0.1' },
  'port-file': { type: 'string' },
  tls: { type: 'bool', default: false },
  'tls-dir': { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  region: { type: 'string' },
  account: { type: 'string' },
  cred: { type: 'list' },
  'temp-cred': { type: 'list' },
  'kms-key': { type: 'list' },
  config: { type: 'string' },
  'error-style': { type: 'string', default: 'plain' },
  'error-type-header': { type: 'bool', default: false },
  'debug-sigv4': { type: 'bool', default: false },
  quiet: { type: 'bool', default: false },
}, USAGE);
const config = loadConfig(args.config);
const REGION = args.region || config.region || 'us-east-1';
const ACCOUNT = String(args.account || config.account || '111122223333');
if (!/^[a-z0-9-]+$/.test(REGION)) die(`bad region ${REGION}`);
if (!/^\d{12}$/.test(ACCOUNT)) die(`account must be 12 digits: ${ACCOUNT}`);
setStyle({ namespaced: args['error-style'] === 'namespaced', errorTypeHeader: args['error-type-header'] });

// ---------------------------------------------------------------- state

let keystore;
let access;
let metadata;
const faults = new Faults(['500', '503', 'throttle', '429', 'keyunavailable', 'error']);
const counters = new Counters();

function normAlias(a) { return a.startsWith('alias/') ? a : `alias/${a}`; }

function initialCredentials() {
  const list = [...(config.credentials || [])];
  for (const c of args.cred) {
    const i = c.indexOf(':');
    if (i <= 0) die(`--cred wants AKID:SECRET, got ${c}`);
    list.push({ accessKeyId: c.slice(0, i), secretAccessKey: c.slice(i + 1) });
  }
  for (const c of args['temp-cred']) {
    const p = c.split(':');
    if (p.length < 3) die('--temp-cred wants AKID:SECRET:TOKEN[:EXPIRES]');
    list.push({ accessKeyId: p[0], secretAccessKey: p[1], sessionToken: p[2], expiresAt: p.slice(3).join(':') || undefined });
  }
  return list.length ? list : [DEFAULT_CRED];
}

function initialKeys() {
  const list = (config.keys || []).map((k) => ({
    id: k.id, description: k.description, state: k.state,
    aliases: [...(k.aliases || []), ...(k.alias ? [k.alias] : [])].map(normAlias),
  }));
  for (const spec of args['kms-key']) {
    const i = spec.indexOf(':');
    const id = i < 0 ? spec : spec.slice(0, i);
    const alias = i < 0 ? '' : spec.slice(i + 1);
    list.push({ id: id || undefined, aliases: alias ? [normAlias(alias)] : [] });
  }
  return list.length ? list : [DEFAULT_KEY];
}

function resetState() {
  keystore = new KeyStore({ region: REGION, account: ACCOUNT, now: clock.now });
  access = new Access({ account: ACCOUNT, now: clock.now });
  if (metadata) { metadata.setAccess(access); metadata.reset(); } else metadata = new Metadata({ access, now: clock.now });
  try {
    for (const c of initialCredentials()) access.addCredential(c);
    for (const k of initialKeys()) keystore.create(k);
  } catch (e) {
    die(`bad start-up configuration: ${e.message}`);
  }
}
resetState();

// ---------------------------------------------------------------- input checks

function validation(msg) { return new KmsError('ValidationException', `1 validation error detected: ${msg}`); }

function str(input, name, field, { required = true } = {}) {
  const v = input[name];
  if (v === undefined || v === null) {
    if (required) throw validation(`Value null at '${field}' failed to satisfy constraint: Member must not be null`);
    return undefined;
  }
  if (typeof v !== 'string') throw new KmsError('SerializationException', `Start of structure or map found where not expected for member ${name}`);
  return v;
}

function blob(input, name, field, min, max, { required = true } = {}) {
  const v = str(input, name, field, { required });
  if (v === undefined) return undefined;
  const b = decodeStrict(v);
  if (!b) throw new KmsError('SerializationException', `Could not decode base64 value of member ${name}`);
  if (b.length < min) throw validation(`Value at '${field}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`);
  if (b.length > max) throw validation(`Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
  return b;
}

function encContext(input, name) {
  const v = input[name];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new KmsError('SerializationException', `Expected map for member ${name}`);
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw new KmsError('SerializationException', `Expected string value for key '${k}' of ${name}`);
  }
  return v;
}

function algorithm(input, name) {
  const a = input[name];
  if (a === undefined || a === null || a === 'SYMMETRIC_DEFAULT') return 'SYMMETRIC_DEFAULT';
  if (['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'].includes(a)) {
    throw new KmsError('InvalidKeyUsageException', `The encryption algorithm ${a} is not supported by this KMS key.`);
  }
  throw validation(`Value '${a}' at '${name[0].toLowerCase() + name.slice(1)}' failed to satisfy constraint: Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]`);
}

function dryRun(input) {
  if (input.DryRun === true) {
    throw new KmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
  }
}

const NO_KEY = 'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.';

// Resolves the key a ciphertext blob names, as Decrypt/ReEncrypt do.
function openBlob(input, cred, op, blobName, ctxName, keyIdName) {
  const ct = blob(input, blobName, blobName[0].toLowerCase() + blobName.slice(1), 1, 6144);
  const context = encContext(input, ctxName);
  const parsed = keystore.parse(ct);
  if (!parsed) throw new KmsError('InvalidCiphertextException', null);
  keystore.reap();
  const key = keystore.keys.get(parsed.keyId);
  if (!key) throw new KmsError('AccessDeniedException', NO_KEY);
  const requested = str(input, keyIdName, 'keyId', { required: false });
  if (requested !== undefined) {
    const k2 = keystore.resolve(requested);
    if (k2.id !== key.id) {
      throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    }
  }
  access.check(op, cred, key, keystore.keyArn(key.id));
  keystore.requireUsable(key);
  return { key, parsed, context };
}

function usableKey(spec, cred, op, opts) {
  const key = keystore.resolve(spec, opts);
  access.check(op, cred, key, keystore.keyArn(key.id));
  keystore.requireUsable(key);
  return key;
}

function adminKey(spec, cred, op) {
  const key = keystore.resolve(spec, { allowAlias: false });
  access.check(op, cred, key, keystore.keyArn(key.id));
  return key;
}

function dataKeyLength(input) {
  const spec = input.KeySpec;
  const n = input.NumberOfBytes;
  if (spec !== undefined && n !== undefined) throw validation("Please specify either number of bytes or key spec.");
  if (spec === undefined && n === undefined) throw validation('Please specify either number of bytes or key spec.');
  if (n !== undefined) {
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw validation(`Value '${n}' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024`);
    return n;
  }
  if (spec === 'AES_256') return 32;
  if (spec === 'AES_128') return 16;
  throw validation(`Value '${spec}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]`);
}

// ---------------------------------------------------------------- operations

const b64 = (buf) => buf.toString('base64');

const OPS = {
  Encrypt(input, cred) {
    const spec = str(input, 'KeyId', 'keyId');
    const pt = blob(input, 'Plaintext', 'plaintext', 1, 4096);
    const context = encContext(input, 'EncryptionContext');
    const alg = algorithm(input, 'EncryptionAlgorithm');
    const key = usableKey(spec, cred, 'Encrypt');
    dryRun(input);
    return { CiphertextBlob: b64(keystore.seal(key, pt, context)), KeyId: keystore.keyArn(key.id), EncryptionAlgorithm: alg };
  },

  Decrypt(input, cred) {
    const alg = algorithm(input, 'EncryptionAlgorithm');
    const { key, parsed, context } = openBlob(input, cred, 'Decrypt', 'CiphertextBlob', 'EncryptionContext', 'KeyId');
    dryRun(input);
    const pt = keystore.open(key, parsed, context);
    if (!pt) throw new KmsError('InvalidCiphertextException', null);
    return { KeyId: keystore.keyArn(key.id), Plaintext: b64(pt), EncryptionAlgorithm: alg };
  },

  ReEncrypt(input, cred) {
    const destSpec = str(input, 'DestinationKeyId', 'destinationKeyId');
    const srcAlg = algorithm(input, 'SourceEncryptionAlgorithm');
    const dstAlg = algorithm(input, 'DestinationEncryptionAlgorithm');
    const dstContext = encContext(input, 'DestinationEncryptionContext');
    const { key, parsed, context } = openBlob(input, cred, 'ReEncryptFrom', 'CiphertextBlob', 'SourceEncryptionContext', 'SourceKeyId');
    const dest = usableKey(destSpec, cred, 'ReEncryptTo');
    dryRun(input);
    const pt = keystore.open(key, parsed, context);
    if (!pt) throw new KmsError('InvalidCiphertextException', null);
    return {
      CiphertextBlob: b64(keystore.seal(dest, pt, dstContext)),
      SourceKeyId: keystore.keyArn(key.id),
      KeyId: keystore.keyArn(dest.id),
      SourceEncryptionAlgorithm: srcAlg,
      DestinationEncryptionAlgorithm: dstAlg,
    };
  },

  GenerateDataKey(input, cred) {
    const spec = str(input, 'KeyId', 'keyId');
    const n = dataKeyLength(input);
    const context = encContext(input, 'EncryptionContext');
    const key = usableKey(spec, cred, 'GenerateDataKey');
    dryRun(input);
    const pt = crypto.randomBytes(n);
    return { CiphertextBlob: b64(keystore.seal(key, pt, context)), Plaintext: b64(pt), KeyId: keystore.keyArn(key.id) };
  },

  GenerateDataKeyWithoutPlaintext(input, cred) {
    const spec = str(input, 'KeyId', 'keyId');
    const n = dataKeyLength(input);
    const context = encContext(input, 'EncryptionContext');
    const key = usableKey(spec, cred, 'GenerateDataKeyWithoutPlaintext');
    dryRun(input);
    return { CiphertextBlob: b64(keystore.seal(key, crypto.randomBytes(n), context)), KeyId: keystore.keyArn(key.id) };
  },

  DescribeKey(input, cred) {
    const key = keystore.resolve(str(input, 'KeyId', 'keyId'));
    access.check('DescribeKey', cred, key, keystore.keyArn(key.id));
    return { KeyMetadata: keystore.metadata(key) };
  },

  EnableKey(input, cred) {
    const key = adminKey(str(input, 'KeyId', 'keyId'), cred, 'EnableKey');
    if (key.state === 'PendingDeletion' || key.state === 'PendingImport' || key.state === 'Unavailable') keystore.requireUsable(key);
    key.state = 'Enabled';
    return undefined;
  },

  DisableKey(input, cred) {
    const key = adminKey(str(input, 'KeyId', 'keyId'), cred, 'DisableKey');
    if (key.state !== 'Enabled' && key.state !== 'Disabled') keystore.requireUsable(key);
    key.state = 'Disabled';
    return undefined;
  },

  ScheduleKeyDeletion(input, cred) {
    const key = adminKey(str(input, 'KeyId', 'keyId'), cred, 'ScheduleKeyDeletion');
    let days = input.PendingWindowInDays;
    if (days === undefined || days === null) days = 30;
    if (!Number.isInteger(days) || days < 7 || days > 30) {
      throw validation(`Value '${days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value ${days < 7 ? 'greater than or equal to 7' : 'less than or equal to 30'}`);
    }
    if (key.state === 'PendingDeletion') keystore.requireUsable(key);
    key.state = 'PendingDeletion';
    key.pendingWindowInDays = days;
    key.deletionDate = clock.now() + days * 86400 * 1000;
    return { KeyId: keystore.keyArn(key.id), DeletionDate: key.deletionDate / 1000, KeyState: 'PendingDeletion', PendingWindowInDays: days };
  },

  CancelKeyDeletion(input, cred) {
    const key = adminKey(str(input, 'KeyId', 'keyId'), cred, 'CancelKeyDeletion');
    if (key.state !== 'PendingDeletion') {
      throw new KmsError('KMSInvalidStateException', `${keystore.keyArn(key.id)} is not pending deletion.`);
    }
    cancelDeletion(key);
    return { KeyId: keystore.keyArn(key.id) };
  },

  CreateKey(input, cred) {
    access.check('CreateKey', cred, null, null);
    const usage = input.KeyUsage || 'ENCRYPT_DECRYPT';
    const spec = input.KeySpec || input.CustomerMasterKeySpec || 'SYMMETRIC_DEFAULT';
    if (usage !== 'ENCRYPT_DECRYPT' || spec !== 'SYMMETRIC_DEFAULT' || (input.Origin && input.Origin !== 'AWS_KMS') || input.MultiRegion) {
      throw new KmsError('UnsupportedOperationException', 'This emulator supports only SYMMETRIC_DEFAULT ENCRYPT_DECRYPT keys with origin AWS_KMS.');
    }
    const description = str(input, 'Description', 'description', { required: false }) || '';
    const key = keystore.create({ description });
    return { KeyMetadata: keystore.metadata(key) };
  },

  CreateAlias(input, cred) {
    const name = str(input, 'AliasName', 'aliasName');
    const key = keystore.resolve(str(input, 'TargetKeyId', 'targetKeyId'), { allowAlias: false });
    access.check('CreateAlias', cred, key, keystore.keyArn(key.id));
    keystore.addAlias(name, key.id);
    return undefined;
  },
};

function cancelDeletion(key) {
  key.state = 'Disabled'; // as real KMS: a cancelled deletion leaves the key disabled
  delete key.deletionDate;
  delete key.pendingWindowInDays;
}

// ---------------------------------------------------------------- faults

function renderFault(rule) {
  const defaults = {
    500: ['KMSInternalException', 'An internal error has occurred. Retry the request.'],
    503: ['DependencyTimeoutException', 'The system timed out while trying to fulfill the request. You can retry the request.'],
    keyunavailable: ['KeyUnavailableException', 'The request was rejected because the specified KMS key was not available. You can retry the request.'],
    throttle: ['ThrottlingException', 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.'],
  };
  defaults['429'] = defaults.throttle;
  let name;
  let message;
  if (rule.type === 'error') {
    name = rule.name || 'KMSInternalException';
    message = rule.message === undefined ? 'Injected error' : rule.message;
  } else {
    [name, message] = defaults[rule.type];
    if (rule.message !== undefined) message = rule.message;
  }
  return render(new KmsError(name, message, rule.status));
}

// ---------------------------------------------------------------- admin API

function akey(b) {
  const spec = b.key || b.keyId || b.id;
  if (!spec) throw new admin.AdminError('key is required');
  try { return keystore.resolve(String(spec)); } catch (e) { throw new admin.AdminError(e.message, 404); }
}

function wrapAdmin(fn) {
  return (b) => {
    try { return fn(b); } catch (e) {
      if (e instanceof KmsError) throw new admin.AdminError(`${e.kmsName}: ${e.message}`, e.kmsName === 'NotFoundException' ? 404 : 400);
      throw e;
    }
  };
}

const describe = (key) => ({ ...keystore.metadata(key), aliases: keystore.aliasesOf(key.id) });

const ADMIN = {
  'create-key': (b) => {
    const aliases = [...(b.aliases || []), ...(b.alias ? [b.alias] : [])].map(normAlias);
    return { key: describe(keystore.create({ id: b.id, description: b.description, state: b.state, aliases })) };
  },
  'enable-key': (b) => { const k = akey(b); k.state = 'Enabled'; delete k.deletionDate; return { key: describe(k) }; },
  'disable-key': (b) => { const k = akey(b); k.state = 'Disabled'; delete k.deletionDate; return { key: describe(k) }; },
  'set-state': (b) => {
    const k = akey(b);
    if (!STATES.includes(b.state)) throw new admin.AdminError(`state must be one of ${STATES.join(', ')}`);
    k.state = b.state;
    if (b.state === 'PendingDeletion' && k.deletionDate === undefined) { k.pendingWindowInDays = 7; k.deletionDate = clock.now() + 7 * 86400e3; }
    return { key: describe(k) };
  },
  'schedule-deletion': (b) => {
    const k = akey(b);
    const days = b.days === undefined ? 7 : Number(b.days);
    if (!(days >= 0)) throw new admin.AdminError('days must be >= 0');
    k.state = 'PendingDeletion';
    k.pendingWindowInDays = Math.ceil(days);
    k.deletionDate = clock.now() + days * 86400e3;
    return { key: describe(k) };
  },
  'cancel-deletion': (b) => { const k = akey(b); cancelDeletion(k); return { key: describe(k) }; },
  'delete-key': (b) => { const k = akey(b); keystore.remove(k.id); return { deleted: keystore.keyArn(k.id) }; },
  'create-alias': (b) => {
    const k = akey(b);
    if (!b.alias) throw new admin.AdminError('alias is required');
    keystore.addAlias(normAlias(b.alias), k.id);
    return { key: describe(k) };
  },
  'delete-alias': (b) => {
    if (!b.alias) throw new admin.AdminError('alias is required');
    return { deleted: keystore.aliases.delete(normAlias(b.alias)) };
  },
  deny: (b) => {
    const keyId = b.key ? akey(b).id : '*';
    const ops = b.ops === undefined ? undefined : (Array.isArray(b.ops) ? b.ops : String(b.ops).split(',').map((s) => s.trim()));
    return { rule: access.deny({ accessKeyId: b.accessKeyId || '*', keyId, ops }) };
  },
  allow: (b) => {
    const keyId = b.key ? akey(b).id : '*';
    return { removed: access.allow({ accessKeyId: b.accessKeyId || '*', keyId }) };
  },
  'add-credential': (b) => ({ credential: access.addCredential(b) }),
  'expire-credential': (b) => ({ credential: access.expire(b.accessKeyId) }),
  'remove-credential': (b) => ({ removed: access.remove(b.accessKeyId) }),
  'error-style': (b) => ({ errorStyle: setStyle(b) }),
  metadata: (b) => {
    try { return { metadata: metadata.configure(b) }; } catch (e) { throw new admin.AdminError(e.message); }
  },
  state: () => ({
    region: REGION, account: ACCOUNT,
    ...keystore.snapshot(), ...access.snapshot(),
    faults: faults.list(), clockOffsetSeconds: clock.offsetSeconds(), errorStyle: { ...style },
  }),
  reset: () => {
    resetState();
    faults.clear();
    faults.releaseHung();
    counters.reset();
    clock.setOffsetSeconds(0);
    setStyle({ namespaced: args['error-style'] === 'namespaced', errorTypeHeader: args['error-type-header'] });
    return {};
  },
};
for (const k of Object.keys(ADMIN)) ADMIN[k] = wrapAdmin(ADMIN[k]);

// ---------------------------------------------------------------- dispatch

function log(line) {
  if (!args.quiet) process.stderr.write(`[aws-kms ${new Date().toISOString()}] ${line}\n`);
}

function send(res, status, obj, headers) {
  const body = obj === undefined ? '' : JSON.stringify(obj);
  res.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

async function handle(req, res) {
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
  if (admin.isAdmin(rawPath)) return admin.handle(req, res, ADMIN, { faults, counters });
  if (Metadata.isMetadata(rawPath)) return handleMetadata(req, res, rawPath);

  const requestId = crypto.randomUUID();
  const base = { 'x-amzn-RequestId': requestId, Date: new Date(clock.now()).toUTCString() };
  const target = String(req.headers['x-amz-target'] || '');
  const op = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : (target || 'unknown');
  counters.request(op);

  const body = await readBody(req);
  const rule = faults.take(op);
  if (rule) {
    counters.fault(rule.type);
    log(`${op} fault=${rule.type} ${requestId}`);
    let status;
    const consumed = await faults.apply(rule, req, res, () => {
      const r = renderFault(rule);
      status = r.status;
      return { ...r, headers: { ...r.headers, ...base, Date: new Date(clock.now()).toUTCString() } };
    });
    if (consumed) { if (status) counters.status(status); return; }
  }

  let who = '-';
  try {
    if (body === null) throw new KmsError('ValidationException', 'Request body too large');
    if (req.method !== 'POST' || rawPath !== '/') throw new KmsError('UnknownOperationException', null);
    const ctype = String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    if (ctype !== 'application/x-amz-json-1.1') throw new KmsError('UnknownOperationException', null);
    let auth;
    try {
      auth = sigv4.verify({
        method: req.method, rawPath, rawQuery, rawHeaders: req.rawHeaders, body,
        region: REGION, service: 'kms', now: clock.now(), lookup: (id) => access.lookup(id),
      });
    } catch (e) {
      if (!(e instanceof sigv4.SigV4Error)) throw e;
      if (args['debug-sigv4'] && e.debug) log(`sigv4 rejected:\n--- canonical request ---\n${e.debug.canonicalRequest}\n--- string to sign ---\n${e.debug.stringToSign}${e.debug.absentSignedHeaders ? `\n--- signed but absent: ${e.debug.absentSignedHeaders.join(', ')}` : ''}`);
      throw new KmsError(e.code, e.message);
    }
    who = auth.accessKeyId;
    if (!target.startsWith('TrentService.') || !Object.prototype.hasOwnProperty.call(OPS, op)) {
      throw new KmsError('UnknownOperationException', null);
    }
    let input;
    try { input = body.length ? JSON.parse(body.toString('utf8')) : {}; } catch (_) {
      throw new KmsError('SerializationException', null);
    }
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw new KmsError('SerializationException', null);
    const out = OPS[op](input, auth.credential);
    send(res, 200, out, base);
    counters.status(200);
    log(`${op} 200 ${who} ${requestId}`);
  } catch (e) {
    let err = e;
    if (!(e instanceof KmsError)) {
      process.stderr.write(`[aws-kms] internal error: ${e.stack}\n`);
      err = new KmsError('KMSInternalException', 'An internal error has occurred.');
    }
    const r = render(err);
    send(res, r.status, r.body, { ...r.headers, ...base });
    counters.status(r.status);
    counters.error(err.kmsName);
    log(`${op} ${r.status} ${err.kmsName} ${who} ${requestId}`);
  }
}

// Container credentials and instance metadata: counted and faulted like KMS
// operations, under their own names (container-credentials, imds-token,
// imds-role, imds-credentials).
async function handleMetadata(req, res, rawPath) {
  const op = Metadata.op(req.method, rawPath);
  counters.request(op);
  await readBody(req);
  const rule = faults.take(op);
  if (rule) {
    counters.fault(rule.type);
    let status;
    const consumed = await faults.apply(rule, req, res, () => { const r = renderFault(rule); status = r.status; return r; });
    if (consumed) { if (status) counters.status(status); return; }
  }
  const r = metadata.handle(req.method, rawPath, req.headers);
  res.writeHead(r.status, { 'Content-Type': r.type, 'Content-Length': Buffer.byteLength(r.body) });
  res.end(r.body);
  counters.status(r.status);
  log(`${req.method} ${rawPath} ${r.status}`);
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

listen({
  name: 'aws-kms', host: args.host, port: args.port, tls, portFile: args['port-file'],
  handler: (req, res) => handle(req, res).catch((e) => {
    process.stderr.write(`[aws-kms] handler crashed: ${e.stack}\n`);
    if (!res.headersSent) { res.writeHead(500); res.end(); }
  }),
});
