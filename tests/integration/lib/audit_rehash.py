#!/usr/bin/env python3
"""audit_rehash.py: what an attacker without the audit key does after editing an event.

Reads events as JSON on stdin, an array (sqlite3 -json) or one object a line (PostgreSQL's
row_to_json): id, time, actor, role, request_id, action, object_kind, before, after,
evidence, and the address as cidr text (PostgreSQL) or family, start (hex of the 16-byte
BLOB), len (SQLite); oldest first, starting at the edited event,
and the hash of the event before it as argv[1]. Prints "ID HASH" per event: the chain
re-linked with the unkeyed algorithm of src/store/audit.c (SHA-256 over prev_hex "\\n"
canonical JSON, keys sorted, compact, non-ASCII kept). Used by test_obs_audit_key.sh.
"""
import hashlib
import ipaddress
import json
import sys

KEYS = ("action", "actor", "after", "before", "cidr", "evidence", "id", "object_kind",
        "request_id", "role", "time")

def cidr(ev):
    if "cidr" in ev or not ev.get("start"):
        return ev.get("cidr")
    raw = bytes.fromhex(ev["start"])
    addr = ipaddress.ip_address(raw[:4] if ev["family"] == 4 else raw)
    return "%s/%d" % (addr, ev["len"])


text = sys.stdin.read().strip()
rows = json.loads(text) if text.startswith("[") else [json.loads(l) for l in text.splitlines()
                                                      if l.strip()]
prev = sys.argv[1]
for ev in rows:
    ev["cidr"] = cidr(ev)
    canon = json.dumps({k: ev.get(k) for k in KEYS}, sort_keys=True, separators=(",", ":"),
                       ensure_ascii=False)
    prev = hashlib.sha256((prev + "\n" + canon).encode()).hexdigest()
    print(ev["id"], prev)
