'use strict';
// Key store and ciphertext blobs of the AWS KMS emulator.
// Keys: symmetric (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT) with a random 256-bit
// secret each, addressable by key id, key ARN, alias/NAME and alias ARN.
// Blob (emulator format, not AWS's): 0x01 'K' len(keyId) keyId nonce(12) ct tag(16),
// AES-256-GCM under the key's secret with AAD = blob header || 0x00 || canonical
// EncryptionContext (sorted [k,v] pairs), so the key id and the exact context
// (order-independent, case-sensitive) are bound; anything else fails to open.
// Limits: no asymmetric/HMAC keys, no key rotation, no multi-region, no grants.

const crypto = require('crypto');
const { KmsError } = require('./aws-errors');

const STATES = ['Enabled', 'Disabled', 'PendingDeletion', 'PendingImport', 'Unavailable'];
const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
const ALIAS_RE = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;

function canonicalContext(ctx) {
  const keys = Object.keys(ctx || {}).sort();
  return JSON.stringify(keys.map((k) => [k, ctx[k]]));
}

class KeyStore {
  constructor({ region, account, now }) {
    this.region = region;
    this.account = account;
    this.now = now;
    this.keys = new Map();
    this.aliases = new Map();
  }

  keyArn(id) { return `arn:aws:kms:${this.region}:${this.account}:key/${id}`; }
  aliasArn(name) { return `arn:aws:kms:${this.region}:${this.account}:${name}`; }

  create({ id, description = '', state = 'Enabled', aliases = [] } = {}) {
    id = id === undefined || id === null || id === '' ? crypto.randomUUID() : String(id);
    if (!ID_RE.test(id)) throw new KmsError('ValidationException', `invalid key id '${id}' (emulator accepts [A-Za-z0-9_-]{1,128})`);
    if (this.keys.has(id)) throw new KmsError('AlreadyExistsException', `Key ${this.keyArn(id)} already exists`);
    if (!STATES.includes(state)) throw new KmsError('ValidationException', `invalid key state '${state}'`);
    for (const a of aliases) this.checkNewAlias(a);
    const key = {
      id, description, state,
      secret: crypto.randomBytes(32),
      creationDate: this.now(),
    };
    this.keys.set(id, key);
    for (const a of aliases) this.aliases.set(a, id);
    return key;
  }

  checkNewAlias(name) {
    if (typeof name !== 'string' || !ALIAS_RE.test(name)) {
      throw new KmsError('ValidationException', `1 validation error detected: Value '${name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$`);
    }
    if (name.startsWith('alias/aws/')) throw new KmsError('NotAuthorizedException', `Alias names starting with alias/aws/ are reserved.`);
    if (this.aliases.has(name)) throw new KmsError('AlreadyExistsException', `An alias with the name ${this.aliasArn(name)} already exists`);
  }

  addAlias(name, keyId) {
    this.checkNewAlias(name);
    this.aliases.set(name, keyId);
  }

  // Expires keys whose deletion date has passed (on the emulator's clock).
  reap() {
    const now = this.now();
    for (const k of [...this.keys.values()]) {
      if (k.state === 'PendingDeletion' && k.deletionDate !== undefined && now >= k.deletionDate) this.remove(k.id);
    }
  }

  remove(id) {
    this.keys.delete(id);
    for (const [a, target] of [...this.aliases]) if (target === id) this.aliases.delete(a);
  }

  // spec: key id | key ARN | alias/NAME | alias ARN. opts.allowAlias=false for
  // operations that take only a key id or key ARN. Throws NotFoundException.
  resolve(spec, { allowAlias = true } = {}) {
    this.reap();
    if (typeof spec !== 'string' || spec === '') {
      throw new KmsError('ValidationException', "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null");
    }
    let rest = spec;
    if (spec.startsWith('arn:')) {
      const m = /^arn:aws:kms:([^:]*):([^:]*):((?:key|alias)\/.+)$/.exec(spec);
      if (!m) throw new KmsError('NotFoundException', `Invalid arn ${spec}`);
      if (m[1] !== this.region || m[2] !== this.account) {
        throw new KmsError('NotFoundException', m[3].startsWith('alias/')
          ? `Alias ${spec} is not found.` : `Key '${spec}' does not exist`);
      }
      rest = m[3];
      if (rest.startsWith('key/')) rest = rest.slice(4);
    }
    if (rest.startsWith('alias/')) {
      if (!allowAlias) throw new KmsError('NotFoundException', `Invalid keyId ${spec}`);
      const id = this.aliases.get(rest);
      if (!id || !this.keys.has(id)) throw new KmsError('NotFoundException', `Alias ${this.aliasArn(rest)} is not found.`);
      return this.keys.get(id);
    }
    const key = this.keys.get(rest);
    if (!key) {
      if (!ID_RE.test(rest)) throw new KmsError('NotFoundException', `Invalid keyId ${spec}`);
      throw new KmsError('NotFoundException', `Key '${this.keyArn(rest)}' does not exist`);
    }
    return key;
  }

  // Throws DisabledException / KMSInvalidStateException unless Enabled.
  requireUsable(key) {
    const arn = this.keyArn(key.id);
    switch (key.state) {
      case 'Enabled': return;
      case 'Disabled': throw new KmsError('DisabledException', `${arn} is disabled.`);
      case 'PendingDeletion': throw new KmsError('KMSInvalidStateException', `${arn} is pending deletion.`);
      case 'PendingImport': throw new KmsError('KMSInvalidStateException', `${arn} is pending import.`);
      default: throw new KmsError('KMSInvalidStateException', `${arn} is unavailable.`);
    }
  }

  metadata(key) {
    const md = {
      AWSAccountId: this.account,
      KeyId: key.id,
      Arn: this.keyArn(key.id),
      CreationDate: key.creationDate / 1000,
      Enabled: key.state === 'Enabled',
      Description: key.description,
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: key.state,
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
    };
    if (key.state === 'PendingDeletion') {
      md.DeletionDate = key.deletionDate / 1000;
      md.PendingDeletionWindowInDays = key.pendingWindowInDays;
    }
    return md;
  }

  seal(key, plaintext, context) {
    const id = Buffer.from(key.id, 'utf8');
    const header = Buffer.concat([Buffer.from([0x01, 0x4b, id.length]), id]);
    const nonce = crypto.randomBytes(12);
    const c = crypto.createCipheriv('aes-256-gcm', key.secret, nonce);
    c.setAAD(Buffer.concat([header, Buffer.from([0]), Buffer.from(canonicalContext(context), 'utf8')]));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    return Buffer.concat([header, nonce, ct, c.getAuthTag()]);
  }

  // -> {keyId, header, nonce, ct, tag} or null if the blob is not well-formed
  parse(blob) {
    if (blob.length < 3 || blob[0] !== 0x01 || blob[1] !== 0x4b) return null;
    const n = blob[2];
    if (n === 0 || blob.length < 3 + n + 12 + 16) return null;
    const keyId = blob.subarray(3, 3 + n).toString('utf8');
    return {
      keyId,
      header: blob.subarray(0, 3 + n),
      nonce: blob.subarray(3 + n, 3 + n + 12),
      ct: blob.subarray(3 + n + 12, blob.length - 16),
      tag: blob.subarray(blob.length - 16),
    };
  }

  // -> plaintext Buffer or null if authentication fails
  open(key, parsed, context) {
    try {
      const d = crypto.createDecipheriv('aes-256-gcm', key.secret, parsed.nonce);
      d.setAAD(Buffer.concat([parsed.header, Buffer.from([0]), Buffer.from(canonicalContext(context), 'utf8')]));
      d.setAuthTag(parsed.tag);
      return Buffer.concat([d.update(parsed.ct), d.final()]);
    } catch (_) {
      return null;
    }
  }

  snapshot() {
    return {
      keys: [...this.keys.values()].map((k) => ({ ...this.metadata(k), aliases: this.aliasesOf(k.id) })),
      aliases: Object.fromEntries(this.aliases),
    };
  }

  aliasesOf(id) { return [...this.aliases].filter(([, t]) => t === id).map(([a]) => a); }
}

module.exports = { KeyStore, STATES, canonicalContext };
