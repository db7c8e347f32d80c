'use strict';
// Request counters for the KMS test servers, so a test can count how many
// provider calls the code under test made (per operation, per status, per
// error name, per fault type). Limits: in memory, reset only by reset-counters.

class Counters {
  constructor() { this.reset(); }

  reset() {
    this.total = 0;
    this.ops = {};
    this.statuses = {};
    this.errors = {};
    this.faults = {};
    this.since = new Date().toISOString();
  }

  request(op) { this.total += 1; bump(this.ops, op || 'unknown'); }
  status(code) { bump(this.statuses, String(code)); }
  error(name) { bump(this.errors, name); }
  fault(type) { bump(this.faults, type); }

  snapshot() {
    return {
      total: this.total, ops: this.ops, statuses: this.statuses,
      errors: this.errors, faults: this.faults, since: this.since,
    };
  }
}

function bump(map, k) { map[k] = (map[k] || 0) + 1; }

module.exports = { Counters };
