"""acks_check.py STORED_TSV LOGDIR — the clients' records (tests/tools/rel_crash_clients) against
the store, for the crash tests (test_rel_crash.sh on SQLite; test_store_pg_race.sh and
test_store_pg_server_crash.sh on PostgreSQL).

STORED_TSV: "id cidr token|-" of every allocation of the pool, one per line. Fails (an
AssertionError, exit 1) unless no token is on two stored allocations, every acknowledged
allocation is stored with its id and CIDR (unless its release was acknowledged or was in
flight when the clients stopped), no acknowledged release came back, and every acknowledged
token names its allocation. Prints "acked=N released=N stored=N".
"""
import glob, sys
stored, tokens = {}, {}
for line in open(sys.argv[1]):
    id_, cidr, tok = line.split()
    stored[int(id_)] = cidr
    if tok != "-":
        assert tok not in tokens, "token %s on allocations %s and %s" % (tok, tokens[tok], id_)
        tokens[tok] = int(id_)
acked, released, acked_tok, inflight = {}, set(), {}, set()
for f in glob.glob(sys.argv[2] + "/client-*.log"):
    last = None
    for line in open(f):
        w = line.split()
        if not w or w[0] == "O":
            continue
        if w[0] == "A":
            tok, id_, cidr = w[1], int(w[2]), w[3]
            if tok != "-":
                assert acked_tok.get(tok, id_) == id_, "token %s acknowledged as %s and %s" % (tok, acked_tok[tok], id_)
                acked_tok[tok] = id_
            assert id_ not in acked, "id %d acknowledged twice" % id_
            acked[id_] = cidr
            last = None
        elif w[0] == "r":
            last = int(w[1])
        elif w[0] == "R":
            released.add(int(w[1]))
            last = None
        else:
            raise AssertionError("client error: " + line.strip())
    if last is not None:        # a release in flight when the clients stopped
        inflight.add(last)
gone = released | inflight
lost = [i for i in acked if i not in gone and stored.get(i) != acked[i]]
assert not lost, "acknowledged allocations lost or changed: %r" % [(i, acked[i], stored.get(i)) for i in lost[:10]]
back = [i for i in released if i in stored]
assert not back, "released allocations came back: %r" % back[:10]
wrong = [t for t, i in acked_tok.items() if i not in gone and tokens.get(t) != i]
assert not wrong, "tokens not on their acknowledged allocation: %r" % wrong[:10]
print("acked=%d released=%d stored=%d" % (len(acked), len(released), len(stored)))
