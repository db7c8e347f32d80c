'use strict';
// HTTP/HTTPS plumbing shared by the KMS test servers: listen on a loopback
// address, announce readiness (stdout ready line + atomic port file), read
// bounded request bodies, and drop every socket at shutdown (including requests
// a "hang" fault left unanswered).
// Limits: HTTP/1.1 only; one listener per process; TLS without client certs.

const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');

const MAX_BODY = 1024 * 1024;

function writeFileAtomic(file, text) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

// opts: {name, host, port, tls: {certFile, keyFile} | null, portFile, handler,
//        clientError?(err, socket) -> true if it took the socket over}
// handler(req, res) is called for every request.
function listen(opts) {
  let server;
  if (opts.tls) {
    server = https.createServer({
      cert: fs.readFileSync(opts.tls.certFile),
      key: fs.readFileSync(opts.tls.keyFile),
    }, opts.handler);
  } else {
    server = http.createServer(opts.handler);
  }
  // A "hang" fault must really hang: no server-side timeouts on our answers.
  server.requestTimeout = 0;
  server.timeout = 0;
  server.keepAliveTimeout = 5000;

  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (err, socket) => {
    if (opts.clientError && opts.clientError(err, socket)) return;
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.on('tlsClientError', () => { /* a client refusing our test CA; nothing to do */ });

  server.listen(opts.port, opts.host, () => {
    const port = server.address().port;
    const scheme = opts.tls ? 'https' : 'http';
    if (opts.portFile) writeFileAtomic(opts.portFile, `${port}\n`);
    process.stdout.write(`READY ${opts.name} ${scheme}://${opts.host}:${port} pid=${process.pid}\n`);
  });
  server.on('error', (e) => {
    process.stderr.write(`${opts.name}: listen failed: ${e.message}\n`);
    process.exit(1);
  });

  const stop = () => {
    server.close();
    for (const s of sockets) s.destroy();
    if (opts.portFile) { try { fs.unlinkSync(opts.portFile); } catch (_) { /* gone */ } }
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}

// Reads the whole body; resolves a Buffer, or null if it exceeded MAX_BODY.
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let over = false;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res, status, obj, headers = {}) {
  const body = obj === undefined ? '' : JSON.stringify(obj);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

module.exports = { listen, readBody, sendJson, writeFileAtomic, MAX_BODY };
