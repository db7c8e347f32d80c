'use strict';
// AWS KMS error answers as the JSON 1.1 wire carries them:
//   {"__type":"<Name>","message":"..."}  (most errors)
//   {"__type":"AccessDeniedException","Message":"..."}  (capital M, as seen on the wire)
//   {"__type":"InvalidCiphertextException"}  (no message at all)
// with the HTTP status real KMS uses. Optional variants, switchable through the
// admin verb "error-style": __type as "com.amazonaws.kms#<Name>" and an
// x-amzn-ErrorType header, so clients can be tested against every shape.
// Limits: statuses follow the service model / observed wire, not every edge.

const STATUS = {
  KMSInternalException: 500,
  KeyUnavailableException: 500,
  DependencyTimeoutException: 503,
  DryRunOperationException: 412,
};

const CAPITAL_MESSAGE = new Set(['AccessDeniedException']);

class KmsError extends Error {
  // message === null -> body without any message member
  constructor(name, message, status) {
    super(message === null ? name : message);
    this.kmsName = name;
    this.kmsMessage = message;
    this.status = status || STATUS[name] || 400;
  }
}

const style = { namespaced: false, errorTypeHeader: false };

function setStyle(s) {
  if (s.namespaced !== undefined) style.namespaced = !!s.namespaced;
  if (s.errorTypeHeader !== undefined) style.errorTypeHeader = !!s.errorTypeHeader;
  return { ...style };
}

// -> {status, body, headers}
function render(err) {
  const body = { __type: style.namespaced ? `com.amazonaws.kms#${err.kmsName}` : err.kmsName };
  if (err.kmsMessage !== null && err.kmsMessage !== undefined) {
    body[CAPITAL_MESSAGE.has(err.kmsName) ? 'Message' : 'message'] = err.kmsMessage;
  }
  const headers = { 'Content-Type': 'application/x-amz-json-1.1' };
  if (style.errorTypeHeader) {
    headers['x-amzn-ErrorType'] = `${err.kmsName}:http://internal.amazon.com/coral/com.amazon.coral.service/`;
  }
  return { status: err.status, body, headers };
}

module.exports = { KmsError, render, setStyle, style, STATUS };
