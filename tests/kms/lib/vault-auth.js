'use strict';
// Tokens, namespaces and ACL policies of the Vault/OpenBao emulator.
// Policies use Vault's JSON policy syntax ({"path": {"<glob>": {"capabilities":
// [...]}}}) and Vault's matching: an exact path beats globs; among globs
// ("*" suffix, "+" segment) the highest-priority pattern wins; capabilities of
// the same pattern across the token's policies are merged; "deny" wins.
// Every token except with no_default_policy gets the "default" policy
// (lookup-self, renew-self, revoke-self). Namespaces: a token works in its own
// namespace and its children, paths are evaluated relative to its namespace.
// Limits: no HCL, no parameter constraints, no sudo paths, no entities/groups,
// no token roles/accessors API, no num_uses, policies are global (not per
// namespace), namespaces exist implicitly.

const crypto = require('crypto');

const DEFAULT_POLICY = {
  path: {
    'auth/token/lookup-self': { capabilities: ['read'] },
    'auth/token/renew-self': { capabilities: ['update'] },
    'auth/token/revoke-self': { capabilities: ['update'] },
    'sys/capabilities-self': { capabilities: ['update'] },
  },
};

const CAPS = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny'];

function normNamespace(ns) {
  return String(ns || '').replace(/^\/+|\/+$/g, '').replace(/^root$/, '');
}

// "30", 30, "30s", "5m", "2h" -> seconds
function parseTtl(v) {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(String(v));
  if (!m) throw new Error(`bad ttl '${v}'`);
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600 }[m[2] || 's']);
}

function validatePolicy(doc) {
  if (!doc || typeof doc !== 'object' || !doc.path || typeof doc.path !== 'object') {
    throw new Error('policy must look like {"path": {"transit/encrypt/k": {"capabilities": ["update"]}}}');
  }
  for (const [p, rule] of Object.entries(doc.path)) {
    if (!rule || !Array.isArray(rule.capabilities)) throw new Error(`path "${p}": capabilities array required`);
    for (const c of rule.capabilities) if (!CAPS.includes(c)) throw new Error(`path "${p}": unknown capability "${c}"`);
  }
  return doc;
}

function matches(pattern, path) {
  const glob = pattern.endsWith('*');
  const pat = glob ? pattern.slice(0, -1) : pattern;
  const ps = pat.split('/');
  const xs = path.split('/');
  if (!glob && ps.length !== xs.length) return false;
  if (glob && xs.length < ps.length) return false;
  for (let i = 0; i < ps.length; i++) {
    const last = i === ps.length - 1;
    if (ps[i] === '+') continue;
    if (last && glob) return xs.slice(i).join('/').startsWith(ps[i]);
    if (ps[i] !== xs[i]) return false;
  }
  return true;
}

// Vault's priority rules for competing glob / "+" patterns; >0 if a beats b.
function comparePriority(a, b) {
  const firstWild = (p) => { const i = p.search(/[+*]/); return i < 0 ? Infinity : i; };
  if (firstWild(a) !== firstWild(b)) return firstWild(a) - firstWild(b);
  const ea = a.endsWith('*');
  const eb = b.endsWith('*');
  if (ea !== eb) return ea ? -1 : 1;
  const plus = (p) => p.split('/').filter((s) => s === '+').length;
  if (plus(a) !== plus(b)) return plus(b) - plus(a);
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

class Auth {
  constructor({ rootToken, now }) {
    this.now = now;
    this.tokens = new Map();
    this.policies = new Map([['default', DEFAULT_POLICY]]);
    this.createToken({ id: rootToken, policies: ['root'], noDefaultPolicy: true, displayName: 'root', renewable: false });
  }

  createToken(o = {}) {
    const id = o.id ? String(o.id) : `hvs.${crypto.randomBytes(18).toString('base64url')}`;
    if (this.tokens.has(id)) throw new Error(`token ${id} exists`);
    const ttl = parseTtl(o.ttl);
    const given = typeof o.policies === 'string' ? o.policies.split(',').map((x) => x.trim()).filter(Boolean) : (o.policies || []);
    if (!Array.isArray(given)) throw new Error('policies must be a list or a comma-separated string');
    const policies = [...new Set([...given, ...(o.noDefaultPolicy || o.no_default_policy ? [] : ['default'])])].sort();
    const t = {
      id,
      accessor: crypto.randomBytes(12).toString('base64url'),
      policies,
      namespace: normNamespace(o.namespace),
      ttl,
      creationTime: Math.floor(this.now() / 1000),
      expiresAt: ttl > 0 ? this.now() + ttl * 1000 : null,
      renewable: o.renewable === undefined ? ttl > 0 : !!o.renewable,
      displayName: o.displayName || 'token',
      meta: o.meta || null,
    };
    this.tokens.set(id, t);
    return t;
  }

  revoke(id) { return this.tokens.delete(String(id)); }

  // The live token for an id, or null (unknown, revoked or expired).
  lookup(id) {
    const t = id ? this.tokens.get(id) : null;
    if (!t) return null;
    if (t.expiresAt !== null && this.now() >= t.expiresAt) { this.tokens.delete(id); return null; }
    return t;
  }

  renew(t, increment) {
    if (!t.renewable) { const e = new Error('lease is not renewable'); e.status = 400; throw e; }
    const secs = increment !== undefined && increment !== null && increment !== '' ? parseTtl(increment) : t.ttl;
    t.ttl = secs;
    t.expiresAt = this.now() + secs * 1000;
    return t;
  }

  putPolicy(name, doc) {
    if (!name || name === 'root') throw new Error('cannot write policy "root"');
    this.policies.set(String(name), validatePolicy(doc));
  }

  deletePolicy(name) {
    if (name === 'root' || name === 'default') throw new Error(`cannot delete policy "${name}"`);
    return this.policies.delete(String(name));
  }

  // Capabilities the token has on `path` (relative to the request namespace).
  capabilities(t, requestNs, path) {
    if (t.policies.includes('root')) {
      return (t.namespace === '' || requestNs === t.namespace || requestNs.startsWith(`${t.namespace}/`)) ? ['root'] : [];
    }
    let rel;
    if (requestNs === t.namespace) rel = path;
    else if (t.namespace === '' && requestNs) rel = `${requestNs}/${path}`;
    else if (requestNs.startsWith(`${t.namespace}/`)) rel = `${requestNs.slice(t.namespace.length + 1)}/${path}`;
    else return [];
    const rules = [];
    for (const name of t.policies) {
      const doc = this.policies.get(name);
      if (!doc) continue;
      for (const [pattern, rule] of Object.entries(doc.path)) rules.push([pattern, rule.capabilities]);
    }
    const exact = rules.filter(([p]) => !/[+*]/.test(p) && p === rel);
    let chosen = exact;
    if (!chosen.length) {
      const globs = rules.filter(([p]) => /[+*]/.test(p) && matches(p, rel));
      if (!globs.length) return [];
      const best = globs.map(([p]) => p).sort(comparePriority).pop();
      chosen = globs.filter(([p]) => p === best);
    }
    const caps = new Set(chosen.flatMap(([, c]) => c));
    return caps.has('deny') ? [] : [...caps].sort();
  }

  allowed(t, requestNs, path, capability) {
    const caps = this.capabilities(t, requestNs, path);
    return caps.includes('root') || caps.includes(capability);
  }

  describe(t) {
    return {
      accessor: t.accessor,
      creation_time: t.creationTime,
      creation_ttl: t.ttl,
      display_name: t.displayName,
      entity_id: '',
      expire_time: t.expiresAt === null ? null : new Date(t.expiresAt).toISOString(),
      explicit_max_ttl: 0,
      id: t.id,
      issue_time: new Date(t.creationTime * 1000).toISOString(),
      meta: t.meta,
      num_uses: 0,
      orphan: true,
      path: 'auth/token/create',
      policies: t.policies,
      renewable: t.renewable,
      ttl: t.expiresAt === null ? 0 : Math.max(0, Math.round((t.expiresAt - this.now()) / 1000)),
      type: 'service',
      namespace_path: t.namespace ? `${t.namespace}/` : '',
    };
  }

  snapshot() {
    return {
      tokens: [...this.tokens.values()].map((t) => ({ ...this.describe(t), id: `${t.id.slice(0, 6)}...` })),
      policies: Object.fromEntries(this.policies),
    };
  }
}

module.exports = { Auth, normNamespace, parseTtl, matches, comparePriority };
