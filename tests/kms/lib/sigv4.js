'use strict';
// AWS Signature Version 4 verification, done generically from what the client
// says it signed: the canonical request is rebuilt from the headers named in the
// Authorization header's SignedHeaders (lower-cased names, trimmed values with
// whitespace runs collapsed, repeated headers joined with ','), the received
// path and query, and sha256(body). Requires host and x-amz-date to be signed.
// Limits: header (Authorization) auth only, no presigned query strings, no
// chunked/streaming payloads, no SigV4a; service/region come from the caller.

const crypto = require('crypto');

class SigV4Error extends Error {
  constructor(code, message) { super(message); this.code = code; }
}

const SKEW_MS = 5 * 60 * 1000;
const ALGORITHM = 'AWS4-HMAC-SHA256';

const sha256hex = (data) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

function rfc3986(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function safeDecode(s) {
  try { return decodeURIComponent(s.replace(/\+/g, '%20')); } catch (_) { return s; }
}

// Non-S3 services: each path segment is URI-encoded once more (as the SDKs do).
function canonicalUri(rawPath) {
  if (!rawPath || rawPath === '/') return '/';
  return rawPath.split('/').map((seg) => rfc3986(seg)).join('/');
}

function canonicalQuery(rawQuery) {
  if (!rawQuery) return '';
  const pairs = rawQuery.split('&').filter(Boolean).map((p) => {
    const i = p.indexOf('=');
    const k = i < 0 ? p : p.slice(0, i);
    const v = i < 0 ? '' : p.slice(i + 1);
    return [rfc3986(safeDecode(k)), rfc3986(safeDecode(v))];
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

// rawHeaders (Node's flat [name, value, ...]) -> Map lower-name -> [values]
function headerMap(rawHeaders) {
  const m = new Map();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const k = rawHeaders[i].toLowerCase();
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(rawHeaders[i + 1]);
  }
  return m;
}

function parseAuthorization(value) {
  const sp = value.indexOf(' ');
  const algorithm = sp < 0 ? value : value.slice(0, sp);
  const params = {};
  if (sp >= 0) {
    for (const part of value.slice(sp + 1).split(',')) {
      const t = part.trim();
      const eq = t.indexOf('=');
      if (eq > 0) params[t.slice(0, eq)] = t.slice(eq + 1);
    }
  }
  return { algorithm, params };
}

function amzDateToMs(d) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(d);
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

function msToAmzDate(ms) {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function signingKey(secret, date, region, service) {
  const kDate = hmac('AWS4' + secret, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

// opts: {method, rawPath, rawQuery, rawHeaders, body(Buffer), region, service,
//        now(ms), lookup(accessKeyId) -> {secretAccessKey, sessionToken?, expiresAt?}|null}
// Returns {accessKeyId, credential, canonicalRequest, stringToSign}; throws SigV4Error.
function verify(opts) {
  const h = headerMap(opts.rawHeaders);
  const auths = h.get('authorization');
  if (!auths) throw new SigV4Error('MissingAuthenticationTokenException', 'Missing Authentication Token');
  if (auths.length > 1) throw new SigV4Error('IncompleteSignatureException', 'Multiple Authorization headers');
  const auth = auths[0];
  const { algorithm, params } = parseAuthorization(auth);
  if (algorithm !== ALGORITHM) {
    throw new SigV4Error('IncompleteSignatureException', `Unsupported AWS 'algorithm': '${algorithm}'`);
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((p) => !params[p]);
  if (missing.length) {
    throw new SigV4Error('IncompleteSignatureException',
      missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' ') + ` Authorization=${auth}`);
  }
  const scope = params.Credential.split('/');
  if (scope.length !== 5) {
    throw new SigV4Error('IncompleteSignatureException',
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${params.Credential}'`);
  }
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = scope;
  const signedHeaders = params.SignedHeaders.split(';');
  if (!signedHeaders.includes('host')) {
    throw new SigV4Error('IncompleteSignatureException', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const dates = h.get('x-amz-date');
  if (!dates) {
    throw new SigV4Error('IncompleteSignatureException',
      `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${auth}`);
  }
  if (!signedHeaders.includes('x-amz-date')) {
    throw new SigV4Error('IncompleteSignatureException', "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const amzDate = dates[0].trim();
  const reqMs = amzDateToMs(amzDate);
  if (Number.isNaN(reqMs)) {
    throw new SigV4Error('IncompleteSignatureException',
      `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }

  const cred = opts.lookup(accessKeyId);
  if (!cred) throw new SigV4Error('UnrecognizedClientException', 'The security token included in the request is invalid.');
  const tokens = h.get('x-amz-security-token');
  if (cred.sessionToken) {
    if (!tokens || tokens[0] !== cred.sessionToken || !signedHeaders.includes('x-amz-security-token')) {
      throw new SigV4Error('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (cred.expiresAt !== undefined && opts.now >= cred.expiresAt) {
      throw new SigV4Error('ExpiredTokenException', 'The security token included in the request is expired');
    }
  } else if (tokens) {
    throw new SigV4Error('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }

  if (terminator !== 'aws4_request') {
    throw new SigV4Error('InvalidSignatureException', `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`);
  }
  if (scopeDate !== amzDate.slice(0, 8)) {
    throw new SigV4Error('InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`);
  }
  if (scopeRegion !== opts.region) {
    throw new SigV4Error('InvalidSignatureException', `Credential should be scoped to a valid region, not '${scopeRegion}'. `);
  }
  if (scopeService !== opts.service) {
    throw new SigV4Error('InvalidSignatureException', `Credential should be scoped to correct service: '${opts.service}'. `);
  }

  if (reqMs < opts.now - SKEW_MS) {
    throw new SigV4Error('InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than ${msToAmzDate(opts.now - SKEW_MS)} (${msToAmzDate(opts.now)} - 5 min.)`);
  }
  if (reqMs > opts.now + SKEW_MS) {
    throw new SigV4Error('InvalidSignatureException',
      `Signature not yet current: ${amzDate} is still later than ${msToAmzDate(opts.now + SKEW_MS)} (${msToAmzDate(opts.now)} + 5 min.)`);
  }

  const payloadHash = sha256hex(opts.body);
  const declared = h.get('x-amz-content-sha256');
  if (declared && declared[0].trim() !== payloadHash) {
    throw new SigV4Error('InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }

  const lines = [];
  let absent = false;
  for (const name of signedHeaders) {
    const vals = h.get(name);
    if (!vals) absent = true;
    lines.push(`${name}:${(vals || []).map((v) => v.trim().replace(/\s+/g, ' ')).join(',')}`);
  }
  const canonicalRequest = [
    opts.method, canonicalUri(opts.rawPath), canonicalQuery(opts.rawQuery),
    lines.join('\n') + '\n', params.SignedHeaders, payloadHash,
  ].join('\n');
  const credentialScope = `${scopeDate}/${scopeRegion}/${scopeService}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, credentialScope, sha256hex(canonicalRequest)].join('\n');
  const expected = hmac(signingKey(cred.secretAccessKey, scopeDate, scopeRegion, scopeService), stringToSign).toString('hex');
  const given = Buffer.from(params.Signature, 'utf8');
  const ok = !absent && given.length === expected.length && crypto.timingSafeEqual(given, Buffer.from(expected, 'utf8'));
  const debug = {
    canonicalRequest: cred.sessionToken ? canonicalRequest.split(cred.sessionToken).join('<token>') : canonicalRequest,
    stringToSign,
  };
  if (!ok) {
    const e = new SigV4Error('InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
    e.debug = absent ? { ...debug, absentSignedHeaders: signedHeaders.filter((n) => !h.has(n)) } : debug;
    throw e;
  }
  return { accessKeyId, credential: cred, ...debug };
}

module.exports = { verify, SigV4Error, amzDateToMs, msToAmzDate };
