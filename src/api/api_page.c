/*
 * api_page — paging of the list and history routes (issue 15, finding 5): the `limit` and
 * `cursor` query parameters, the opaque cursor, and the answer's `next_cursor`.
 *
 * Who calls it: every handler that answers a list (api_ipam.c, api_import.c, api_prefix.c,
 * api_asn.c). A list answers at most `limit` rows (API_PAGE_DEFAULT when absent, at most
 * API_PAGE_MAX), so one request never holds the loop for long nor grows an answer without
 * bound, whatever the caller asks for. Rows come in a stable order of a key (an id, a pool
 * and an address, a prefix); the cursor is the key of the last row answered, not an offset,
 * so a reader that follows next_cursor while others write never sees a row twice and misses
 * none that existed when it began (rows added or removed meanwhile may or may not appear).
 *
 * A cursor is "KIND:KEY" in hexadecimal: opaque to clients, tied to the list that gave it
 * (KIND), and checked as strictly as any other input. A cursor that is not hex, too long,
 * of another list, or whose key the route cannot read is refused with 400 bad-cursor;
 * a bad limit with 400 invalid-argument. Both change nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "hex.h"
#include "log.h"

int
api_page_args(struct api_ctx *ctx, const char *kind, struct api_page *pg)
{
	const char *l = http_query(ctx->req, "limit"), *c = http_query(ctx->req, "cursor");
	uint8_t raw[API_CURSOR_MAX];
	size_t klen = strlen(kind), n;
	unsigned long v = 0;

	memset(pg, 0, sizeof(*pg));
	pg->kind = kind;
	pg->limit = API_PAGE_DEFAULT;
	if (l != NULL) {
		for (n = 0; l[n] >= '0' && l[n] <= '9' && n < 8; n++)
			v = v * 10 + (unsigned long)(l[n] - '0');
		if (n == 0 || l[n] != '\0' || v < 1 || v > API_PAGE_MAX) {
			api_error(ctx, "invalid-argument", "limit must be a number 1..%d", API_PAGE_MAX);
			return -1;
		}
		pg->limit = (unsigned)v;
	}
	if (c == NULL)
		return 0;
	n = strlen(c) / 2;
	if (n <= klen + 1 || n > sizeof(raw) || hex_decode(c, strlen(c), raw, n) != 0 ||
	    memcmp(raw, kind, klen) != 0 || raw[klen] != ':' ||
	    memchr(raw + klen + 1, '\0', n - klen - 1) != NULL) {
		api_error(ctx, "bad-cursor", "cursor is not one this list gave");
		return -1;
	}
	memcpy(pg->after, raw + klen + 1, n - klen - 1);
	pg->after[n - klen - 1] = '\0';
	pg->has_after = true;
	return 0;
}

void
api_page_bad_cursor(struct api_ctx *ctx)
{
	api_error(ctx, "bad-cursor", "cursor is not one this list gave");
}

bool
api_page_take(struct api_page *pg)
{
	if (pg->n == pg->limit) {
		pg->more = true;
		return false;
	}
	pg->n++;
	return true;
}

void
api_page_next(struct api_page *pg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pg->last, sizeof(pg->last), fmt, ap);
	va_end(ap);
}

void
api_page_finish(const struct api_page *pg, json_t *obj)
{
	char raw[API_CURSOR_MAX + 1], hex[2 * API_CURSOR_MAX + 1];
	int n;

	if (!pg->more) {
		json_object_set_new(obj, "next_cursor", json_null());
		return;
	}
	n = snprintf(raw, sizeof(raw), "%s:%s", pg->kind, pg->last);
	hex_encode((const uint8_t *)raw, (size_t)n, hex);
	json_object_set_new(obj, "next_cursor", json_string(hex));
}

int
api_page_after_id(struct api_ctx *ctx, const struct api_page *pg, uint64_t *id)
{
	char *end;

	*id = 0;
	if (!pg->has_after)
		return 0;
	if (pg->after[0] < '0' || pg->after[0] > '9' ||
	    (*id = strtoull(pg->after, &end, 10), *end != '\0')) {
		api_page_bad_cursor(ctx);
		return -1;
	}
	return 0;
}

void
api_page_set_add(struct api_page_set *s, uint64_t id, void *obj)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		if ((s->v = realloc(s->v, s->cap * sizeof(*s->v))) == NULL)
			fatal("realloc");
	}
	s->v[s->n].id = id;
	s->v[s->n++].obj = obj;
}

static int
api_page_item_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct api_page_item *)a)->id, y = ((const struct api_page_item *)b)->id;

	return x < y ? -1 : x > y;
}

void
api_page_set_sort(struct api_page_set *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), api_page_item_cmp);
}

void
api_page_set_free(struct api_page_set *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void
api_page_ids(struct api_page *pg, struct api_page_set *s, json_t *list,
    json_t *(*render)(const void *obj))
{
	api_page_set_sort(s);
	for (size_t i = 0; i < s->n && api_page_take(pg); i++) {
		json_array_append_new(list, render(s->v[i].obj));
		api_page_next(pg, "%llu", (unsigned long long)s->v[i].id);
	}
	api_page_set_free(s);
}
