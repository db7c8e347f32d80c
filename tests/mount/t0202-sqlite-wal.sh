#!/usr/bin/env bash
# sqlite3 in WAL mode (its -shm index is a shared mmap): 10,000 inserts
# (5,000 single-row commits, 5,000 in batches), a concurrent reader
# connection, updates, deletes and a checkpoint; PRAGMA integrity_check is
# "ok" and the exact row count and checksums match, also after a remount
# (checked with the sqlite3 CLI).
. "$(dirname "$0")/../lib.sh"
python3 -c 'import sqlite3' 2>/dev/null || skip "python3 sqlite3 module missing"
command -v sqlite3 >/dev/null || skip "sqlite3 CLI not installed"
vol_setup
db=$PLAIN/data/app.db
mkdir -p "$PLAIN/data"
python3 - "$db" <<'PY' || fail "sqlite workload"
import sqlite3, sys, hashlib
db = sys.argv[1]
w = sqlite3.connect(db, isolation_level=None)
assert w.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
w.execute("PRAGMA synchronous=FULL")
w.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v BLOB, h TEXT)")
r = sqlite3.connect(db, isolation_level=None)
def row(i):
    v = hashlib.sha256(b"row%d" % i).digest() * (1 + i % 7)
    return (i, "key-%06d" % i, v, hashlib.sha256(v).hexdigest())
# 5,000 single-row commits, a reader checking the count as it goes
for i in range(5000):
    w.execute("INSERT INTO t VALUES (?,?,?,?)", row(i))
    if i % 500 == 499:
        n = r.execute("SELECT count(*) FROM t").fetchone()[0]
        assert n == i + 1, (n, i + 1)
# 5,000 more in batches of 250
for b in range(5000, 10000, 250):
    w.execute("BEGIN")
    w.executemany("INSERT INTO t VALUES (?,?,?,?)", [row(i) for i in range(b, b + 250)])
    w.execute("COMMIT")
# a reader transaction keeps its snapshot while the writer commits
r.execute("BEGIN")
assert r.execute("SELECT count(*) FROM t").fetchone()[0] == 10000
w.execute("UPDATE t SET k = k || '-u' WHERE id % 10 = 0")
w.execute("DELETE FROM t WHERE id % 100 = 99")
assert r.execute("SELECT count(*) FROM t").fetchone()[0] == 10000
r.execute("COMMIT")
assert r.execute("SELECT count(*) FROM t").fetchone()[0] == 9900
assert w.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
# every blob still hashes to its stored digest
for (v, h) in w.execute("SELECT v, h FROM t"):
    assert hashlib.sha256(v).hexdigest() == h, "corrupt blob"
w.execute("PRAGMA wal_checkpoint(TRUNCATE)")
w.close(); r.close()
PY
summary() {
  sqlite3 "$db" "PRAGMA integrity_check; SELECT count(*), sum(id), count(DISTINCT h), sum(length(v)) FROM t; SELECT count(*) FROM t WHERE k LIKE '%-u';"
}
want="ok
9900|$(python3 -c 'print(sum(i for i in range(10000) if i % 100 != 99))')|9900|$(python3 -c 'print(sum(32 * (1 + i % 7) for i in range(10000) if i % 100 != 99))')
1000"
assert_eq "$(summary)" "$want" "database summary"
vol_remount
assert_eq "$(summary)" "$want" "database summary after remount"
# one more write transaction after the remount, still in WAL mode
assert_eq "$(sqlite3 "$db" "PRAGMA journal_mode; INSERT INTO t(id,k,v,h) VALUES (20000,'late',x'00','h'); SELECT count(*) FROM t; PRAGMA integrity_check;")" \
  "wal
9901
ok" "write after remount"
