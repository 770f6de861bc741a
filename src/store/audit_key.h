/*
 * audit_key — the audit chain's outside anchors (issue 15 finding 7): the key file of
 * [daemon] audit_key_file and the head published outside the store.
 *
 * The key: a regular file of AUDIT_KEY_MIN..AUDIT_KEY_MAX bytes that neither group nor others
 * may read (whoever reads it can forge the chain). prefixd reads it once, at start, before it
 * drops privileges, so the file may belong to root; every instance of a PostgreSQL store must
 * read the same key (one chain).
 *
 * The published head: after every commit that moved the chain, the store writes
 * "ID HASH MAC\n" (ID zero-padded to 20 digits, so every write has the same length) in place
 * at the start of <state_dir>/audit-head, opened once at start (mode 0600), MAC =
 * HMAC(key, "prefixd audit head ID HASH"). It says "event ID was written and had this link",
 * so `audit verify` finds events cut from the tail even when the store's own head was moved
 * back with them, and nobody without the key can write another one. It only moves forward.
 * It is written after the store's COMMIT (never ahead of the store) and not fsync'ed: a
 * rename and an fsync per commit cost a keyed daemon 80 % of its durable allocations on
 * this VM, so after a power loss it may be a few seconds behind, which verifies. What it
 * cannot see: a copy of an older head file put back together with a store cut to match (the
 * daemon notices a file replaced behind its back: `audit verify` compares the inodes).
 *
 * Who calls it: prefixd (audit_key_load at start and for -n), the store (store.c: publish after
 * the outermost COMMIT, read for verify and at start).
 */
#ifndef PREFIXD_AUDIT_KEY_H
#define PREFIXD_AUDIT_KEY_H

#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"

/* The file the published head is written to, in the state directory. */
#define AUDIT_HEAD_FILE "audit-head"

/*
 * Reads the key file at path into k. Returns 0, or -1 with e "conf-invalid" naming path and
 * the reason: missing or unreadable, not a regular file, readable by group or others, shorter
 * than AUDIT_KEY_MIN or longer than AUDIT_KEY_MAX bytes.
 */
int audit_key_load(const char *path, struct audit_key *k, struct err *e);

/* Opens (creating, mode 0600, never following a symbolic link) the published head's file.
 * Returns the descriptor, or -1 with e "store-failed". */
int audit_head_open(const char *path, struct err *e);

/* Writes the published head (see above) over the start of fd. 0 or -1 with e "store-failed". */
int audit_head_write(int fd, const struct audit_key *k, uint64_t id, const char *hash,
    struct err *e);

/* True when path no longer names the file open at fd (removed, or replaced by another). */
bool audit_head_replaced(int fd, const char *path);

/*
 * Reads the published head. Returns 1 when the file does not exist or is empty (nothing
 * published yet),
 * 0 with *id and hash, or -1 with e "audit-broken": unreadable, malformed, or a MAC that does
 * not check with k (written by someone without the key, or for another key).
 */
int audit_head_read(const char *path, const struct audit_key *k, uint64_t *id,
    char hash[AUDIT_HASH_HEXLEN + 1], struct err *e);

#endif
