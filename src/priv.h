/*
 * priv — least privilege (DESIGN.md decision 7): prefixd starts as root, opens its store and
 * listeners, then drops to `[daemon] user` for good.
 *
 * Who calls it: prefixd.c only. priv_resolve() at start-up, before anything is opened, so a
 * user that does not exist stops prefixd before it creates a file as root; priv_drop() once
 * the listeners are open, before the store is: SQLite (and a database client) then never run
 * as root, the store's files are the user's from the start (SQLite makes -wal and -shm as it
 * goes, so it must run as their owner anyway), and root needs no CAP_DAC_OVERRIDE to open a
 * store the user owns -- the unit's bounding set is CAP_SETUID CAP_SETGID CAP_CHOWN.
 * Without `user` both calls are no-ops: prefixd keeps running as whoever started it.
 *
 * The drop, in this order (each step checked; any failure is an error and prefixd exits):
 *   1. chown to user:group what prefixd must write later: the state directory (made when
 *      missing) and the files directly in it (a store that root made before), and the unix
 *      sockets it made (their group stays socket_group, their mode 0660).
 *   2. setgroups(groups), setresgid(gid, gid, gid), setresuid(uid, uid, uid).
 *   3. verify: getresuid/getresgid report the new ids in all three slots, getgroups the new
 *      list, setuid(0) and setgid(0) fail, and the kernel reports no permitted or effective
 *      capability left (/proc/self/status CapPrm, CapEff); then PR_SET_NO_NEW_PRIVS.
 * Supplementary groups: `[daemon] groups` when set; otherwise `bird` when that group exists
 * (BIRD's control socket is bird:bird 0660 on Debian), otherwise none.
 *
 * Not root at start-up: when the process already runs as exactly that user and group (the
 * shipped unit's User=, Group=, SupplementaryGroups=) there is nothing to drop, but step 3
 * still runs, so a unit that leaves the process a capability or other groups is refused;
 * any other user is an error.
 */
#ifndef PREFIXD_PRIV_H
#define PREFIXD_PRIV_H

#include <sys/types.h>

#include "conf.h"
#include "err.h"

struct priv_target {
	int enabled;                    /* 0: no `user`, nothing to do */
	char user[64];
	uid_t uid;
	gid_t gid;
	gid_t groups[CONF_MAX_GROUPS];
	int ngroups;
};

/*
 * Looks up c's user, group and groups into t. Returns 0 (t->enabled = 0 when c has no user),
 * or -1 with e ("priv-failed") naming the key and the account that does not exist, or a user
 * that is root.
 */
int priv_resolve(const struct conf *c, struct priv_target *t, struct err *e);

/*
 * Hands c's state directory and sockets to t's user, drops to it and verifies the drop (see
 * the top of this file). Returns 0, or -1 with e ("priv-failed") saying which step failed and
 * why; the caller must then exit, since the process may be half-dropped.
 */
int priv_drop(const struct priv_target *t, const struct conf *c, struct err *e);

#endif
