/* priv — drops root for good once the store and listeners are open; see priv.h. */
#include "priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "log.h"

static int
priv_group(const char *key, const char *name, gid_t *gid, struct err *e)
{
	struct group *gr;

	errno = 0;
	if ((gr = getgrnam(name)) == NULL)
		return err_set(e, "priv-failed", "[daemon] %s: no such group '%s'%s%s", key, name,
		    errno ? ": " : "", errno ? strerror(errno) : "");
	*gid = gr->gr_gid;
	return 0;
}

int
priv_resolve(const struct conf *c, struct priv_target *t, struct err *e)
{
	struct passwd *pw;
	char list[512], *save = NULL;

	memset(t, 0, sizeof(*t));
	if (c->user == NULL)
		return 0;
	errno = 0;
	if ((pw = getpwnam(c->user)) == NULL)
		return err_set(e, "priv-failed", "[daemon] user: no such user '%s'%s%s", c->user,
		    errno ? ": " : "", errno ? strerror(errno) : "");
	if (pw->pw_uid == 0)
		return err_set(e, "priv-failed", "[daemon] user '%s' is root; leave user unset "
		    "to keep running as root", c->user);
	t->enabled = 1;
	t->uid = pw->pw_uid;
	t->gid = pw->pw_gid;
	snprintf(t->user, sizeof(t->user), "%s", c->user);
	if (c->group != NULL && priv_group("group", c->group, &t->gid, e) < 0)
		return -1;
	if (c->groups == NULL) {
		struct group *gr = getgrnam("bird");
		if (gr != NULL)
			t->groups[t->ngroups++] = gr->gr_gid;
		return 0;
	}
	snprintf(list, sizeof(list), "%s", c->groups);
	for (char *g = strtok_r(list, ",", &save); g != NULL; g = strtok_r(NULL, ",", &save)) {
		if (t->ngroups == CONF_MAX_GROUPS)   /* conf.c caps the list too */
			return err_set(e, "priv-failed", "[daemon] groups: too many groups");
		if (priv_group("groups", g, &t->groups[t->ngroups++], e) < 0)
			return -1;
	}
	return 0;
}

/* chown without following a symlink someone may have planted; a missing path is no error. */
static int
priv_chown(const struct priv_target *t, const char *path, struct err *e)
{
	if (fchownat(AT_FDCWD, path, t->uid, (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
		return err_set(e, "priv-failed", "chown %s to %s: %s", path, t->user, strerror(errno));
	return 0;
}

/*
 * The state directory (created 0750 when missing) and the files directly in it become
 * user:group. Entries first, while root still owns the directory: the unit grants no
 * CAP_DAC_OVERRIDE, so root cannot list a directory that is already the user's -- and when it
 * is, its files were made by the user and are left as they are.
 */
static int
priv_chown_state(const struct priv_target *t, const char *dir, struct err *e)
{
	struct dirent *de;
	struct stat st;
	char path[4096];
	DIR *d;
	int rc = 0;

	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return err_set(e, "priv-failed", "mkdir %s: %s", dir, strerror(errno));
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(e, "priv-failed", "%s is not a directory", dir);
	if (st.st_uid != t->uid) {
		if ((d = opendir(dir)) == NULL)
			return err_set(e, "priv-failed", "opendir %s: %s", dir, strerror(errno));
		while (rc == 0 && (de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
			    sizeof(path))
				rc = err_set(e, "priv-failed", "path too long in %s", dir);
			else if (fchownat(AT_FDCWD, path, t->uid, t->gid, AT_SYMLINK_NOFOLLOW) < 0)
				rc = err_set(e, "priv-failed", "chown %s to %s: %s", path, t->user,
				    strerror(errno));
		}
		closedir(d);
	}
	if (rc == 0 && fchownat(AT_FDCWD, dir, t->uid, t->gid, AT_SYMLINK_NOFOLLOW) < 0)
		rc = err_set(e, "priv-failed", "chown %s to %s: %s", dir, t->user, strerror(errno));
	return rc;
}

/* Reads "Cap<name>:\t<hex>" from /proc/self/status; -1 when it cannot. */
static int
priv_cap_set(const char *name, unsigned long long *out)
{
	char line[256];
	size_t n = strlen(name);
	FILE *f = fopen("/proc/self/status", "re");
	int rc = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, n) == 0 && line[n] == ':') {
			rc = sscanf(line + n + 1, "%llx", out) == 1 ? 0 : -1;
			break;
		}
	fclose(f);
	return rc;
}

/* Step 3: the drop holds, and cannot be undone. */
static int
priv_verify(const struct priv_target *t, struct err *e)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, have[CONF_MAX_GROUPS + 1];
	unsigned long long prm = 1, eff = 1;
	int n;

	if (getresuid(&ru, &eu, &su) < 0 || ru != t->uid || eu != t->uid || su != t->uid)
		return err_set(e, "priv-failed", "uids are %u/%u/%u, not %u", (unsigned)ru,
		    (unsigned)eu, (unsigned)su, (unsigned)t->uid);
	if (getresgid(&rg, &eg, &sg) < 0 || rg != t->gid || eg != t->gid || sg != t->gid)
		return err_set(e, "priv-failed", "gids are %u/%u/%u, not %u", (unsigned)rg,
		    (unsigned)eg, (unsigned)sg, (unsigned)t->gid);
	n = getgroups(CONF_MAX_GROUPS + 1, have);
	if (n != t->ngroups)
		return err_set(e, "priv-failed", "the process has %d supplementary groups, [daemon] "
		    "groups wants %d", n, t->ngroups);
	for (int i = 0; i < t->ngroups; i++) {   /* the kernel sorts the list: compare as sets */
		int found = 0;
		for (int j = 0; j < n; j++)
			found |= have[j] == t->groups[i];
		if (!found)
			return err_set(e, "priv-failed", "supplementary group %u is missing",
			    (unsigned)t->groups[i]);
	}
	if (setuid(0) == 0 || setgid(0) == 0)
		return err_set(e, "priv-failed", "root could be regained after the drop");
	if (priv_cap_set("CapPrm", &prm) < 0 || priv_cap_set("CapEff", &eff) < 0 ||
	    prm != 0 || eff != 0)
		return err_set(e, "priv-failed", "capabilities left after the drop (permitted %llx, "
		    "effective %llx)", prm, eff);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_set(e, "priv-failed", "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	return 0;
}

int
priv_drop(const struct priv_target *t, const struct conf *c, struct err *e)
{
	if (!t->enabled)
		return 0;
	if (geteuid() != 0) {
		if (getuid() == t->uid && getgid() == t->gid && geteuid() == t->uid &&
		    getegid() == t->gid) {   /* started so, e.g. by the unit's User=: check it */
			if (priv_verify(t, e) < 0)
				return -1;
			log_info("running as user %s (started so), nothing to drop", t->user);
			return 0;
		}
		return err_set(e, "priv-failed", "cannot switch to user %s: not started as root "
		    "(uid %u)", t->user, (unsigned)geteuid());
	}
	if (priv_chown_state(t, c->state_dir, e) < 0 || priv_chown(t, c->socket, e) < 0 ||
	    (c->readonly_socket != NULL && priv_chown(t, c->readonly_socket, e) < 0))
		return -1;
	if (setgroups((size_t)t->ngroups, t->groups) < 0)
		return err_set(e, "priv-failed", "setgroups: %s", strerror(errno));
	if (setresgid(t->gid, t->gid, t->gid) < 0)
		return err_set(e, "priv-failed", "setresgid %u: %s", (unsigned)t->gid, strerror(errno));
	if (setresuid(t->uid, t->uid, t->uid) < 0)
		return err_set(e, "priv-failed", "setresuid %u: %s", (unsigned)t->uid, strerror(errno));
	if (priv_verify(t, e) < 0)
		return -1;
	log_info("dropped to user %s (uid %u, gid %u, %d supplementary groups)", t->user,
	    (unsigned)t->uid, (unsigned)t->gid, t->ngroups);
	return 0;
}
