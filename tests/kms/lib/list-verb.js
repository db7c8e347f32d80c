'use strict';
// Vault's LIST verb for the Vault emulator. Node's HTTP parser knows a fixed set
// of methods and rejects "LIST" (HPE_INVALID_METHOD) before any handler runs,
// yet Vault clients send it (node-vault's transitListKeys, the vault CLI). This
// catches that parser error, parses the request head itself and hands a
// synthesized request to the normal handler; the answer closes the connection.
// Limits: only LIST, only requests without a body whose head arrived in one
// packet (true for every real client); anything else stays a 400.

const http = require('http');
const { Readable } = require('stream');

// Returns a clientError hook: (err, socket) -> true if it took over the socket.
function listVerbHook(handler) {
  return (err, socket) => {
    const raw = err && err.rawPacket;
    if (err.code !== 'HPE_INVALID_METHOD' || !raw || !raw.subarray(0, 5).equals(Buffer.from('LIST '))) return false;
    const text = raw.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const lines = text.slice(0, end).split('\r\n');
    const m = /^LIST (\S+) HTTP\/1\.[01]$/.exec(lines[0]);
    if (!m) return false;
    const rawHeaders = [];
    const headers = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i <= 0) return false;
      const k = line.slice(0, i).trim();
      const v = line.slice(i + 1).trim();
      rawHeaders.push(k, v);
      headers[k.toLowerCase()] = headers[k.toLowerCase()] === undefined ? v : `${headers[k.toLowerCase()]}, ${v}`;
    }
    const req = new Readable({ read() {} });
    Object.assign(req, { method: 'LIST', url: m[1], headers, rawHeaders, httpVersion: '1.1', httpVersionMajor: 1, httpVersionMinor: 1, socket, connection: socket });
    req.push(null);
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.on('finish', () => socket.end());
    Promise.resolve(handler(req, res)).catch(() => socket.destroy());
    return true;
  };
}

module.exports = { listVerbHook };
