/*
 * audit — the chain over canonical event JSON, unkeyed (SHA-256) or keyed (HMAC-SHA256), and
 * its verifier; see audit.h.
 */
#include "audit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "log.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

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

/* Grows t to hold n more bytes and a NUL; out of memory is fatal (the daemon cannot go on
 * without its log). */
static void
audit_put(struct audit_text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		while (t->len + n + 1 > t->cap)
			t->cap = t->cap ? 2 * t->cap : 512;
		if ((t->p = realloc(t->p, t->cap)) == NULL)
			fatal("audit: out of memory");
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

/* Decimal digits of v, with a leading '-' when neg. */
static void
audit_put_num(struct audit_text *t, uint64_t v, bool neg)
{
	char d[24];
	size_t i = sizeof(d);

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (neg)
		d[--i] = '-';
	audit_put(t, d + i, sizeof(d) - i);
}

/* "key": then a JSON string of s (or null), escaped as jansson does for ASCII. */
static void
audit_put_str(struct audit_text *t, const char *key, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[6] = { '\\', 'u', '0', '0' };
	const char *run;

	audit_put(t, key, strlen(key));
	if (s == NULL) {
		audit_put(t, "null", 4);
		return;
	}
	audit_put(t, "\"", 1);
	for (run = s; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		audit_put(t, run, (size_t)(s - run));
		if (c >= 0x20) {
			esc[1] = (char)c;
			audit_put(t, esc, 2);
		} else if (c == '\b' || c == '\t' || c == '\n' || c == '\f' || c == '\r') {
			esc[1] = "btn?fr"[c - '\b'];
			audit_put(t, esc, 2);
		} else {
			esc[1] = 'u';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			audit_put(t, esc, 6);
		}
		run = s + 1;
	}
	audit_put(t, run, (size_t)(s - run));
	audit_put(t, "\"", 1);
}

const char *
audit_event_canonical_into(const struct store_event *ev, struct audit_text *t)
{
	char cidr[CIDR_STRLEN];

	t->len = 0;
	audit_put_str(t, "{\"action\":", ev->action);
	audit_put_str(t, ",\"actor\":", ev->actor);
	audit_put_str(t, ",\"after\":", ev->after);
	audit_put_str(t, ",\"before\":", ev->before);
	audit_put_str(t, ",\"cidr\":", ev->has_cidr ? cidr_format(&ev->cidr, cidr,
	    sizeof(cidr)) : NULL);
	audit_put_str(t, ",\"evidence\":", ev->evidence);
	audit_put(t, ",\"id\":", 6);
	audit_put_num(t, ev->id, false);
	audit_put_str(t, ",\"object_kind\":", ev->object_kind);
	audit_put_str(t, ",\"request_id\":", ev->request_id);
	audit_put_str(t, ",\"role\":", ev->role);
	audit_put(t, ",\"time\":", 8);
	audit_put_num(t, ev->time < 0 ? 0 - (uint64_t)ev->time : (uint64_t)ev->time,
	    ev->time < 0);
	audit_put(t, "}", 1);
	return t->p;
}

char *
audit_event_canonical(const struct store_event *ev)
{
	struct audit_text t = { 0 };

	return (char *)audit_event_canonical_into(ev, &t);
}

void
audit_text_free(struct audit_text *t)
{
	free(t->p);
	t->p = NULL;
	t->len = t->cap = 0;
}

char *
audit_canonical(const json_t *event)
{
	return json_dumps(event, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
}

/*
 * The digest and its context are fetched once and reused: an implicit fetch on every
 * EVP_DigestInit_ex(EVP_sha256()) cost as much as the hash itself, and every change pays
 * for this. Not reentrant: the daemon hashes on its loop thread only.
 */
void
audit_chain_hash(const char *prev, const char *canonical, char out[AUDIT_HASH_HEXLEN + 1])
{
	static EVP_MD *md;
	static EVP_MD_CTX *ctx;
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;

	if (md == NULL)
		md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	if (ctx == NULL)
		ctx = EVP_MD_CTX_new();
	if (md == NULL || ctx == NULL || EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, prev, strlen(prev)) != 1 ||
	    EVP_DigestUpdate(ctx, "\n", 1) != 1 ||
	    EVP_DigestUpdate(ctx, canonical, strlen(canonical)) != 1 ||
	    EVP_DigestFinal_ex(ctx, d, &dlen) != 1 || dlen != 32) {
		/* Only allocation failure gets here; an all-'x' hash never verifies. */
		memset(out, 'x', AUDIT_HASH_HEXLEN);
		out[AUDIT_HASH_HEXLEN] = '\0';
		return;
	}
	hex_encode(d, dlen, out);
}

/* Readies the HMAC context for k: the MAC, its context and the digest are fetched once, as
 * for the digest above, and the key is set only when it changes (an EVP_MAC_init with the
 * key and the digest's name costs more than the HMAC of an event). Loop thread only. */
static EVP_MAC_CTX *
audit_hmac_ctx(const struct audit_key *k)
{
	static EVP_MAC *mac;
	static EVP_MAC_CTX *ctx;
	static unsigned char key[AUDIT_KEY_MAX];
	static size_t keylen;
	OSSL_PARAM p[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0), OSSL_PARAM_construct_end() };

	if (mac == NULL)
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (ctx == NULL && mac != NULL)
		ctx = EVP_MAC_CTX_new(mac);
	if (ctx == NULL)
		return NULL;
	if (keylen == k->len && memcmp(key, k->k, k->len) == 0)
		return EVP_MAC_init(ctx, NULL, 0, NULL) == 1 ? ctx : NULL;
	keylen = 0;
	if (EVP_MAC_init(ctx, k->k, k->len, p) != 1)
		return NULL;
	memcpy(key, k->k, k->len);
	keylen = k->len;
	return ctx;
}

/* out = hex(HMAC-SHA256(k, a || b || c)). */
static void
audit_hmac3(const struct audit_key *k, const char *a, const char *b, const char *c,
    char out[AUDIT_HASH_HEXLEN + 1])
{
	EVP_MAC_CTX *ctx = audit_hmac_ctx(k);
	unsigned char d[EVP_MAX_MD_SIZE];
	size_t dlen = 0;

	if (ctx == NULL ||
	    EVP_MAC_update(ctx, (const unsigned char *)a, strlen(a)) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)b, strlen(b)) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)c, strlen(c)) != 1 ||
	    EVP_MAC_final(ctx, d, &dlen, sizeof(d)) != 1 || dlen != 32) {
		memset(out, 'x', AUDIT_HASH_HEXLEN);    /* allocation failure: never verifies */
		out[AUDIT_HASH_HEXLEN] = '\0';
		return;
	}
	hex_encode(d, dlen, out);
}

void
audit_chain_hmac(const struct audit_key *k, const char *prev, const char *canonical,
    char out[AUDIT_HASH_HEXLEN + 1])
{
	audit_hmac3(k, prev, "\n", canonical, out);
}

void
audit_chain_link(const struct audit_key *k, const char *prev, const char *canonical,
    char out[AUDIT_HASH_HEXLEN + 1])
{
	if (k != NULL)
		audit_chain_hmac(k, prev, canonical, out);
	else
		audit_chain_hash(prev, canonical, out);
}

void
audit_mac(const struct audit_key *k, const char *text, char out[AUDIT_HASH_HEXLEN + 1])
{
	audit_hmac3(k, text, "", "", out);
}

void
audit_key_set(struct audit_key *k, const void *b, size_t len)
{
	char mac[AUDIT_HASH_HEXLEN + 1];

	k->len = len < sizeof(k->k) ? len : sizeof(k->k);
	memcpy(k->k, b, k->len);
	audit_mac(k, "prefixd audit key id", mac);
	memcpy(k->id, mac, AUDIT_KEY_ID_HEXLEN);
	k->id[AUDIT_KEY_ID_HEXLEN] = '\0';
}

void
audit_verifier_init(struct audit_verifier *v)
{
	memset(v, 0, sizeof(*v));
	memcpy(v->prev, AUDIT_GENESIS, sizeof(v->prev));
}

/* One link of the walk: keyed says which link the event must carry. */
static int
audit_verify_link(struct audit_verifier *v, uint64_t id, const char *canonical,
    const char *stored_hash, bool keyed, struct err *e)
{
	char want[AUDIT_HASH_HEXLEN + 1];

	if (id != v->last_id + 1)
		return err_set(e, "audit-broken",
		    "event %llu is missing: the log jumps from event %llu to event %llu",
		    (unsigned long long)(v->last_id + 1), (unsigned long long)v->last_id,
		    (unsigned long long)id);
	if (keyed && v->key == NULL)
		return err_set(e, "audit-broken", "event %llu is keyed (the chain is keyed from "
		    "event %llu) but no [daemon] audit_key_file is set", (unsigned long long)id,
		    (unsigned long long)(v->keyed_from ? v->keyed_from : id));
	audit_chain_link(keyed ? v->key : NULL, v->prev, canonical, want);
	if (stored_hash == NULL || strcmp(want, stored_hash) != 0)
		return err_set(e, "audit-broken",
		    "event %llu does not match its %s: it was changed after it was written, "
		    "or an earlier event was", (unsigned long long)id,
		    keyed ? "keyed link (HMAC)" : "hash");
	if (id == v->pub_id && strcmp(want, v->pub) != 0)
		return err_set(e, "audit-broken", "event %llu is not the head published outside "
		    "the store: the log was rewritten up to here", (unsigned long long)id);
	memcpy(v->prev, want, sizeof(v->prev));
	v->last_id = id;
	v->count++;
	return 0;
}

int
audit_verify_step(struct audit_verifier *v, uint64_t id, const char *canonical,
    const char *stored_hash, struct err *e)
{
	return audit_verify_link(v, id, canonical, stored_hash, v->keyed_from != 0, e);
}

int
audit_verify_event(struct audit_verifier *v, const struct store_event *ev, struct err *e)
{
	char *canon = audit_event_canonical(ev);
	bool sw = v->keyed_from == 0 && ev->action != NULL && ev->object_kind != NULL &&
	    strcmp(ev->action, AUDIT_KEYED_ACTION) == 0 &&
	    strcmp(ev->object_kind, AUDIT_KEYED_KIND) == 0;
	int rc = audit_verify_link(v, ev->id, canon, ev->hash, sw || v->keyed_from != 0, e);

	free(canon);
	if (rc == 0 && sw)
		v->keyed_from = ev->id;
	return rc;
}

int
audit_verify_head(const struct audit_verifier *v, uint64_t head_id, const char *head,
    struct err *e)
{
	if (head_id > v->last_id)
		return err_set(e, "audit-broken", "event %llu is missing: the log ends at event %llu "
		    "but the chain head is event %llu", (unsigned long long)(v->last_id + 1),
		    (unsigned long long)v->last_id, (unsigned long long)head_id);
	if (head_id != v->last_id || strcmp(head, v->prev) != 0)
		return err_set(e, "audit-broken", "event %llu does not match the chain head "
		    "(head: event %llu)", (unsigned long long)v->last_id,
		    (unsigned long long)head_id);
	if (v->pub_id > v->last_id)
		return err_set(e, "audit-broken", "event %llu is missing: the log ends at event %llu "
		    "but event %llu was published outside the store (the tail was cut)",
		    (unsigned long long)(v->last_id + 1), (unsigned long long)v->last_id,
		    (unsigned long long)v->pub_id);
	if (v->key != NULL && v->keyed_from == 0 && v->last_id > 0)
		return err_set(e, "audit-broken", "event 1 to %llu are unkeyed although [daemon] "
		    "audit_key_file is set: the keyed chain was replaced (no %s event)",
		    (unsigned long long)v->last_id, AUDIT_KEYED_ACTION);
	return 0;
}
