/*
 * ipam_util — small helpers of the ipam files: the hash set, the pointer vector, checks of
 * names and free text, and tag lists (parse, copy, compare, the store's "k=v" encoding).
 */
#include "ipam_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* ---- hash set ---- */

uint64_t
ipam_hash_u64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	v *= 0xc4ceb9fe1a85ec53ULL;
	v ^= v >> 33;
	return v;
}

uint64_t
ipam_hash_str(const char *s, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ ipam_hash_u64(seed);

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return ipam_hash_u64(h);
}

void
ipam_hash_init(struct ipam_hash *h, uint64_t (*hash)(const void *obj))
{
	memset(h, 0, sizeof(*h));
	h->hash = hash;
}

void
ipam_hash_clear(struct ipam_hash *h)
{
	free(h->slot);
	h->slot = NULL;
	h->cap = 0;
	h->n = 0;
}

static void
ipam_hash_put(struct ipam_hash *h, void *obj)
{
	size_t i = (size_t)h->hash(obj) & (h->cap - 1);

	while (h->slot[i] != NULL)
		i = (i + 1) & (h->cap - 1);
	h->slot[i] = obj;
}

void
ipam_hash_insert(struct ipam_hash *h, void *obj)
{
	void **old = h->slot;
	size_t oldcap = h->cap, i;

	if ((h->n + 1) * 2 > h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->slot = ipam_xcalloc(h->cap, sizeof(void *));
		for (i = 0; i < oldcap; i++)
			if (old[i] != NULL)
				ipam_hash_put(h, old[i]);
		free(old);
	}
	ipam_hash_put(h, obj);
	h->n++;
}

void *
ipam_hash_find(const struct ipam_hash *h, uint64_t hv, ipam_hash_eq eq, const void *key)
{
	size_t i;

	if (h->cap == 0)
		return NULL;
	for (i = (size_t)hv & (h->cap - 1); h->slot[i] != NULL; i = (i + 1) & (h->cap - 1))
		if (eq(h->slot[i], key))
			return h->slot[i];
	return NULL;
}

void
ipam_hash_remove(struct ipam_hash *h, void *obj)
{
	size_t i, j, k;

	if (h->cap == 0)
		return;
	for (i = (size_t)h->hash(obj) & (h->cap - 1); h->slot[i] != obj;
	    i = (i + 1) & (h->cap - 1))
		if (h->slot[i] == NULL)
			return;
	h->slot[i] = NULL;
	h->n--;
	/* backward shift: move later members of the probe run into the hole when allowed */
	for (j = (i + 1) & (h->cap - 1); h->slot[j] != NULL; j = (j + 1) & (h->cap - 1)) {
		k = (size_t)h->hash(h->slot[j]) & (h->cap - 1);
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			h->slot[i] = h->slot[j];
			h->slot[j] = NULL;
			i = j;
		}
	}
}

void
ipam_vec_push(struct ipam_vec *a, void *p)
{
	void **nv;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		if ((nv = realloc(a->v, a->cap * sizeof(void *))) == NULL)
			fatal("ipam: out of memory");
		a->v = nv;
	}
	a->v[a->n++] = p;
}

void
ipam_vec_remove(struct ipam_vec *a, void *p)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		if (a->v[i] == p) {
			memmove(&a->v[i], &a->v[i + 1], (a->n - i - 1) * sizeof(void *));
			a->n--;
			return;
		}
	}
}

/* ---- text and tags ---- */

int
ipam_check_name(const char *what, const char *s, struct err *e)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return err_set(e, "invalid-argument", "%s is missing", what);
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= IPAM_NAME_MAX)
			return err_set(e, "invalid-argument", "%s '%.64s...' is longer than %d",
			    what, s, IPAM_NAME_MAX);
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return err_set(e, "invalid-argument",
			    "%s '%.64s' may only hold letters, digits, '.', '_' and '-'", what, s);
	}
	return 0;
}

int
ipam_check_text(const char *what, const char *s, struct err *e)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= IPAM_TEXT_MAX)
			return err_set(e, "invalid-argument", "%s is longer than %d bytes", what,
			    IPAM_TEXT_MAX);
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return err_set(e, "invalid-argument",
			    "%s holds a control character at offset %zu", what, i);
	}
	return 0;
}

static int
ipam_check_tag_key(const char *k, struct err *e)
{
	size_t i;

	if (k == NULL || k[0] == '\0')
		return err_set(e, "invalid-argument", "tag key is empty");
	for (i = 0; k[i] != '\0'; i++) {
		if (i >= IPAM_NAME_MAX ||
		    !((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') ||
		    (k[i] >= '0' && k[i] <= '9') || strchr("_.:/-", k[i]) != NULL))
			return err_set(e, "invalid-argument",
			    "tag key '%.64s' may only hold letters, digits and _.:/- (1..64)", k);
	}
	return 0;
}

static int
ipam_key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* At most IPAM_MAX_TAGS tags; duplicates found by sorting the keys (n log n, not n^2). */
int
ipam_check_tags(const struct ipam_tags *t, struct err *e)
{
	const char *keys[IPAM_MAX_TAGS];
	size_t i;

	if (t == NULL)
		return 0;
	if (t->n > IPAM_MAX_TAGS)
		return err_set(e, "invalid-argument", "%zu tags; at most %d", t->n,
		    IPAM_MAX_TAGS);
	for (i = 0; i < t->n; i++) {
		if (ipam_check_tag_key(t->v[i].key, e) != 0 ||
		    ipam_check_text("tag value", t->v[i].value, e) != 0)
			return -1;
		if (t->v[i].value == NULL)
			return err_set(e, "invalid-argument", "tag '%s' has no value", t->v[i].key);
		keys[i] = t->v[i].key;
	}
	qsort(keys, t->n, sizeof(keys[0]), ipam_key_cmp);
	for (i = 1; i < t->n; i++)
		if (strcmp(keys[i - 1], keys[i]) == 0)
			return err_set(e, "invalid-argument", "tag '%s' is given twice", keys[i]);
	return 0;
}

int
ipam_tag_parse(const char *kv, struct ipam_tag *out, struct err *e)
{
	const char *eq = kv != NULL ? strchr(kv, '=') : NULL;
	char key[IPAM_NAME_MAX + 1];
	size_t klen;

	if (eq == NULL)
		return err_set(e, "invalid-argument", "tag '%.64s' is not key=value",
		    kv ? kv : "");
	klen = (size_t)(eq - kv);
	if (klen == 0 || klen > IPAM_NAME_MAX)
		return err_set(e, "invalid-argument", "tag '%.64s' has a bad key", kv);
	memcpy(key, kv, klen);
	key[klen] = '\0';
	if (ipam_check_tag_key(key, e) != 0 || ipam_check_text("tag value", eq + 1, e) != 0)
		return -1;
	out->key = xstrdup(key);
	out->value = xstrdup(eq + 1);
	return 0;
}

int
ipam_tags_copy(struct ipam_tags *dst, const struct ipam_tags *src)
{
	size_t i;

	dst->n = 0;
	dst->v = NULL;
	if (src == NULL || src->n == 0)
		return 0;
	dst->v = ipam_xcalloc(src->n, sizeof(*dst->v));
	for (i = 0; i < src->n; i++) {
		dst->v[i].key = xstrdup(src->v[i].key);
		dst->v[i].value = xstrdup(src->v[i].value);
	}
	dst->n = src->n;
	return 0;
}

void
ipam_tags_clear(struct ipam_tags *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->v[i].key);
		free(t->v[i].value);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

bool
ipam_tags_equal(const struct ipam_tags *a, const struct ipam_tags *b)
{
	size_t na = a ? a->n : 0, nb = b ? b->n : 0, i;
	const char *v;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		v = ipam_tags_get(b, a->v[i].key);
		if (v == NULL || strcmp(v, a->v[i].value) != 0)
			return false;
	}
	return true;
}

char *
ipam_tags_encode(const struct ipam_tags *t)
{
	size_t len = 1, i;
	char *s, *p;

	if (t == NULL || t->n == 0)
		return NULL;
	for (i = 0; i < t->n; i++)
		len += strlen(t->v[i].key) + strlen(t->v[i].value) + 2;
	p = s = ipam_xcalloc(1, len);
	for (i = 0; i < t->n; i++)
		p += sprintf(p, "%s=%s\n", t->v[i].key, t->v[i].value);
	return s;
}

int
ipam_tags_decode(const char *s, struct ipam_tags *out)
{
	struct ipam_tag tag;
	const char *nl;
	char line[IPAM_NAME_MAX + IPAM_TEXT_MAX + 2];
	size_t n;

	out->n = 0;
	out->v = NULL;
	for (; s != NULL && *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL || (n = (size_t)(nl - s)) >= sizeof(line))
			goto bad;
		memcpy(line, s, n);
		line[n] = '\0';
		if (ipam_tag_parse(line, &tag, NULL) != 0)
			goto bad;
		out->v = realloc(out->v, (out->n + 1) * sizeof(*out->v));
		if (out->v == NULL)
			fatal("ipam: out of memory");
		out->v[out->n++] = tag;
	}
	return 0;
bad:
	ipam_tags_clear(out);
	return -1;
}

int
ipam_check_cidr(const struct cidr *c, struct err *e)
{
	struct cidr canon;
	char b[CIDR_STRLEN];

	if (c == NULL || (c->family != CIDR_V4 && c->family != CIDR_V6) ||
	    c->len > cidr_maxlen(c->family))
		return err_set(e, "cidr-invalid", "not a valid IPv4 or IPv6 prefix");
	canon = cidr_make(c->family, c->hi, c->lo, c->len);
	if (!cidr_equal(&canon, c))
		return err_set(e, "cidr-not-canonical", "host bits set; the canonical form is %s",
		    cidr_format(&canon, b, sizeof(b)));
	return 0;
}
