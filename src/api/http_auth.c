/*
 * http_auth — who is asking. Called by http.c for every new request (http_unix_role,
 * http_token_role), by http_listen.c (http_resolve_group for a socket's group) and by
 * prefixd.c (tokens file, admin group, role names). It owns the bearer-token table (SHA-256
 * hashes, compared in constant time) and the admin group; roles on the unix socket come from
 * SO_PEERCRED / SO_PEERGROUPS. See http.h for the roles (SPEC §6).
 */
#include <errno.h>
#include <grp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "hex.h"
#include "http_private.h"
#include "log.h"

/* ---- role names ----------------------------------------------------------------------- */

static const char *const http_role_names[] = { "reader", "operator", "admin" };

const char *
http_role_name(enum http_role r)
{
	return r >= HTTP_ROLE_READER && r <= HTTP_ROLE_ADMIN ? http_role_names[r] : "none";
}

int
http_role_parse(const char *s, enum http_role *out)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(s, http_role_names[i]) == 0) {
			*out = (enum http_role)i;
			return 0;
		}
	return -1;
}

/* ---- peer credentials (unix socket) --------------------------------------------------- */

int
http_resolve_group(const char *group, gid_t *gid, struct err *e)
{
	struct group *gr = getgrnam(group);
	char *end;
	unsigned long n;

	if (gr != NULL) {
		*gid = gr->gr_gid;
		return 0;
	}
	errno = 0;
	n = strtoul(group, &end, 10);
	if (*group != '\0' && *end == '\0' && errno == 0) {
		*gid = (gid_t)n;
		return 0;
	}
	return err_set(e, "invalid-argument", "unknown group '%s'", group);
}

int
http_set_admin_group(struct http *h, const char *group, struct err *e)
{
	gid_t gid;

	if (group == NULL) {
		h->has_admin_gid = 0;
		return 0;
	}
	if (http_resolve_group(group, &gid, e) < 0)
		return -1;
	h->admin_gid = gid;
	h->has_admin_gid = 1;
	return 0;
}

/* The peer's role on a unix listener, from SO_PEERCRED / SO_PEERGROUPS. */
enum http_role
http_unix_role(struct http_listener *l, int fd, char *actor, size_t len)
{
	struct ucred cr;
	socklen_t sl = sizeof(cr);
	gid_t groups[256];
	socklen_t gl = sizeof(groups);
	int ng, is_admin = 0, is_group;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) < 0)
		return HTTP_ROLE_NONE;
	snprintf(actor, len, "uid:%u", (unsigned)cr.uid);
	if (l->kind == HTTP_UNIX_RO)
		return HTTP_ROLE_READER;
	if (cr.uid == 0)
		return HTTP_ROLE_ADMIN;
	ng = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &gl) == 0 ? (int)(gl / sizeof(gid_t)) : 0;
	is_group = cr.gid == l->sock_gid || cr.uid == l->sock_uid;
	if (l->h->has_admin_gid && cr.gid == l->h->admin_gid)
		is_admin = 1;
	for (int i = 0; i < ng; i++) {
		is_group |= groups[i] == l->sock_gid;
		is_admin |= l->h->has_admin_gid && groups[i] == l->h->admin_gid;
	}
	if (is_admin)
		return HTTP_ROLE_ADMIN;
	return is_group ? HTTP_ROLE_OPERATOR : HTTP_ROLE_READER;
}

bool
http_req_read_only(const struct http_req *req)
{
	return req->lis != NULL && req->lis->kind == HTTP_UNIX_RO;
}

/* ---- tokens --------------------------------------------------------------------------- */

static void
http_sha256(const char *s, size_t n, unsigned char out[32])
{
	unsigned int len = 32;

	if (EVP_Digest(s, n, out, &len, EVP_sha256(), NULL) != 1)
		fatalx("EVP_Digest(sha256) failed");
}

/* The bearer token's role (constant time over the whole table), or HTTP_ROLE_NONE. */
enum http_role
http_token_role(struct http *h, const char *auth, char *actor, size_t len)
{
	unsigned char hash[32];
	enum http_role role = HTTP_ROLE_NONE;

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0 || auth[7] == '\0')
		return HTTP_ROLE_NONE;
	http_sha256(auth + 7, strlen(auth + 7), hash);
	for (size_t i = 0; i < h->ntokens; i++) {
		if (CRYPTO_memcmp(hash, h->tokens[i].hash, 32) == 0) {
			role = h->tokens[i].role;
			snprintf(actor, len, "token:%s", h->tokens[i].name);
		}
	}
	return role;
}

/* Parses one tokens-file line into t; 1 = a token, 0 = blank/comment, -1 = bad. */
static int
http_token_line(char *line, struct http_token *t)
{
	char *name, *role, *hex, *extra, *save = NULL;

	line[strcspn(line, "\r\n")] = '\0';
	name = strtok_r(line, " \t", &save);
	if (name == NULL || name[0] == '#')
		return 0;
	role = strtok_r(NULL, " \t", &save);
	hex = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	if (role == NULL || hex == NULL || extra != NULL || strlen(name) >= sizeof(t->name) ||
	    http_role_parse(role, &t->role) < 0 ||
	    hex_decode(hex, strlen(hex), t->hash, sizeof(t->hash)) < 0)
		return -1;
	snprintf(t->name, sizeof(t->name), "%s", name);
	return 1;
}

/*
 * Reads a tokens file into a new table. Refused with file:line: a file group or others may
 * write (anyone who can edit it makes themselves admin), a bad line, a line longer than the
 * buffer, and a hash listed twice (which role would it have? the last one used to win quietly).
 */
static int
http_tokens_read(const char *path, struct http_token **out, size_t *nout, struct err *e)
{
	struct http_token *tab = NULL, t;
	size_t n = 0;
	char line[512];
	int lineno = 0, rc = 0, *lines = NULL;
	struct stat st;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL)
		return err_set(e, "conf-invalid", "%s: %s", path, strerror(errno));
	if (fstat(fileno(fp), &st) < 0) {
		rc = err_set(e, "conf-invalid", "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		rc = err_set(e, "conf-invalid", "%s: mode %04o lets group or others write it "
		    "(chmod go-w)", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			/* never parse the tail of an overlong line (a comment's, say) as a token */
			rc = err_set(e, "conf-invalid", "%s:%d: line longer than %zu bytes", path,
			    lineno, sizeof(line) - 2);
			goto out;
		}
		if ((rc = http_token_line(line, &t)) < 0) {
			err_set(e, "conf-invalid", "%s:%d: want 'name reader|operator|admin sha256hex'",
			    path, lineno);
			goto out;
		}
		if (rc == 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (memcmp(tab[i].hash, t.hash, sizeof(t.hash)) == 0) {
				rc = err_set(e, "conf-invalid", "%s:%d: the hash of line %d again (token "
				    "'%s' and '%s'): one token, one role", path, lineno, lines[i],
				    tab[i].name, t.name);
				goto out;
			}
		if ((tab = reallocarray(tab, n + 1, sizeof(*tab))) == NULL ||
		    (lines = reallocarray(lines, n + 1, sizeof(*lines))) == NULL)
			fatal("reallocarray");
		lines[n] = lineno;
		tab[n++] = t;
	}
	rc = 0;
out:
	fclose(fp);
	free(lines);
	if (rc < 0) {
		free(tab);
		return -1;
	}
	*out = tab;
	*nout = n;
	return 0;
}

int
http_tokens_check(const char *path, struct err *e)
{
	struct http_token *tab;
	size_t n;

	if (path == NULL)
		return 0;
	if (http_tokens_read(path, &tab, &n, e) < 0)
		return -1;
	free(tab);
	return 0;
}

int
http_tokens_load(struct http *h, const char *path, struct err *e)
{
	struct http_token *tab = NULL;
	size_t n = 0;

	if (path != NULL && http_tokens_read(path, &tab, &n, e) < 0)
		return -1;
	free(h->tokens);
	h->tokens = tab;
	h->ntokens = n;
	return 0;
}
