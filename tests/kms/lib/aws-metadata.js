'use strict';
// The credential services the AWS SDKs (and byokfs) fall back on, served by
// the AWS KMS emulator beside KMS itself:
//  - container credentials (ECS/EKS): GET /_container/credentials, checking
//    the Authorization header when a token is configured
//    (AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:PORT/_container/credentials);
//  - EC2 instance metadata, IMDSv2: PUT /latest/api/token with
//    X-aws-ec2-metadata-token-ttl-seconds (1..21600), then GET
//    /latest/meta-data/iam/security-credentials/ (the role name) and
//    .../security-credentials/ROLE with X-aws-ec2-metadata-token
//    (AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:PORT).
// Every credentials answer mints a new temporary access key (ASIA...) with a
// session token, registered with the emulator's Access so that KMS accepts
// it until it expires (ttlSeconds, default 3600), in the SDKs' JSON shape.
// Limits: IMDSv1 (a GET without token) is refused with 401, as on an
// instance that requires IMDSv2; no other metadata paths; no X-Forwarded-For
// check; tokens and credentials live in memory only.

const crypto = require('crypto');

const CONTAINER_PATH = '/_container/credentials';
const IMDS_PREFIX = '/latest/';
const CREDS_PATH = '/latest/meta-data/iam/security-credentials/';

class Metadata {
  // access: the emulator's Access; now(): ms
  constructor({ access, now }) {
    this.now = now;
    this.setAccess(access);
    this.reset();
  }

  setAccess(access) { this.access = access; }

  reset() {
    this.ttlSeconds = 3600;
    this.containerToken = '';
    this.role = 'byokfs-test-role';
    this.tokens = new Map(); // IMDS token -> expiry (ms)
    this.issued = [];        // access key ids minted, oldest first
  }

  configure(b) {
    if (b.ttlSeconds !== undefined) {
      const t = Number(b.ttlSeconds);
      if (!(t > 0)) throw new Error('ttlSeconds must be > 0');
      this.ttlSeconds = t;
    }
    if (b.containerToken !== undefined) this.containerToken = String(b.containerToken);
    if (b.role !== undefined) this.role = String(b.role);
    return this.snapshot();
  }

  snapshot() {
    return { ttlSeconds: this.ttlSeconds, containerToken: this.containerToken ? '(set)' : '', role: this.role, issued: this.issued };
  }

  static isMetadata(path) { return path === CONTAINER_PATH || path.startsWith(IMDS_PREFIX); }

  // Operation name for counters and faults.
  static op(method, path) {
    if (path === CONTAINER_PATH) return 'container-credentials';
    if (path === '/latest/api/token') return 'imds-token';
    if (path === CREDS_PATH) return 'imds-role';
    if (path.startsWith(CREDS_PATH)) return 'imds-credentials';
    return 'imds-other';
  }

  mint() {
    const accessKeyId = `ASIA${crypto.randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = crypto.randomBytes(30).toString('base64');
    // as long as real session tokens, longer than inih's 200-byte lines
    const sessionToken = `IQoJb3JpZ2luX2Vj${crypto.randomBytes(600).toString('base64')}`;
    const expiresAt = this.now() + this.ttlSeconds * 1000;
    this.access.addCredential({ accessKeyId, secretAccessKey, sessionToken, expiresAt: expiresAt / 1000 });
    this.issued.push(accessKeyId);
    return {
      AccessKeyId: accessKeyId,
      SecretAccessKey: secretAccessKey,
      Token: sessionToken,
      Expiration: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  }

  // -> {status, body (string), type}
  handle(method, path, headers) {
    const text = (status, body) => ({ status, body, type: 'text/plain' });
    if (path === CONTAINER_PATH) {
      if (method !== 'GET') return text(405, 'method not allowed');
      if (this.containerToken && headers.authorization !== this.containerToken) return text(403, 'forbidden');
      return { status: 200, body: JSON.stringify({ ...this.mint(), RoleArn: `arn:aws:iam::111122223333:role/${this.role}` }), type: 'application/json' };
    }
    if (path === '/latest/api/token') {
      if (method !== 'PUT') return text(405, 'method not allowed');
      const ttl = Number(headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return text(400, 'bad request');
      const token = crypto.randomBytes(32).toString('base64');
      this.tokens.set(token, this.now() + ttl * 1000);
      return text(200, token);
    }
    if (method !== 'GET') return text(405, 'method not allowed');
    const tok = headers['x-aws-ec2-metadata-token'];
    const exp = tok && this.tokens.get(String(tok));
    if (!exp || exp <= this.now()) return text(401, 'unauthorized');
    if (path === CREDS_PATH) return this.role ? text(200, this.role) : text(404, 'not found');
    if (path.startsWith(CREDS_PATH)) {
      if (!this.role || path.slice(CREDS_PATH.length) !== this.role) return text(404, 'not found');
      const c = this.mint();
      return {
        status: 200,
        body: JSON.stringify({ Code: 'Success', LastUpdated: new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), Type: 'AWS-HMAC', ...c }, null, 2),
        type: 'text/plain',
      };
    }
    return text(404, 'not found');
  }
}

module.exports = { Metadata };
