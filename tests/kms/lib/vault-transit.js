'use strict';
// Transit keys and ciphertexts of the Vault/OpenBao emulator, following
// sdk/helper/keysutil/policy.go: ciphertext "vault:v<N>:" + std-base64(nonce(12)
// || ct || tag(16)); derived keys (derived=true) use HKDF-SHA256(key, info =
// context); associated_data is the AEAD's AAD; min_decryption_version /
// min_encryption_version / latest_version gate versions with Vault's messages.
// Limits: key types aes128-gcm96, aes256-gcm96, chacha20-poly1305 only; no
// convergent encryption, no batch_input, no export/backup/restore/trim, no
// signing/HMAC, no auto-rotation.

const crypto = require('crypto');
const { decodeStrict, firstBadIndex } = require('./b64');

class VaultError extends Error {
  constructor(status, errors) {
    super(errors.join('; ') || `HTTP ${status}`);
    this.status = status;
    this.errors = errors;
  }
}

const userErr = (msg) => new VaultError(400, [msg]);
const ErrTooOld = 'ciphertext or signature version is disallowed by policy (too old)';
const MISSING_CONTEXT = "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";

const TYPES = {
  'aes128-gcm96': { cipher: 'aes-128-gcm', keyLen: 16, authFail: 'cipher: message authentication failed' },
  'aes256-gcm96': { cipher: 'aes-256-gcm', keyLen: 32, authFail: 'cipher: message authentication failed' },
  'chacha20-poly1305': { cipher: 'chacha20-poly1305', keyLen: 32, authFail: 'chacha20poly1305: message authentication failed' },
};
const KNOWN_UNSUPPORTED = ['xchacha20-poly1305', 'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519', 'rsa-2048', 'rsa-3072', 'rsa-4096', 'hmac', 'managed_key'];

// Go's base64.StdEncoding.DecodeString, with its error text.
function b64go(s) {
  if (s === undefined || s === null || s === '') return Buffer.alloc(0);
  const b = decodeStrict(String(s));
  if (!b) throw userErr(`illegal base64 data at input byte ${firstBadIndex(String(s))}`);
  return b;
}

function toBool(v, name) {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === '1' || v === 'true') return true;
  if (v === 0 || v === '0' || v === 'false' || v === '') return false;
  throw userErr(`error converting input ${v} for field "${name}": cannot parse '' as bool`);
}

function toInt(v, name) {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^[+-]?\d+$/.test(v)) return Number(v);
  throw userErr(`error converting input ${v} for field "${name}": cannot parse '${v}' as int`);
}

class TransitStore {
  constructor(now) {
    this.now = now;
    this.policies = new Map();
  }

  static k(ns, mount, name) { return `${ns}\u0000${mount}\u0000${name}`; }

  get(ns, mount, name) { return this.policies.get(TransitStore.k(ns, mount, name)) || null; }

  list(ns, mount) {
    const prefix = `${ns}\u0000${mount}\u0000`;
    return [...this.policies.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)).sort();
  }

  // -> {policy, created}
  upsert(ns, mount, name, opts = {}) {
    const existing = this.get(ns, mount, name);
    if (existing) return { policy: existing, created: false };
    const type = opts.type === undefined || opts.type === '' ? 'aes256-gcm96' : String(opts.type);
    if (!TYPES[type]) {
      if (KNOWN_UNSUPPORTED.includes(type)) throw userErr(`key type ${type} is not supported by this emulator`);
      throw userErr(`unknown key type ${type}`);
    }
    if (toBool(opts.convergent_encryption, 'convergent_encryption')) throw userErr('convergent encryption is not supported by this emulator');
    const p = {
      name, type,
      derived: !!toBool(opts.derived, 'derived'),
      exportable: !!toBool(opts.exportable, 'exportable'),
      deletion_allowed: !!toBool(opts.deletion_allowed, 'deletion_allowed'),
      allow_plaintext_backup: !!toBool(opts.allow_plaintext_backup, 'allow_plaintext_backup'),
      auto_rotate_period: 0,
      latest_version: 0,
      min_decryption_version: 1,
      min_encryption_version: 0,
      versions: {},
    };
    this.rotate(p);
    this.policies.set(TransitStore.k(ns, mount, name), p);
    return { policy: p, created: true };
  }

  delete(ns, mount, name) {
    const p = this.get(ns, mount, name);
    if (!p) throw userErr(`error deleting policy ${name}: could not delete key; not found`);
    if (!p.deletion_allowed) throw userErr(`error deleting policy ${name}: deletion is not allowed for this policy`);
    this.policies.delete(TransitStore.k(ns, mount, name));
  }

  rotate(p) {
    p.latest_version += 1;
    p.versions[p.latest_version] = { key: crypto.randomBytes(TYPES[p.type].keyLen), time: Math.floor(this.now() / 1000) };
    return p;
  }

  format(p) {
    const data = {
      name: p.name,
      type: p.type,
      derived: p.derived,
      deletion_allowed: p.deletion_allowed,
      min_available_version: 0,
      min_decryption_version: p.min_decryption_version,
      min_encryption_version: p.min_encryption_version,
      latest_version: p.latest_version,
      exportable: p.exportable,
      allow_plaintext_backup: p.allow_plaintext_backup,
      supports_encryption: true,
      supports_decryption: true,
      supports_signing: false,
      supports_derivation: true,
      auto_rotate_period: p.auto_rotate_period,
      imported_key: false,
      keys: Object.fromEntries(Object.entries(p.versions).map(([v, e]) => [v, e.time])),
    };
    if (p.derived) {
      data.kdf = 'hkdf_sha256';
      data.convergent_encryption = false;
    }
    return data;
  }

  // keys/<name>/config; -> {data, warnings}
  configure(p, body) {
    const warnings = [];
    const before = { ...p };
    try {
      const dec = toInt(body.min_decryption_version, 'min_decryption_version');
      if (dec !== undefined) {
        let v = dec;
        if (v < 0) throw userErr('min decryption version cannot be negative');
        if (v === 0) { v = 1; warnings.push('since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1'); }
        if (v !== p.min_decryption_version) {
          if (v > p.latest_version) throw userErr(`cannot set min decryption version of ${v}, latest key version is ${p.latest_version}`);
          p.min_decryption_version = v;
        }
      }
      const enc = toInt(body.min_encryption_version, 'min_encryption_version');
      if (enc !== undefined) {
        if (enc < 0) throw userErr('min encryption version cannot be negative');
        if (enc !== p.min_encryption_version) {
          if (enc > p.latest_version) throw userErr(`cannot set min encryption version of ${enc}, latest key version is ${p.latest_version}`);
          p.min_encryption_version = enc;
        }
      }
      if (p.min_encryption_version > 0 && p.min_encryption_version < p.min_decryption_version) {
        throw userErr(`cannot set min encryption/decryption values; min encryption version of ${p.min_encryption_version} must be greater than or equal to min decryption version of ${p.min_decryption_version}`);
      }
      const del = toBool(body.deletion_allowed, 'deletion_allowed');
      if (del !== undefined) p.deletion_allowed = del;
      if (toBool(body.exportable, 'exportable')) p.exportable = true;
      if (toBool(body.allow_plaintext_backup, 'allow_plaintext_backup')) p.allow_plaintext_backup = true;
      const arp = toInt(body.auto_rotate_period, 'auto_rotate_period');
      if (arp !== undefined) {
        if (arp !== 0 && arp < 3600) throw userErr('auto rotate period must be 0 to disable or at least an hour');
        p.auto_rotate_period = arp;
      }
    } catch (e) {
      Object.assign(p, before);
      throw e;
    }
    return { data: this.format(p), warnings };
  }

  keyFor(p, ver, context) {
    if (ver <= 0 || ver > p.latest_version) throw userErr(p.derived ? 'invalid key version' : 'no such key version');
    const entry = p.versions[ver];
    if (!entry) throw userErr('no such key version');
    if (!p.derived) return entry.key;
    if (!context.length) throw userErr(MISSING_CONTEXT);
    return Buffer.from(crypto.hkdfSync('sha256', entry.key, Buffer.alloc(0), context, TYPES[p.type].keyLen));
  }

  // -> {ciphertext, key_version}
  encrypt(p, plaintext, context, keyVersion, ad) {
    let ver = keyVersion || 0;
    if (ver === 0) ver = p.latest_version;
    else if (ver < 0) throw userErr('requested version for encryption is negative');
    else if (ver > p.latest_version) throw userErr('requested version for encryption is higher than the latest key version');
    else if (ver < p.min_encryption_version) throw userErr('requested version for encryption is less than the minimum encryption key version');
    const t = TYPES[p.type];
    const key = this.keyFor(p, ver, context);
    const nonce = crypto.randomBytes(12);
    const c = crypto.createCipheriv(t.cipher, key, nonce, { authTagLength: 16 });
    if (ad.length) c.setAAD(ad, { plaintextLength: plaintext.length });
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    const raw = Buffer.concat([nonce, ct, c.getAuthTag()]);
    return { ciphertext: `vault:v${ver}:${raw.toString('base64')}`, key_version: ver };
  }

  // -> {plaintext(Buffer), version}
  decrypt(p, value, context, ad) {
    if (!value.startsWith('vault:v')) throw userErr('invalid ciphertext: no prefix');
    const rest = value.slice('vault:v'.length);
    const colon = rest.indexOf(':');
    if (colon < 0) throw userErr('invalid ciphertext: wrong number of fields');
    const verStr = rest.slice(0, colon);
    if (!/^[+-]?\d+$/.test(verStr)) throw userErr('invalid ciphertext: version number could not be decoded');
    let ver = Number(verStr);
    if (ver === 0) ver = 1;
    if (ver > p.latest_version) throw userErr('invalid ciphertext: version is too new');
    if (p.min_decryption_version > 0 && ver < p.min_decryption_version) throw userErr(ErrTooOld);
    const raw = decodeStrict(rest.slice(colon + 1));
    if (!raw) throw userErr('invalid ciphertext: could not decode base64');
    const t = TYPES[p.type];
    const key = this.keyFor(p, ver, context);
    if (raw.length < 12) throw userErr('invalid ciphertext length');
    if (raw.length < 12 + 16) throw userErr(t.authFail);
    try {
      const d = crypto.createDecipheriv(t.cipher, key, raw.subarray(0, 12), { authTagLength: 16 });
      const ct = raw.subarray(12, raw.length - 16);
      if (ad.length) d.setAAD(ad, { plaintextLength: ct.length });
      d.setAuthTag(raw.subarray(raw.length - 16));
      return { plaintext: Buffer.concat([d.update(ct), d.final()]), version: ver };
    } catch (_) {
      throw userErr(t.authFail);
    }
  }
}

module.exports = { TransitStore, VaultError, userErr, b64go, toBool, toInt, TYPES };
