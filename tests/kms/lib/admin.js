'use strict';
// The unsigned admin API shared by the KMS test servers: POST /_admin/<verb>
// with a JSON body (GET also works for read-only verbs). The path prefix never
// collides with AWS KMS (always "POST /") or Vault (always "/v1/...").
// Common verbs: fault, clear-faults, release-hung, counters, reset-counters,
// clock, help. Each server adds its own verbs. Limits: no authentication at all:
// the servers listen on loopback only and hold throwaway test keys.

const clock = require('./clock');
const { readBody, sendJson } = require('./httpserver');

const PREFIX = '/_admin/';

class AdminError extends Error {
  constructor(message, status = 400) { super(message); this.status = status; }
}

function isAdmin(url) { return url.startsWith(PREFIX); }

// verbs: { name: (body) => result }, plus the common ones built from ctx
// ctx: {faults, counters}
async function handle(req, res, verbs, ctx) {
  const url = new URL(req.url, 'http://x');
  const verb = url.pathname.slice(PREFIX.length).replace(/\/+$/, '');
  const raw = await readBody(req);
  let body = {};
  if (raw === null) return sendJson(res, 413, { error: 'body too large' });
  if (raw.length) {
    try { body = JSON.parse(raw.toString('utf8')); } catch (e) {
      return sendJson(res, 400, { error: `invalid JSON body: ${e.message}` });
    }
  }
  for (const [k, v] of url.searchParams) if (!(k in body)) body[k] = v;
  const all = { ...common(ctx, verbs), ...verbs };
  const fn = all[verb];
  if (!fn) return sendJson(res, 404, { error: `unknown admin verb '${verb}'`, verbs: Object.keys(all).sort() });
  try {
    const out = await fn(body || {});
    sendJson(res, 200, { ok: true, ...(out || {}) });
  } catch (e) {
    sendJson(res, e.status || 400, { error: e.message });
  }
}

function common(ctx, verbs) {
  return {
    help: () => ({ verbs: Object.keys({ ...common(ctx, {}), ...verbs }).sort() }),
    fault: (b) => ({ fault: ctx.faults.add(b) }),
    faults: () => ({ faults: ctx.faults.list() }),
    'clear-faults': () => ({ cleared: ctx.faults.clear() }),
    'release-hung': () => ({ released: ctx.faults.releaseHung() }),
    counters: () => ({ counters: ctx.counters.snapshot() }),
    'reset-counters': () => { ctx.counters.reset(); return { counters: ctx.counters.snapshot() }; },
    clock: (b) => {
      if (b.offsetSeconds !== undefined) {
        const n = Number(b.offsetSeconds);
        if (!Number.isFinite(n)) throw new AdminError('clock: offsetSeconds must be a number');
        clock.setOffsetSeconds(n);
      }
      return { offsetSeconds: clock.offsetSeconds(), now: new Date(clock.now()).toISOString() };
    },
  };
}

module.exports = { isAdmin, handle, AdminError };
