'use strict';
// Strict standard base64 (RFC 4648 section 4, '+/', '=' padding required),
// as AWS KMS blobs and Vault payloads use. Node's Buffer.from(s, 'base64') is
// lenient (accepts url-safe, missing padding, junk); real servers are not.

const STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// Returns a Buffer, or null if s is not strict standard base64.
function decodeStrict(s) {
  if (typeof s !== 'string' || !STD.test(s)) return null;
  return Buffer.from(s, 'base64');
}

// Index of the first byte a Go base64.StdEncoding decoder would reject (for
// Vault's "illegal base64 data at input byte N" messages); approximate.
function firstBadIndex(s) {
  if (typeof s !== 'string') return 0;
  for (let i = 0; i < s.length; i++) {
    if (!/[A-Za-z0-9+/=]/.test(s[i])) return i;
  }
  const eq = s.indexOf('=');
  if (eq >= 0 && eq < s.length - 2) return eq;
  return Math.max(0, s.length - (s.length % 4 || 4));
}

module.exports = { decodeStrict, firstBadIndex };
