/*
 * bird_conf — route sets, their diff, the include file's rendering and atomic write.
 * See bird_conf.h. Prefix parsing here is local on purpose: BIRD prints canonical prefixes
 * and this module must not depend on the daemon's IPAM model.
 */
#include "bird_conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BIRD_CONF_HEADER \
	"# Written by prefixd; do not edit: prefixd rewrites this file and reverts manual changes.\n"
#define BIRD_CONF_READ_MAX (64u * 1024 * 1024)

void
bird_routeset_clear(struct bird_routeset *s)
{
	if (s == NULL)
		return;
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

int
bird_routeset_add_route(struct bird_routeset *s, const struct bird_route *r)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct bird_route *nv = realloc(s->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = *r;
	return 0;
}

int
bird_route_parse(const char *prefix, struct bird_route *out, struct err *e)
{
	char addr[64];
	const char *slash = strchr(prefix, '/');
	char *end;

	memset(out, 0, sizeof(*out));
	if (slash == NULL || (size_t)(slash - prefix) >= sizeof(addr) || slash[1] < '0' ||
	    slash[1] > '9')
		return err_set(e, "cidr-invalid", "not a prefix: '%.60s'", prefix);
	memcpy(addr, prefix, (size_t)(slash - prefix));
	addr[slash - prefix] = '\0';
	errno = 0;
	unsigned long plen = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || errno != 0 || (slash[1] == '0' && slash[2] != '\0'))
		return err_set(e, "cidr-invalid", "bad prefix length in '%.60s'", prefix);
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		if (plen > 32)
			return err_set(e, "cidr-invalid", "prefix length over 32 in '%.60s'", prefix);
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		if (plen > 128)
			return err_set(e, "cidr-invalid", "prefix length over 128 in '%.60s'", prefix);
	} else {
		return err_set(e, "cidr-invalid", "not an address in '%.60s'", prefix);
	}
	out->plen = (unsigned)plen;
	for (unsigned bit = out->plen; bit < 128; bit++)
		if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
			return err_set(e, "cidr-not-canonical", "host bits set in '%.60s'", prefix);
	return 0;
}

int
bird_routeset_add(struct bird_routeset *s, const char *prefix, bool drain, struct err *e)
{
	struct bird_route r;

	if (bird_route_parse(prefix, &r, e) < 0)
		return -1;
	r.drain = drain;
	if (bird_routeset_add_route(s, &r) < 0)
		return err_set(e, "internal", "out of memory");
	return 0;
}

int
bird_routeset_copy(struct bird_routeset *dst, const struct bird_routeset *src)
{
	bird_routeset_clear(dst);
	if (src->n == 0)
		return 0;
	dst->v = malloc(src->n * sizeof(*dst->v));
	if (dst->v == NULL)
		return -1;
	memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
	dst->n = dst->cap = src->n;
	return 0;
}

/* Order: IPv4 before IPv6, then address bytes, then prefix length. Ignores drain. */
static int
route_cmp(const struct bird_route *a, const struct bird_route *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	int c = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (c != 0)
		return c;
	return (a->plen > b->plen) - (a->plen < b->plen);
}

static int
route_qcmp(const void *a, const void *b)
{
	return route_cmp(a, b);
}

void
bird_routeset_normalize(struct bird_routeset *s)
{
	size_t out = 0;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), route_qcmp);
	for (size_t i = 1; i < s->n; i++) {
		if (route_cmp(&s->v[out], &s->v[i]) == 0) {
			s->v[out].drain = s->v[out].drain || s->v[i].drain;
			if (s->v[out].origin == 0)
				s->v[out].origin = s->v[i].origin;
		} else
			s->v[++out] = s->v[i];
	}
	s->n = out + 1;
}

bool
bird_routeset_equal(const struct bird_routeset *a, const struct bird_routeset *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (route_cmp(&a->v[i], &b->v[i]) != 0 || a->v[i].drain != b->v[i].drain ||
		    a->v[i].origin != b->v[i].origin)
			return false;
	return true;
}

long
bird_routeset_find(const struct bird_routeset *s, const struct bird_route *r)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = route_cmp(&s->v[mid], r);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

char *
bird_route_format(const struct bird_route *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(r->family, r->addr, a, sizeof(a)) == NULL)
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, r->plen);
	return buf;
}

int
bird_routediff_compute(const struct bird_routeset *desired, const struct bird_routeset *actual,
    struct bird_routediff *d)
{
	size_t i = 0, j = 0;
	int rc = 0;

	bird_routediff_clear(d);
	while (rc == 0 && (i < desired->n || j < actual->n)) {
		int c = i == desired->n ? 1 : j == actual->n ? -1 :
		    route_cmp(&desired->v[i], &actual->v[j]);
		if (c < 0) {
			rc = bird_routeset_add_route(&d->add, &desired->v[i++]);
		} else if (c > 0) {
			rc = bird_routeset_add_route(&d->remove, &actual->v[j++]);
		} else {
			if (desired->v[i].drain != actual->v[j].drain ||
			    desired->v[i].origin != actual->v[j].origin)
				rc = bird_routeset_add_route(&d->change, &desired->v[i]);
			i++;
			j++;
		}
	}
	return rc;
}

bool
bird_routediff_empty(const struct bird_routediff *d)
{
	return d->add.n == 0 && d->remove.n == 0 && d->change.n == 0;
}

void
bird_routediff_clear(struct bird_routediff *d)
{
	bird_routeset_clear(&d->add);
	bird_routeset_clear(&d->remove);
	bird_routeset_clear(&d->change);
}

static void
diff_append(char **buf, size_t *len, size_t *cap, char sign, const struct bird_routeset *s)
{
	char p[BIRD_PREFIX_STRLEN];

	for (size_t i = 0; i < s->n && *buf != NULL; i++) {
		size_t need = *len + BIRD_PREFIX_STRLEN + 16;
		if (need > *cap) {
			*cap = need * 2;
			char *nb = realloc(*buf, *cap);
			if (nb == NULL) {
				free(*buf);
				*buf = NULL;
				return;
			}
			*buf = nb;
		}
		*len += (size_t)snprintf(*buf + *len, *cap - *len, "%s%c%s%s", *len ? " " : "",
		    sign, bird_route_format(&s->v[i], p, sizeof(p)),
		    sign == '~' ? (s->v[i].drain ? "(drain)" : "(undrain)") : "");
	}
}

char *
bird_routediff_format(const struct bird_routediff *d)
{
	size_t len = 0, cap = 64;
	char *buf = malloc(cap);

	if (buf == NULL)
		return NULL;
	buf[0] = '\0';
	diff_append(&buf, &len, &cap, '+', &d->add);
	diff_append(&buf, &len, &cap, '-', &d->remove);
	diff_append(&buf, &len, &cap, '~', &d->change);
	return buf;
}

static void
render_protocol(FILE *f, const struct bird_routeset *s, int family)
{
	char p[BIRD_PREFIX_STRLEN];

	fprintf(f, "protocol static %s {\n\t%s;\n", family == AF_INET ? "prefixd4" : "prefixd6",
	    family == AF_INET ? "ipv4" : "ipv6");
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].family != family)
			continue;
		const struct bird_route *r = &s->v[i];

		fprintf(f, "\troute %s blackhole", bird_route_format(r, p, sizeof(p)));
		if (!r->drain && r->origin == 0) {
			fprintf(f, ";\n");
			continue;
		}
		fprintf(f, " {");
		if (r->drain)
			fprintf(f, " bgp_community.add((65535,0));");
		if (r->origin != 0)
			fprintf(f, " bgp_path.prepend(%u);", (unsigned)r->origin);
		fprintf(f, " };\n");
	}
	fprintf(f, "}\n");
}

int
bird_conf_render(const struct bird_routeset *s, char **out, size_t *len)
{
	struct bird_routeset sorted = { 0 };
	FILE *f;

	*out = NULL;
	*len = 0;
	if (bird_routeset_copy(&sorted, s) < 0)
		return -1;
	bird_routeset_normalize(&sorted);
	f = open_memstream(out, len);
	if (f == NULL) {
		bird_routeset_clear(&sorted);
		return -1;
	}
	fputs(BIRD_CONF_HEADER, f);
	render_protocol(f, &sorted, AF_INET);
	render_protocol(f, &sorted, AF_INET6);
	bird_routeset_clear(&sorted);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int rc = -1;

	if (copy == NULL)
		return -1;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

int
bird_conf_write(const char *path, const char *data, size_t len, struct err *e)
{
	char tmp[4096];
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp))
		return err_set(e, "io-error", "include path too long");
	fd = mkstemp(tmp);
	if (fd < 0)
		return err_set(e, "io-error", "create temp file for %s: %s", path, strerror(errno));
	if (fchmod(fd, 0644) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int saved = errno;
		close(fd);
		unlink(tmp);
		return err_set(e, "io-error", "write %s: %s", tmp, strerror(saved));
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int saved = errno;
		unlink(tmp);
		return err_set(e, "io-error", "replace %s: %s", path, strerror(saved));
	}
	if (fsync_dir(path) < 0)
		return err_set(e, "io-error", "fsync directory of %s: %s", path, strerror(errno));
	return 0;
}

int
bird_conf_read(const char *path, char **out, size_t *len, struct err *e)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*len = 0;
	if (f == NULL)
		return err_set(e, errno == ENOENT ? "not-found" : "io-error", "open %s: %s", path,
		    strerror(errno));
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			char *nb = cap > BIRD_CONF_READ_MAX ? NULL : realloc(buf, cap + 1);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return err_set(e, "io-error", "%s is too large", path);
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return err_set(e, "io-error", "read %s failed", path);
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}
