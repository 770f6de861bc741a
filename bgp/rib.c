/*
 * rib — `show route` parsing, own-route read-back and the other-origin check. See rib.h.
 * Each asynchronous operation is a small heap context that lives until its DONE call.
 */
#include "rib.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void
rib_table_clear(struct rib_table *t)
{
	if (t == NULL)
		return;
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

static struct rib_route *
table_push(struct rib_table *t)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct rib_route *nv = realloc(t->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return NULL;
		t->v = nv;
		t->cap = ncap;
	}
	struct rib_route *r = &t->v[t->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

static const char *
last_line(const struct birdc_reply *r)
{
	return r->n ? r->lines[r->n - 1].text : "";
}

bool
rib_path_origin(const char *path, uint32_t *asn)
{
	const char *end = path + strlen(path);

	while (end > path && end[-1] == ' ')
		end--;
	const char *start = end;
	while (start > path && start[-1] != ' ')
		start--;
	if (start == end)
		return false;
	uint64_t v = 0;
	for (const char *p = start; p < end; p++) {
		if (*p < '0' || *p > '9')
			return false;   /* "}" of an AS_SET, ")" of a confederation segment */
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*asn = (uint32_t)v;
	return true;
}

/* " 203.0.113.0/24  unicast [proto 05:04:44.111] * (100)" (net may be blank: same as before). */
static int
parse_route_line(const char *text, struct rib_table *t, struct err *e)
{
	const struct bird_route *prev = t->n ? &t->v[t->n - 1].net : NULL;
	struct rib_route *r;
	char net[80];

	if (text[0] == ' ') {
		if (prev == NULL)
			return err_set(e, "bird-protocol-error", "route line without a network: '%.60s'",
			    text);
		struct bird_route copy = *prev;
		if ((r = table_push(t)) == NULL)
			return err_set(e, "internal", "out of memory");
		r->net = copy;
		r->net.drain = false;
	} else {
		size_t len = strcspn(text, " ");
		if (len == 0 || len >= sizeof(net))
			return err_set(e, "bird-protocol-error", "bad route line: '%.60s'", text);
		memcpy(net, text, len);
		net[len] = '\0';
		if ((r = table_push(t)) == NULL)
			return err_set(e, "internal", "out of memory");
		if (bird_route_parse(net, &r->net, e) < 0) {
			t->n--;
			return err_set(e, "bird-protocol-error", "bad network in route line: '%.60s'",
			    text);
		}
	}
	const char *br = strchr(text, '[');
	if (br == NULL || strchr(br, ']') == NULL) {
		t->n--;
		return err_set(e, "bird-protocol-error", "route line without [protocol]: '%.60s'", text);
	}
	size_t plen = strcspn(br + 1, " ]");
	if (plen == 0 || plen >= sizeof(r->proto)) {
		t->n--;
		return err_set(e, "bird-protocol-error", "bad protocol in route line: '%.60s'", text);
	}
	memcpy(r->proto, br + 1, plen);
	r->proto[plen] = '\0';
	const char *after = strchr(br, ']') + 1;
	r->primary = after[strspn(after, " ")] == '*';
	return 0;
}

/* "\tBGP.as_path: 64501 64496" / "\tBGP.community: (65535,0) (64500,1)" / anything else. */
static int
parse_attr_line(const char *text, struct rib_table *t, struct err *e)
{
	if (t->n == 0)
		return err_set(e, "bird-protocol-error", "attribute before any route: '%.60s'", text);
	struct rib_route *r = &t->v[t->n - 1];
	const char *a = text + strspn(text, "\t ");

	if (strncmp(a, "BGP.as_path:", 12) == 0) {
		const char *path = a + 12 + strspn(a + 12, " ");
		r->has_as_path = true;
		snprintf(r->as_path, sizeof(r->as_path), "%s", path);
		r->origin_known = rib_path_origin(path, &r->origin_as);
	} else if (strncmp(a, "BGP.community:", 14) == 0) {
		if (strstr(a, "(65535,0)") != NULL)
			r->net.drain = true;
	}
	return 0;
}

int
rib_parse_show_route(const struct birdc_reply *r, struct rib_table *t, struct err *e)
{
	size_t before = t->n;

	if (r->final_code == 8001)
		return 0;
	if (r->final_code == 8004)
		return 1;
	if (r->final_code != 0)
		return err_set(e, "bird-error", "BIRD answered %04d %.200s", r->final_code,
		    last_line(r));
	for (size_t i = 0; i + 1 < r->n; i++) {
		const struct birdc_line *l = &r->lines[i];
		int rc = 0;
		if (l->code == 1007) {
			if (strncmp(l->text, "Table ", 6) == 0 || l->text[0] == '\t')
				continue;
			if (l->text[0] == '\0') {
				rc = err_set(e, "bird-protocol-error", "empty route line");
			} else {
				rc = parse_route_line(l->text, t, e);
			}
		} else if (l->code == 1008 || l->code == 1012) {
			rc = parse_attr_line(l->text, t, e);
		} else {
			rc = err_set(e, "bird-protocol-error", "unexpected code %04d in show route",
			    l->code);
		}
		if (rc < 0) {
			t->n = before;
			return -1;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- own routes */

struct own_ctx {
	struct birdc *c;
	rib_own_fn done;
	void *arg;
	int step;               /* 0: prefixd4, 1: prefixd6 */
	int retries;
	struct rib_table t;
};

static const char *const own_cmds[2] = {
	"show route protocol prefixd4 table master4 all",
	"show route protocol prefixd6 table master6 all",
};
static const char *const own_protos[2] = { "prefixd4", "prefixd6" };

static void own_reply(void *arg, const struct birdc_reply *r, const struct err *e);

static void
own_finish(struct own_ctx *x, const struct err *e)
{
	struct bird_routeset s = { 0 };
	struct err oom;

	if (e == NULL) {
		for (size_t i = 0; i < x->t.n; i++) {
			/* our static routes carry an AS path only when prefixd prepended one */
			x->t.v[i].net.origin = x->t.v[i].has_as_path && x->t.v[i].origin_known ?
			    x->t.v[i].origin_as : 0;
			if (bird_routeset_add_route(&s, &x->t.v[i].net) < 0) {
				e = &oom;
				err_set(&oom, "internal", "out of memory");
				break;
			}
		}
		bird_routeset_normalize(&s);
	}
	x->done(x->arg, e ? NULL : &s, e);
	bird_routeset_clear(&s);
	rib_table_clear(&x->t);
	free(x);
}

static void
own_send(struct own_ctx *x)
{
	struct err e;

	if (birdc_command(x->c, own_cmds[x->step], own_reply, x, &e) < 0)
		own_finish(x, &e);
}

static void
own_reply(void *arg, const struct birdc_reply *r, const struct err *e)
{
	struct own_ctx *x = arg;
	struct err pe;
	size_t before = x->t.n;

	if (e != NULL) {
		own_finish(x, e);
		return;
	}
	if (r->final_code == 9001 && strstr(last_line(r), "CF_SYM_UNDEFINED") != NULL) {
		err_set(&pe, "bird-config-invalid", "BIRD has no protocol %s: does BIRD's config "
		    "include prefixd's include file?", own_protos[x->step]);
		own_finish(x, &pe);
		return;
	}
	int rc = rib_parse_show_route(r, &x->t, &pe);
	if (rc < 0) {
		own_finish(x, &pe);
		return;
	}
	if (rc == 1) {
		if (++x->retries > RIB_RETRIES) {
			err_set(&pe, "bird-unavailable", "show route kept stopping (8004)");
			own_finish(x, &pe);
		} else {
			own_send(x);
		}
		return;
	}
	for (size_t i = before; i < x->t.n; i++) {
		if (strcmp(x->t.v[i].proto, own_protos[x->step]) != 0) {
			err_set(&pe, "bird-protocol-error", "route of protocol %s in %s read-back",
			    x->t.v[i].proto, own_protos[x->step]);
			own_finish(x, &pe);
			return;
		}
	}
	if (++x->step == 2) {
		own_finish(x, NULL);
		return;
	}
	x->retries = 0;
	own_send(x);
}

int
rib_read_own(struct birdc *c, rib_own_fn done, void *arg, struct err *e)
{
	if (!birdc_is_up(c))
		return err_set(e, "bird-unavailable", "not connected to BIRD");
	struct own_ctx *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return err_set(e, "internal", "out of memory");
	x->c = c;
	x->done = done;
	x->arg = arg;
	if (birdc_command(c, own_cmds[0], own_reply, x, e) < 0) {
		free(x);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- other origins */

struct origin_ctx {
	struct birdc *c;
	rib_origins_fn done;
	void *arg;
	uint32_t expected;
	char cmd[128];
	int retries;
};

static void
origins_report(struct origin_ctx *x, const struct rib_table *t)
{
	struct rib_origin *v = calloc(t->n ? t->n : 1, sizeof(*v));
	size_t n = 0;
	struct err e;

	if (v == NULL) {
		err_set(&e, "internal", "out of memory");
		x->done(x->arg, NULL, 0, &e);
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct rib_route *r = &t->v[i];
		if (strcmp(r->proto, "prefixd4") == 0 || strcmp(r->proto, "prefixd6") == 0)
			continue;
		if (!r->has_as_path || r->as_path[0] == '\0')
			continue;
		if (r->origin_known && r->origin_as == x->expected)
			continue;
		bird_route_format(&r->net, v[n].net, sizeof(v[n].net));
		snprintf(v[n].proto, sizeof(v[n].proto), "%s", r->proto);
		snprintf(v[n].as_path, sizeof(v[n].as_path), "%s", r->as_path);
		v[n].origin_as = r->origin_known ? r->origin_as : 0;
		n++;
	}
	x->done(x->arg, v, n, NULL);
	free(v);
}

static void
origins_reply(void *arg, const struct birdc_reply *r, const struct err *e)
{
	struct origin_ctx *x = arg;
	struct rib_table t = { 0 };
	struct err pe;

	if (e != NULL) {
		x->done(x->arg, NULL, 0, e);
		free(x);
		return;
	}
	int rc = rib_parse_show_route(r, &t, &pe);
	if (rc == 1 && ++x->retries <= RIB_RETRIES &&
	    birdc_command(x->c, x->cmd, origins_reply, x, &pe) == 0)
		return;
	if (rc == 1 && x->retries > RIB_RETRIES)
		err_set(&pe, "bird-unavailable", "show route kept stopping (8004)");
	if (rc == 0)
		origins_report(x, &t);
	else
		x->done(x->arg, NULL, 0, &pe);
	rib_table_clear(&t);
	free(x);
}

int
rib_other_origins(struct birdc *c, const char *prefix, uint32_t expected_asn,
    rib_origins_fn done, void *arg, struct err *e)
{
	struct bird_route net;
	char p[BIRD_PREFIX_STRLEN];

	if (bird_route_parse(prefix, &net, e) < 0)
		return -1;
	struct origin_ctx *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return err_set(e, "internal", "out of memory");
	x->c = c;
	x->done = done;
	x->arg = arg;
	x->expected = expected_asn;
	snprintf(x->cmd, sizeof(x->cmd), "show route in %s table %s all",
	    bird_route_format(&net, p, sizeof(p)), net.family == AF_INET ? "master4" : "master6");
	if (birdc_command(c, x->cmd, origins_reply, x, e) < 0) {
		free(x);
		return -1;
	}
	return 0;
}
