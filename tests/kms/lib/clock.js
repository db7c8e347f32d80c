'use strict';
// The servers' notion of "now", shiftable through the admin API (verb "clock")
// so tests can exercise clock skew and expiry without touching the system clock.
// Limits: one offset per process; Date headers follow the shifted clock.

let offsetMs = 0;

module.exports = {
  now: () => Date.now() + offsetMs,
  setOffsetSeconds: (s) => { offsetMs = Math.round(Number(s) * 1000) || 0; },
  offsetSeconds: () => offsetMs / 1000,
};
