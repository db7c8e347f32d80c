#!/usr/bin/env node
'use strict';
// Fidelity checks of aws-kms-server.js against the official AWS SDK for
// JavaScript v3 (@aws-sdk/client-kms, pinned in package-lock.json). Every KMS
// call goes through the SDK; only set-up and fault injection use the admin API.
// Each check asserts the exact exception class / value the SDK produces.
// usage: conformance-aws.js --url http(s)://127.0.0.1:PORT [--ca CA.pem] [--label NAME]
// For https, run with NODE_EXTRA_CA_CERTS=CA.pem (as a byokfs user would).
// Limits: needs a server it may reconfigure (faults, clock, error style); it
// creates its own keys and credentials and restores shared settings at the end.

const crypto = require('crypto');
const tls = require('tls');
const kms = require('@aws-sdk/client-kms');
const { Checks, fail, eq, truthy, rejects, adminClient, sleep, parseFlags } = require('./lib/testkit');

const flags = parseFlags(process.argv.slice(2));
if (!flags.url) { process.stderr.write('usage: conformance-aws.js --url URL [--ca FILE] [--label NAME]\n'); process.exit(2); }
const URL_ = flags.url.replace(/\/$/, '');
const admin = adminClient(URL_, flags.ca);
const checks = new Checks(`aws ${flags.label || new URL(URL_).protocol.replace(':', '')}`);
const REGION = 'us-east-1';
const ACCOUNT = '111122223333';

const rnd = () => crypto.randomBytes(4).toString('hex');
const ak = (p) => `${p}${rnd().toUpperCase()}`;
const STATIC = { accessKeyId: ak('AKIACONF'), secretAccessKey: `secret/${rnd()}+${rnd()}` };
const TEMP = { accessKeyId: ak('ASIACONF'), secretAccessKey: `tmp/${rnd()}`, sessionToken: `token+${rnd()}/${rnd()}==` };

function client(over = {}) {
  const { credentials = STATIC, ...rest } = over;
  return new kms.KMSClient({
    region: REGION,
    endpoint: URL_,
    maxAttempts: 1,
    credentials,
    requestHandler: { requestTimeout: 5000, throwOnRequestTimeout: true, ...(over.requestHandler || {}) },
    ...rest,
  });
}

const c = client();
const send = (cmd, cl = c) => cl.send(cmd);
const arn = (id) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;
const aliasArn = (a) => `arn:aws:kms:${REGION}:${ACCOUNT}:${a}`;
const bytes = (n) => new Uint8Array(crypto.randomBytes(n));
const same = (a, b) => Buffer.from(a).equals(Buffer.from(b));

// Asserts the SDK raised exactly the modelled exception class `name`.
async function expectKms(fn, name, what) {
  const e = await rejects(fn, what || name);
  if (e.name !== name) fail(`expected ${name}, got ${e.name}: ${e.message}`);
  const Cls = kms[name];
  if (Cls && !(e instanceof Cls)) fail(`${name} is not an instance of the SDK's ${name} class`);
  if (!(e instanceof kms.KMSServiceException)) fail(`${name} is not a KMSServiceException`);
  return e;
}

async function main() {
  await admin('clear-faults');
  await admin('clock', { offsetSeconds: 0 });
  await admin('add-credential', STATIC);
  await admin('add-credential', TEMP);
  const id1 = crypto.randomUUID();
  const id2 = crypto.randomUUID();
  const alias1 = `alias/conf-${rnd()}`;
  await admin('create-key', { id: id1, alias: alias1, description: 'conformance key 1' });
  await admin('create-key', { id: id2, description: 'conformance key 2' });
  const ctx = { 'byokfs:volume': 'vol-1', purpose: 'conformance' };
  const pt = bytes(32);
  let blob;

  await checks.check('Encrypt by alias with EncryptionContext returns the key ARN', async () => {
    const r = await send(new kms.EncryptCommand({ KeyId: alias1, Plaintext: pt, EncryptionContext: ctx }));
    eq(r.KeyId, arn(id1), 'KeyId');
    eq(r.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT', 'EncryptionAlgorithm');
    truthy(r.CiphertextBlob instanceof Uint8Array && r.CiphertextBlob.length > pt.length, 'CiphertextBlob is bytes longer than the plaintext');
    truthy(typeof r.$metadata.requestId === 'string' && r.$metadata.requestId.length > 0, 'x-amzn-RequestId surfaces as $metadata.requestId');
    blob = r.CiphertextBlob;
  });

  await checks.check('Decrypt round trip returns the plaintext and key ARN', async () => {
    const r = await send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx }));
    truthy(same(r.Plaintext, pt), 'plaintext differs');
    eq(r.KeyId, arn(id1), 'KeyId');
  });

  await checks.check('Decrypt accepts the EncryptionContext in another member order', async () => {
    const r = await send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { purpose: 'conformance', 'byokfs:volume': 'vol-1' } }));
    truthy(same(r.Plaintext, pt), 'plaintext differs');
  });

  await checks.check('Decrypt with a wrong EncryptionContext value -> InvalidCiphertextException', () =>
    expectKms(() => send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { ...ctx, 'byokfs:volume': 'vol-2' } })), 'InvalidCiphertextException'));

  await checks.check('Decrypt without the EncryptionContext -> InvalidCiphertextException', () =>
    expectKms(() => send(new kms.DecryptCommand({ CiphertextBlob: blob })), 'InvalidCiphertextException'));

  await checks.check('Decrypt with a context key in another case -> InvalidCiphertextException', () =>
    expectKms(() => send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { 'BYOKFS:volume': 'vol-1', purpose: 'conformance' } })), 'InvalidCiphertextException'));

  await checks.check('Decrypt of a tampered blob -> InvalidCiphertextException', async () => {
    const t = Uint8Array.from(blob);
    t[t.length - 20] ^= 0x01;
    await expectKms(() => send(new kms.DecryptCommand({ CiphertextBlob: t, EncryptionContext: ctx })), 'InvalidCiphertextException');
  });

  await checks.check('Decrypt naming another KeyId -> IncorrectKeyException', () =>
    expectKms(() => send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx, KeyId: id2 })), 'IncorrectKeyException'));

  await checks.check('Decrypt naming the right key by alias ARN succeeds', async () => {
    const r = await send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx, KeyId: aliasArn(alias1) }));
    truthy(same(r.Plaintext, pt), 'plaintext differs');
  });

  await checks.check('Encrypt by key id, key ARN and alias ARN all address the same key', async () => {
    for (const spec of [id1, arn(id1), aliasArn(alias1)]) {
      const r = await send(new kms.EncryptCommand({ KeyId: spec, Plaintext: pt }));
      eq(r.KeyId, arn(id1), `KeyId for ${spec}`);
      const d = await send(new kms.DecryptCommand({ CiphertextBlob: r.CiphertextBlob }));
      truthy(same(d.Plaintext, pt), `round trip via ${spec}`);
    }
  });

  await checks.check('DescribeKey shows an Enabled symmetric key', async () => {
    const r = await send(new kms.DescribeKeyCommand({ KeyId: alias1 }));
    eq([r.KeyMetadata.KeyId, r.KeyMetadata.Arn, r.KeyMetadata.KeyState, r.KeyMetadata.Enabled, r.KeyMetadata.KeySpec, r.KeyMetadata.KeyUsage],
      [id1, arn(id1), 'Enabled', true, 'SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT'], 'metadata');
    truthy(r.KeyMetadata.CreationDate instanceof Date && !Number.isNaN(r.KeyMetadata.CreationDate.getTime()), 'CreationDate parses as a Date');
  });

  await checks.check('DisableKey -> DescribeKey shows Disabled', async () => {
    await send(new kms.DisableKeyCommand({ KeyId: id1 }));
    const r = await send(new kms.DescribeKeyCommand({ KeyId: id1 }));
    eq([r.KeyMetadata.KeyState, r.KeyMetadata.Enabled], ['Disabled', false], 'state');
  });

  await checks.check('Decrypt under a disabled key -> DisabledException naming the key ARN', async () => {
    const e = await expectKms(() => send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx })), 'DisabledException');
    eq(e.message, `${arn(id1)} is disabled.`, 'message');
  });

  await checks.check('Encrypt under a disabled key -> DisabledException', () =>
    expectKms(() => send(new kms.EncryptCommand({ KeyId: alias1, Plaintext: pt })), 'DisabledException'));

  await checks.check('EnableKey -> Decrypt works again', async () => {
    await send(new kms.EnableKeyCommand({ KeyId: arn(id1) }));
    const r = await send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx }));
    truthy(same(r.Plaintext, pt), 'plaintext differs');
  });

  await checks.check('ScheduleKeyDeletion(7 days) -> PendingDeletion with DeletionDate', async () => {
    const before = Date.now();
    const r = await send(new kms.ScheduleKeyDeletionCommand({ KeyId: id1, PendingWindowInDays: 7 }));
    eq([r.KeyId, r.KeyState, r.PendingWindowInDays], [arn(id1), 'PendingDeletion', 7], 'response');
    const d = await send(new kms.DescribeKeyCommand({ KeyId: id1 }));
    eq(d.KeyMetadata.KeyState, 'PendingDeletion', 'KeyState');
    const delta = d.KeyMetadata.DeletionDate.getTime() - before;
    truthy(Math.abs(delta - 7 * 86400e3) < 120e3, `DeletionDate ~ now + 7 days (off by ${delta - 7 * 86400e3} ms)`);
  });

  await checks.check('Decrypt under a key pending deletion -> KMSInvalidStateException', async () => {
    const e = await expectKms(() => send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx })), 'KMSInvalidStateException');
    eq(e.message, `${arn(id1)} is pending deletion.`, 'message');
  });

  await checks.check('EnableKey on a key pending deletion -> KMSInvalidStateException', () =>
    expectKms(() => send(new kms.EnableKeyCommand({ KeyId: id1 })), 'KMSInvalidStateException'));

  await checks.check('ScheduleKeyDeletion with a 3-day window -> ValidationException', () =>
    expectKms(() => send(new kms.ScheduleKeyDeletionCommand({ KeyId: id2, PendingWindowInDays: 3 })), 'ValidationException'));

  await checks.check('CancelKeyDeletion leaves the key Disabled (as AWS does); EnableKey restores it', async () => {
    const r = await send(new kms.CancelKeyDeletionCommand({ KeyId: id1 }));
    eq(r.KeyId, arn(id1), 'KeyId');
    const d = await send(new kms.DescribeKeyCommand({ KeyId: id1 }));
    eq(d.KeyMetadata.KeyState, 'Disabled', 'KeyState after cancel');
    await send(new kms.EnableKeyCommand({ KeyId: id1 }));
    const p = await send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx }));
    truthy(same(p.Plaintext, pt), 'plaintext differs');
  });

  await checks.check('CancelKeyDeletion on an enabled key -> KMSInvalidStateException', () =>
    expectKms(() => send(new kms.CancelKeyDeletionCommand({ KeyId: id1 })), 'KMSInvalidStateException'));

  await checks.check('Access key denied on the key -> AccessDeniedException with its "Message" surfaced', async () => {
    await admin('deny', { accessKeyId: STATIC.accessKeyId, key: id1 });
    const e = await expectKms(() => send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx })), 'AccessDeniedException');
    truthy(e.message.startsWith(`User: arn:aws:iam::${ACCOUNT}:`) && e.message.includes('kms:Decrypt'), `message from capital-M "Message": ${e.message}`);
    await expectKms(() => send(new kms.DescribeKeyCommand({ KeyId: id1 })), 'AccessDeniedException', 'DescribeKey denied too');
    await admin('allow', { accessKeyId: STATIC.accessKeyId, key: id1 });
    const r = await send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx }));
    truthy(same(r.Plaintext, pt), 'allowed again');
  });

  await checks.check('Key policy denying Decrypt only -> Decrypt AccessDeniedException, Encrypt still works', async () => {
    await admin('deny', { key: id1, ops: ['Decrypt'] });
    try {
      await expectKms(() => send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx })), 'AccessDeniedException');
      await send(new kms.EncryptCommand({ KeyId: id1, Plaintext: pt }));
    } finally {
      await admin('allow', { key: id1 });
    }
  });

  await checks.check('Unknown key id -> NotFoundException', () =>
    expectKms(() => send(new kms.EncryptCommand({ KeyId: crypto.randomUUID(), Plaintext: pt })), 'NotFoundException'));

  await checks.check('Unknown alias -> NotFoundException', () =>
    expectKms(() => send(new kms.DescribeKeyCommand({ KeyId: `alias/missing-${rnd()}` })), 'NotFoundException'));

  await checks.check('Key ARN of another region -> NotFoundException', () =>
    expectKms(() => send(new kms.EncryptCommand({ KeyId: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/${id1}`, Plaintext: pt })), 'NotFoundException'));

  await checks.check('CreateKey + CreateAlias through the SDK, then Encrypt by the new alias', async () => {
    const r = await send(new kms.CreateKeyCommand({ Description: 'made by the SDK' }));
    eq([r.KeyMetadata.KeyState, r.KeyMetadata.Description], ['Enabled', 'made by the SDK'], 'metadata');
    const a = `alias/sdk-${rnd()}`;
    await send(new kms.CreateAliasCommand({ AliasName: a, TargetKeyId: r.KeyMetadata.KeyId }));
    const e = await send(new kms.EncryptCommand({ KeyId: a, Plaintext: pt }));
    eq(e.KeyId, r.KeyMetadata.Arn, 'KeyId');
    await expectKms(() => send(new kms.CreateAliasCommand({ AliasName: a, TargetKeyId: id2 })), 'AlreadyExistsException', 'duplicate alias');
  });

  await checks.check('GenerateDataKey AES_256: 32-byte plaintext that Decrypt recovers', async () => {
    const r = await send(new kms.GenerateDataKeyCommand({ KeyId: alias1, KeySpec: 'AES_256', EncryptionContext: ctx }));
    eq(r.Plaintext.length, 32, 'plaintext length');
    const d = await send(new kms.DecryptCommand({ CiphertextBlob: r.CiphertextBlob, EncryptionContext: ctx }));
    truthy(same(d.Plaintext, r.Plaintext), 'data key differs');
  });

  await checks.check('ReEncrypt to another key and context; the new blob decrypts only there', async () => {
    const ctx2 = { 'byokfs:volume': 'vol-9' };
    const r = await send(new kms.ReEncryptCommand({ CiphertextBlob: blob, SourceEncryptionContext: ctx, DestinationKeyId: id2, DestinationEncryptionContext: ctx2 }));
    eq([r.SourceKeyId, r.KeyId], [arn(id1), arn(id2)], 'key ids');
    const d = await send(new kms.DecryptCommand({ CiphertextBlob: r.CiphertextBlob, EncryptionContext: ctx2 }));
    truthy(same(d.Plaintext, pt), 'plaintext differs');
    await expectKms(() => send(new kms.DecryptCommand({ CiphertextBlob: r.CiphertextBlob, EncryptionContext: ctx })), 'InvalidCiphertextException', 'old context');
  });

  await checks.check('DryRun -> DryRunOperationException', () =>
    expectKms(() => send(new kms.EncryptCommand({ KeyId: id1, Plaintext: pt, DryRun: true })), 'DryRunOperationException'));

  await checks.check('Plaintext over 4096 bytes -> ValidationException', () =>
    expectKms(() => send(new kms.EncryptCommand({ KeyId: id1, Plaintext: bytes(4097) })), 'ValidationException'));

  await checks.check('Session-token (temporary) credentials are accepted', async () => {
    const r = await send(new kms.EncryptCommand({ KeyId: id1, Plaintext: pt }), client({ credentials: TEMP }));
    eq(r.KeyId, arn(id1), 'KeyId');
  });

  await checks.check('Wrong session token -> UnrecognizedClientException', () =>
    expectKms(() => send(new kms.EncryptCommand({ KeyId: id1, Plaintext: pt }), client({ credentials: { ...TEMP, sessionToken: 'not-the-token' } })), 'UnrecognizedClientException'));

  await checks.check('Temporary key without its session token -> UnrecognizedClientException', () =>
    expectKms(() => send(new kms.EncryptCommand({ KeyId: id1, Plaintext: pt }), client({ credentials: { accessKeyId: TEMP.accessKeyId, secretAccessKey: TEMP.secretAccessKey } })), 'UnrecognizedClientException'));

  await checks.check('Expired temporary credentials -> ExpiredTokenException', async () => {
    const exp = { accessKeyId: ak('ASIAEXP'), secretAccessKey: `x/${rnd()}`, sessionToken: `t-${rnd()}` };
    await admin('add-credential', { ...exp, expiresIn: 3600 });
    await send(new kms.DescribeKeyCommand({ KeyId: id1 }), client({ credentials: exp }));
    await admin('expire-credential', { accessKeyId: exp.accessKeyId });
    await expectKms(() => send(new kms.DescribeKeyCommand({ KeyId: id1 }), client({ credentials: exp })), 'ExpiredTokenException');
  });

  await checks.check('Request signed with a wrong secret -> InvalidSignatureException', async () => {
    const e = await expectKms(() => send(new kms.EncryptCommand({ KeyId: id1, Plaintext: pt }), client({ credentials: { ...STATIC, secretAccessKey: 'wrong' } })), 'InvalidSignatureException');
    truthy(e.message.startsWith('The request signature we calculated does not match'), `message: ${e.message}`);
  });

  await checks.check('Unknown access key -> UnrecognizedClientException', () =>
    expectKms(() => send(new kms.EncryptCommand({ KeyId: id1, Plaintext: pt }), client({ credentials: { accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' } })), 'UnrecognizedClientException'));

  await checks.check('Signature scoped to another region -> InvalidSignatureException', () =>
    expectKms(() => send(new kms.DescribeKeyCommand({ KeyId: id1 }), client({ region: 'eu-west-1' })), 'InvalidSignatureException'));

  await checks.check('Client clock 10 min slow (systemClockOffset) -> InvalidSignatureException "Signature expired"', async () => {
    const e = await expectKms(() => send(new kms.DescribeKeyCommand({ KeyId: id1 }), client({ systemClockOffset: -600e3 })), 'InvalidSignatureException');
    truthy(e.message.startsWith('Signature expired: '), `message: ${e.message}`);
  });

  await checks.check('Client clock 10 min fast -> InvalidSignatureException "Signature not yet current"', async () => {
    const e = await expectKms(() => send(new kms.DescribeKeyCommand({ KeyId: id1 }), client({ systemClockOffset: 600e3 })), 'InvalidSignatureException');
    truthy(e.message.startsWith('Signature not yet current: '), `message: ${e.message}`);
  });

  await checks.check('Clock skew of 4 min is tolerated', async () => {
    await send(new kms.DescribeKeyCommand({ KeyId: id1 }), client({ systemClockOffset: -240e3 }));
  });

  await checks.check('SDK corrects its clock from our Date header and its retry succeeds', async () => {
    await admin('reset-counters');
    const cl = client({ systemClockOffset: -600e3, maxAttempts: 2 });
    await send(new kms.DescribeKeyCommand({ KeyId: id1 }), cl);
    const n = (await admin('counters')).counters.ops.DescribeKey;
    eq(n, 2, 'DescribeKey requests seen by the server');
    truthy(Math.abs(cl.config.systemClockOffset) < 5000, `corrected systemClockOffset ${cl.config.systemClockOffset}`);
  });

  await checks.check('Server clock 10 min ahead (admin clock) -> InvalidSignatureException; the SDK adopts our Date and retries', async () => {
    await admin('clock', { offsetSeconds: 600 });
    try {
      const e = await expectKms(() => send(new kms.DescribeKeyCommand({ KeyId: id1 }), client()), 'InvalidSignatureException');
      truthy(e.message.startsWith('Signature expired: '), `message: ${e.message}`);
      const cl = client({ maxAttempts: 2 });
      await send(new kms.DescribeKeyCommand({ KeyId: id1 }), cl);
      truthy(Math.abs(cl.config.systemClockOffset - 600e3) < 5000, `systemClockOffset follows the server Date header (${cl.config.systemClockOffset})`);
    } finally {
      await admin('clock', { offsetSeconds: 0 });
    }
  });

  await checks.check('Fault "throttle" -> ThrottlingException (an SDK throttling error)', async () => {
    await admin('fault', { type: 'throttle', count: 1 });
    const e = await expectKms(() => send(new kms.EncryptCommand({ KeyId: id1, Plaintext: pt })), 'ThrottlingException');
    eq(e.$metadata.httpStatusCode, 400, 'HTTP status');
    // Not in the KMS model: the SDK builds a generic KMSServiceException named
    // ThrottlingException; its retry strategy recognises throttling by that name.
    eq(e.constructor.name, 'KMSServiceException', 'class');
  });

  await checks.check('Fault "500" -> KMSInternalException with HTTP 500', async () => {
    await admin('fault', { type: '500', count: 1, op: 'Decrypt' });
    const e = await expectKms(() => send(new kms.DecryptCommand({ CiphertextBlob: blob, EncryptionContext: ctx })), 'KMSInternalException');
    eq(e.$metadata.httpStatusCode, 500, 'HTTP status');
    eq(e.$fault, 'server', '$fault');
  });

  await checks.check('Fault "503" -> DependencyTimeoutException with HTTP 503', async () => {
    await admin('fault', { type: '503', count: 1 });
    const e = await expectKms(() => send(new kms.EncryptCommand({ KeyId: id1, Plaintext: pt })), 'DependencyTimeoutException');
    eq(e.$metadata.httpStatusCode, 503, 'HTTP status');
  });

  await checks.check('Fault "keyunavailable" -> KeyUnavailableException with HTTP 500', async () => {
    await admin('fault', { type: 'keyunavailable', count: 1 });
    const e = await expectKms(() => send(new kms.EncryptCommand({ KeyId: id1, Plaintext: pt })), 'KeyUnavailableException');
    eq(e.$metadata.httpStatusCode, 500, 'HTTP status');
  });

  await checks.check('SDK retries one throttle (maxAttempts 3) and succeeds; the server counted 2 calls', async () => {
    await admin('reset-counters');
    await admin('fault', { type: 'throttle', count: 1, op: 'Encrypt' });
    await send(new kms.EncryptCommand({ KeyId: id1, Plaintext: pt }), client({ maxAttempts: 3 }));
    const k = (await admin('counters')).counters;
    eq([k.ops.Encrypt, k.faults.throttle, k.statuses['200']], [2, 1, 1], 'Encrypt requests / throttle faults / successes');
  });

  await checks.check('Fault "hang" -> the SDK request times out (requestTimeout 500 ms, throwOnRequestTimeout)', async () => {
    await admin('fault', { type: 'hang', count: 1 });
    const t0 = Date.now();
    const e = await rejects(() => send(new kms.DescribeKeyCommand({ KeyId: id1 }), client({ requestHandler: { requestTimeout: 500, throwOnRequestTimeout: true } })), 'hang');
    eq(e.name, 'TimeoutError', 'error name');
    truthy(Date.now() - t0 >= 450, 'waited for the timeout');
    await admin('release-hung');
  });

  await checks.check('Fault "reset" -> the SDK sees a dropped connection', async () => {
    await admin('fault', { type: 'reset', count: 1 });
    const e = await rejects(() => send(new kms.DescribeKeyCommand({ KeyId: id1 }), client()), 'reset');
    truthy(['ECONNRESET', 'EPIPE'].includes(e.code) || /socket hang up|ECONNRESET/.test(e.message), `network error (got ${e.name} ${e.code}: ${e.message})`);
    truthy(!(e instanceof kms.KMSServiceException), 'not a service exception');
  });

  await checks.check('Fault "slow" 300 ms -> the answer arrives after the delay', async () => {
    await admin('fault', { type: 'slow', count: 1, delayMs: 300 });
    const t0 = Date.now();
    await send(new kms.DescribeKeyCommand({ KeyId: id1 }));
    truthy(Date.now() - t0 >= 290, `took ${Date.now() - t0} ms`);
  });

  await checks.check('Fault for a duration ("seconds") stops on its own', async () => {
    await admin('fault', { type: '500', seconds: 0.5, op: 'DescribeKey' });
    await expectKms(() => send(new kms.DescribeKeyCommand({ KeyId: id1 })), 'KMSInternalException');
    await sleep(600);
    await send(new kms.DescribeKeyCommand({ KeyId: id1 }));
  });

  await checks.check('Error-shape variants (com.amazonaws.kms#Name, x-amzn-ErrorType) still map to NotFoundException', async () => {
    await admin('error-style', { namespaced: true, errorTypeHeader: true });
    try {
      await expectKms(() => send(new kms.DescribeKeyCommand({ KeyId: `alias/missing-${rnd()}` })), 'NotFoundException');
    } finally {
      await admin('error-style', { namespaced: false, errorTypeHeader: false });
    }
  });

  await checks.check('Deleted key: Decrypt -> AccessDeniedException, Encrypt -> NotFoundException', async () => {
    const id3 = crypto.randomUUID();
    await admin('create-key', { id: id3 });
    const r = await send(new kms.EncryptCommand({ KeyId: id3, Plaintext: pt }));
    await admin('delete-key', { key: id3 });
    const e = await expectKms(() => send(new kms.DecryptCommand({ CiphertextBlob: r.CiphertextBlob })), 'AccessDeniedException');
    truthy(e.message.startsWith('The ciphertext refers to a customer master key that does not exist'), `message: ${e.message}`);
    await expectKms(() => send(new kms.EncryptCommand({ KeyId: id3, Plaintext: pt })), 'NotFoundException');
  });

  await checks.check('Counters count the SDK calls per operation', async () => {
    await admin('reset-counters');
    for (let i = 0; i < 3; i++) await send(new kms.EncryptCommand({ KeyId: id1, Plaintext: pt }));
    const k = (await admin('counters')).counters;
    eq([k.total, k.ops.Encrypt], [3, 3], 'total / Encrypt');
  });

  if (URL_.startsWith('https:')) {
    const port = new URL(URL_).port;
    await checks.check('TLS: https://localhost (DNS SAN) verifies against the test CA', async () => {
      const cl = new kms.KMSClient({ region: REGION, endpoint: `https://localhost:${port}`, maxAttempts: 1, credentials: STATIC });
      await cl.send(new kms.DescribeKeyCommand({ KeyId: id1 }));
    });
    await checks.check('TLS: a client trusting only the public roots rejects the test server', async () => {
      const https = require('https');
      const agent = new https.Agent({ ca: tls.rootCertificates });
      const e = await rejects(() => send(new kms.DescribeKeyCommand({ KeyId: id1 }), client({ requestHandler: { httpsAgent: agent } })), 'untrusted CA');
      truthy(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/.test(`${e.code} ${e.message}`), `certificate error (got ${e.code}: ${e.message})`);
    });
  }

  await admin('clear-faults');
  checks.done();
}

main().catch((e) => {
  process.stdout.write(`not ok - aws conformance aborted: ${e.stack}\n`);
  process.exit(1);
});
