/*
 * audit — hash chain over canonical event JSON; see audit.h.
 */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#include <openssl/evp.h>

static json_t *
audit_str(const char *s)
{
	json_t *j = s != NULL ? json_string(s) : NULL;

	return j != NULL ? j : json_null();     /* absent, or not UTF-8 (never from the daemon) */
}

json_t *
audit_event_json(const struct store_event *ev)
{
	char buf[CIDR_STRLEN];

	return json_pack("{s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
	    "id", (json_int_t)ev->id, "time", (json_int_t)ev->time,
	    "actor", audit_str(ev->actor), "role", audit_str(ev->role),
	    "request_id", audit_str(ev->request_id), "action", audit_str(ev->action),
	    "object_kind", audit_str(ev->object_kind),
	    "cidr", ev->has_cidr ? json_string(cidr_format(&ev->cidr, buf, sizeof(buf))) :
	    json_null(),
	    "before", audit_str(ev->before), "after", audit_str(ev->after),
	    "evidence", audit_str(ev->evidence));
}

/* A growing text; out of memory is fatal (the daemon cannot go on without its log). */
struct audit_buf {
	char *p;
	size_t len, cap;
};

static void
audit_put(struct audit_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? 2 * b->cap : 512;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			fatal("audit: out of memory");
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* "key": then a JSON string of s (or null), escaped as jansson does for ASCII. */
static void
audit_put_str(struct audit_buf *b, const char *key, const char *s)
{
	char esc[8];
	const char *run;

	audit_put(b, key, strlen(key));
	if (s == NULL) {
		audit_put(b, "null", 4);
		return;
	}
	audit_put(b, "\"", 1);
	for (run = s; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		audit_put(b, run, (size_t)(s - run));
		if (c >= 0x20)
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c == '\b' || c == '\t' || c == '\n' || c == '\f' || c == '\r')
			snprintf(esc, sizeof(esc), "\\%c", "btn?fr"[c - '\b']);
		else
			snprintf(esc, sizeof(esc), "\\u%04X", c);
		audit_put(b, esc, strlen(esc));
		run = s + 1;
	}
	audit_put(b, run, (size_t)(s - run));
	audit_put(b, "\"", 1);
}

char *
audit_event_canonical(const struct store_event *ev)
{
	struct audit_buf b = { 0 };
	char cidr[CIDR_STRLEN], num[64];

	audit_put_str(&b, "{\"action\":", ev->action);
	audit_put_str(&b, ",\"actor\":", ev->actor);
	audit_put_str(&b, ",\"after\":", ev->after);
	audit_put_str(&b, ",\"before\":", ev->before);
	audit_put_str(&b, ",\"cidr\":", ev->has_cidr ? cidr_format(&ev->cidr, cidr,
	    sizeof(cidr)) : NULL);
	audit_put_str(&b, ",\"evidence\":", ev->evidence);
	snprintf(num, sizeof(num), ",\"id\":%llu", (unsigned long long)ev->id);
	audit_put(&b, num, strlen(num));
	audit_put_str(&b, ",\"object_kind\":", ev->object_kind);
	audit_put_str(&b, ",\"request_id\":", ev->request_id);
	audit_put_str(&b, ",\"role\":", ev->role);
	snprintf(num, sizeof(num), ",\"time\":%lld}", (long long)ev->time);
	audit_put(&b, num, strlen(num));
	return b.p;
}

char *
audit_canonical(const json_t *event)
{
	return json_dumps(event, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
}

void
audit_chain_hash(const char *prev, const char *canonical, char out[AUDIT_HASH_HEXLEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, prev, strlen(prev)) != 1 ||
	    EVP_DigestUpdate(ctx, "\n", 1) != 1 ||
	    EVP_DigestUpdate(ctx, canonical, strlen(canonical)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
		/* Only allocation failure gets here; an all-'x' hash never verifies. */
		memset(out, 'x', AUDIT_HASH_HEXLEN);
		out[AUDIT_HASH_HEXLEN] = '\0';
		EVP_MD_CTX_free(ctx);
		return;
	}
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void
audit_verifier_init(struct audit_verifier *v)
{
	memcpy(v->prev, AUDIT_GENESIS, sizeof(v->prev));
	v->last_id = 0;
	v->count = 0;
}

int
audit_verify_step(struct audit_verifier *v, uint64_t id, const char *canonical,
    const char *stored_hash, struct err *e)
{
	char want[AUDIT_HASH_HEXLEN + 1];

	if (id != v->last_id + 1)
		return err_set(e, "audit-broken",
		    "event %llu is missing: the log jumps from event %llu to event %llu",
		    (unsigned long long)(v->last_id + 1), (unsigned long long)v->last_id,
		    (unsigned long long)id);
	audit_chain_hash(v->prev, canonical, want);
	if (stored_hash == NULL || strcmp(want, stored_hash) != 0)
		return err_set(e, "audit-broken",
		    "event %llu does not match its hash: it was changed after it was written, "
		    "or an earlier event was", (unsigned long long)id);
	memcpy(v->prev, want, sizeof(v->prev));
	v->last_id = id;
	v->count++;
	return 0;
}
