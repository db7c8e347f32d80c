'use strict';
// Who may call the AWS KMS emulator: access keys (long-term, or temporary with
// a session token and optional expiry) and deny rules standing in for IAM and
// key policies. A rule names an access key and/or a key (either may be "*")
// and optionally the operations it covers; a match answers AccessDeniedException.
// Limits: no real IAM policy language, no grants, no conditions on
// EncryptionContext; "allow" only removes deny rules (everything else is allowed).

const { KmsError } = require('./aws-errors');

function parseTime(v) {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') return v * 1000;
  if (/^\d+(\.\d+)?$/.test(String(v))) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new KmsError('ValidationException', `bad time '${v}'`);
  return t;
}

class Access {
  constructor({ account, now }) {
    this.account = account;
    this.now = now;
    this.creds = new Map();
    this.rules = [];
  }

  addCredential(c) {
    if (!c || !c.accessKeyId || !c.secretAccessKey) throw new KmsError('ValidationException', 'accessKeyId and secretAccessKey are required');
    if (!/^[A-Z0-9]{1,128}$/.test(c.accessKeyId)) throw new KmsError('ValidationException', 'accessKeyId must match [A-Z0-9]+');
    const rec = {
      accessKeyId: c.accessKeyId,
      secretAccessKey: String(c.secretAccessKey),
      user: c.user || (c.sessionToken ? `assumed-role/byokfs-test/${c.accessKeyId}` : `user/byokfs-test-${c.accessKeyId}`),
    };
    if (c.sessionToken) rec.sessionToken = String(c.sessionToken);
    let exp = parseTime(c.expiresAt);
    if (c.expiresIn !== undefined) exp = this.now() + Number(c.expiresIn) * 1000;
    if (exp !== undefined) rec.expiresAt = exp;
    this.creds.set(rec.accessKeyId, rec);
    return this.describe(rec);
  }

  describe(rec) {
    return {
      accessKeyId: rec.accessKeyId,
      temporary: !!rec.sessionToken,
      expiresAt: rec.expiresAt === undefined ? null : new Date(rec.expiresAt).toISOString(),
      principal: this.principalArn(rec),
    };
  }

  principalArn(rec) {
    return rec.sessionToken ? `arn:aws:sts::${this.account}:${rec.user}` : `arn:aws:iam::${this.account}:${rec.user}`;
  }

  expire(accessKeyId) {
    const rec = this.creds.get(accessKeyId);
    if (!rec) throw new KmsError('NotFoundException', `no credential ${accessKeyId}`);
    rec.expiresAt = this.now() - 1000;
    return this.describe(rec);
  }

  remove(accessKeyId) { return this.creds.delete(accessKeyId); }
  lookup(accessKeyId) { return this.creds.get(accessKeyId) || null; }

  // rule: {accessKeyId?: string|'*', keyId?: string|'*', ops?: string[]}
  deny({ accessKeyId = '*', keyId = '*', ops } = {}) {
    const rule = { accessKeyId, keyId, ops: ops && ops.length ? ops : null };
    this.rules.push(rule);
    return rule;
  }

  allow({ accessKeyId = '*', keyId = '*' } = {}) {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => !(r.accessKeyId === accessKeyId && r.keyId === keyId));
    return before - this.rules.length;
  }

  // Throws AccessDeniedException when a rule matches.
  check(op, cred, key, keyArn) {
    for (const r of this.rules) {
      if (r.accessKeyId !== '*' && r.accessKeyId !== cred.accessKeyId) continue;
      if (r.keyId !== '*' && (!key || r.keyId !== key.id)) continue;
      if (r.ops && !r.ops.includes(op) && !(op.startsWith('ReEncrypt') && r.ops.includes('ReEncrypt'))) continue;
      const resource = keyArn || `arn:aws:kms:*:${this.account}:*`;
      const why = r.accessKeyId !== '*' ? 'identity-based' : 'resource-based';
      throw new KmsError('AccessDeniedException',
        `User: ${this.principalArn(cred)} is not authorized to perform: kms:${op} on resource: ${resource} because no ${why} policy allows the kms:${op} action`);
    }
  }

  snapshot() {
    return { credentials: [...this.creds.values()].map((c) => this.describe(c)), denyRules: this.rules };
  }
}

module.exports = { Access, parseTime };
