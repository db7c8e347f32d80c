'use strict';
// Fault injection for the KMS test servers. A rule applies to the next `count`
// matching requests and/or for `seconds`, optionally only to some operations.
// Types: hang (never answer), reset (drop the TCP connection), slow (answer
// normally after delayMs), and server-specific error answers ("500", "503",
// "throttle", "error", ...) rendered by the server's own callback.
// Limits: rules are checked in insertion order and the first match wins; a
// rule with neither count nor seconds stays until clear-faults.

const clock = require('./clock');

const GENERIC = new Set(['hang', 'reset', 'slow']);

class Faults {
  // errorTypes: the server-specific error fault types it can render
  constructor(errorTypes) {
    this.errorTypes = new Set(errorTypes);
    this.rules = [];
    this.hung = new Set();
    this.nextId = 1;
  }

  add(spec) {
    if (!spec || typeof spec !== 'object') throw new Error('fault: JSON object body expected');
    const type = String(spec.type || '').toLowerCase();
    if (!GENERIC.has(type) && !this.errorTypes.has(type)) {
      throw new Error(`fault: unknown type '${spec.type}'; one of ${[...GENERIC, ...this.errorTypes].join(', ')}`);
    }
    const rule = { id: this.nextId++, type };
    if (spec.count !== undefined) {
      rule.count = Number(spec.count);
      if (!Number.isInteger(rule.count) || rule.count < 1) throw new Error('fault: count must be an integer >= 1');
    }
    if (spec.seconds !== undefined) {
      const s = Number(spec.seconds);
      if (!(s > 0)) throw new Error('fault: seconds must be > 0');
      rule.until = clock.now() + s * 1000;
      rule.seconds = s;
    }
    if (spec.op !== undefined && spec.op !== null && spec.op !== '') {
      const ops = Array.isArray(spec.op) ? spec.op : String(spec.op).split(',');
      rule.ops = ops.map((o) => String(o).trim()).filter(Boolean);
    }
    const delay = spec.delayMs !== undefined ? spec.delayMs : spec.ms;
    if (delay !== undefined) {
      rule.delayMs = Number(delay);
      if (!Number.isInteger(rule.delayMs) || rule.delayMs < 0) throw new Error('fault: delayMs must be an integer >= 0');
    } else if (type === 'slow') {
      rule.delayMs = 1000;
    }
    for (const k of ['status', 'name', 'message', 'errors']) {
      if (spec[k] !== undefined) rule[k] = spec[k];
    }
    if (rule.status !== undefined) {
      rule.status = Number(rule.status);
      if (!Number.isInteger(rule.status) || rule.status < 100 || rule.status > 599) throw new Error('fault: status must be an HTTP status');
    }
    this.rules.push(rule);
    return rule;
  }

  clear() {
    const n = this.rules.length;
    this.rules = [];
    return n;
  }

  // Drops the connections of requests a "hang" fault is holding.
  releaseHung() {
    const n = this.hung.size;
    for (const res of this.hung) res.socket && res.socket.destroy();
    this.hung.clear();
    return n;
  }

  // The rule that applies to this request (consuming one count), or null.
  take(op) {
    const now = clock.now();
    this.rules = this.rules.filter((r) => !(r.until !== undefined && now >= r.until));
    for (const r of this.rules) {
      if (r.ops && !r.ops.includes(op)) continue;
      if (r.count !== undefined) {
        r.count -= 1;
        if (r.count <= 0) this.rules = this.rules.filter((x) => x !== r);
      }
      return r;
    }
    return null;
  }

  list() {
    const now = clock.now();
    return this.rules.map((r) => {
      const o = { ...r };
      if (o.until !== undefined) { o.remainingSeconds = Math.max(0, (o.until - now) / 1000); delete o.until; }
      return o;
    });
  }

  // Carries out a rule. Returns true if the request was consumed by the fault
  // (answered, hung or reset), false if normal processing should continue.
  // renderError(rule) -> {status, body(object|undefined), headers}
  async apply(rule, req, res, renderError) {
    if (rule.delayMs) await new Promise((r) => setTimeout(r, rule.delayMs));
    switch (rule.type) {
      case 'slow':
        return false;
      case 'hang':
        this.hung.add(res);
        res.on('close', () => this.hung.delete(res));
        return true;
      case 'reset': {
        const s = req.socket;
        if (typeof s.resetAndDestroy === 'function' && !s.encrypted) s.resetAndDestroy();
        else s.destroy();
        return true;
      }
      default: {
        const e = renderError(rule);
        const body = e.body === undefined ? '' : JSON.stringify(e.body);
        res.writeHead(e.status, { 'Content-Length': Buffer.byteLength(body), ...e.headers });
        res.end(body);
        return true;
      }
    }
  }
}

module.exports = { Faults };
