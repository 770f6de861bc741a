/*
 * test_audit_key — the keyed audit chain (issue 15 finding 7; audit.h, audit_key.h): the HMAC
 * link against an independent HMAC-SHA256, the switch from an unkeyed to a keyed segment,
 * an edit re-hashed without the key named at its event, a verifier without a key refusing a
 * keyed chain, a cut tail named by the published head, a chain replaced by an unkeyed one;
 * the key file (mode, length, missing) and the published head (round trip, forged MAC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "audit.h"
#include "audit_key.h"

#define N 6
#define SWITCH 3                /* event 3 switches the chain to keyed links */

static struct audit_key key;

struct chain {
	struct store_event ev[N];
	char hash[N][AUDIT_HASH_HEXLEN + 1];
	char after[N][32];
};

/* Events 1..N: unkeyed links before SWITCH, the switch event, keyed links after. */
static void
build_chain(struct chain *c)
{
	const char *prev = AUDIT_GENESIS;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < N; i++) {
		struct store_event *ev = &c->ev[i];
		char *canon;

		ev->id = (uint64_t)i + 1;
		ev->time = 1700000000 + i;
		ev->actor = "uid:0";
		ev->action = ev->id == SWITCH ? AUDIT_KEYED_ACTION : "allocate";
		ev->object_kind = ev->id == SWITCH ? AUDIT_KEYED_KIND : "allocation";
		snprintf(c->after[i], sizeof(c->after[i]), "{\"n\":%d}", i);
		ev->after = c->after[i];
		canon = audit_event_canonical(ev);
		audit_chain_link(ev->id >= SWITCH ? &key : NULL, prev, canon, c->hash[i]);
		free(canon);
		ev->hash = c->hash[i];
		prev = c->hash[i];
	}
}

/* Walks c; returns the id named by the first failure (0 when all pass) and the message. */
static uint64_t
walk(struct audit_verifier *v, struct chain *c, struct err *e)
{
	for (int i = 0; i < N; i++)
		if (audit_verify_event(v, &c->ev[i], e) != 0)
			return strtoull(strstr(e->msg, "event ") + 6, NULL, 10);
	return 0;
}

static void
test_audit_chain_hmac_is_hmac_sha256_of_prev_newline_canonical(void **state)
{
	char out[AUDIT_HASH_HEXLEN + 1];

	(void)state;
	/* python3: hmac.new(bytes(range(32)), ("0"*64 + "\n{}").encode(), "sha256") */
	audit_chain_hmac(&key, AUDIT_GENESIS, "{}", out);
	assert_string_equal(out,
	    "e1ea58e4c4fa8df44b83f2f7316b05a9763bb177ba0b42a99c6cb578275425d5");
	assert_string_equal(key.id, "0350ad13b2325967");
	audit_chain_link(NULL, AUDIT_GENESIS, "{}", out);       /* no key: today's SHA-256 */
	assert_string_equal(out,
	    "5649d09ed68c17156095d175eef152856c5b1a81c117c409c1e00f096aa6838e");
}

static void
test_audit_verify_accepts_unkeyed_then_keyed_segments(void **state)
{
	struct chain c;
	struct audit_verifier v;
	struct err e;

	(void)state;
	build_chain(&c);
	audit_verifier_init(&v);
	v.key = &key;
	assert_int_equal(walk(&v, &c, &e), 0);
	assert_int_equal(v.keyed_from, SWITCH);
	assert_int_equal(audit_verify_head(&v, N, c.hash[N - 1], &e), 0);
}

static void
test_audit_verify_names_an_event_rehashed_without_the_key(void **state)
{
	struct chain c;
	struct audit_verifier v;
	struct err e;
	const char *prev;

	(void)state;
	build_chain(&c);
	/* the attacker edits event 5 and re-links 5 and 6 with the unkeyed hash */
	c.ev[4].after = "{\"n\":99}";
	prev = c.hash[3];
	for (int i = 4; i < N; i++) {
		char *canon = audit_event_canonical(&c.ev[i]);

		audit_chain_hash(prev, canon, c.hash[i]);
		free(canon);
		prev = c.hash[i];
	}
	audit_verifier_init(&v);
	v.key = &key;
	assert_int_equal(walk(&v, &c, &e), 5);
	assert_non_null(strstr(e.msg, "keyed link (HMAC)"));
}

static void
test_audit_verify_names_a_rehashed_unkeyed_segment_at_the_switch(void **state)
{
	struct chain c;
	struct audit_verifier v;
	struct err e;
	char *canon;

	(void)state;
	build_chain(&c);
	c.ev[0].after = "{\"n\":99}";           /* before the switch: re-hash 1 and 2 */
	canon = audit_event_canonical(&c.ev[0]);
	audit_chain_hash(AUDIT_GENESIS, canon, c.hash[0]);
	free(canon);
	canon = audit_event_canonical(&c.ev[1]);
	audit_chain_hash(c.hash[0], canon, c.hash[1]);
	free(canon);
	audit_verifier_init(&v);
	v.key = &key;
	assert_int_equal(walk(&v, &c, &e), SWITCH);  /* the switch's HMAC covers what came before */
}

static void
test_audit_verify_without_a_key_refuses_a_keyed_chain(void **state)
{
	struct chain c;
	struct audit_verifier v;
	struct err e;

	(void)state;
	build_chain(&c);
	audit_verifier_init(&v);
	assert_int_equal(walk(&v, &c, &e), SWITCH);
	assert_non_null(strstr(e.msg, "no [daemon] audit_key_file"));
}

static void
test_audit_verify_head_names_the_first_event_cut_below_the_published_head(void **state)
{
	struct chain c;
	struct audit_verifier v;
	struct err e;

	(void)state;
	build_chain(&c);
	audit_verifier_init(&v);
	v.key = &key;
	v.pub_id = N;
	memcpy(v.pub, c.hash[N - 1], sizeof(v.pub));
	for (int i = 0; i < N - 2; i++)         /* events 5 and 6 cut, the store's head at 4 */
		assert_int_equal(audit_verify_event(&v, &c.ev[i], &e), 0);
	assert_int_equal(audit_verify_head(&v, N - 2, c.hash[N - 3], &e), -1);
	assert_non_null(strstr(e.msg, "event 5 is missing"));
	assert_non_null(strstr(e.msg, "published outside the store"));
}

static void
test_audit_verify_names_an_event_that_is_not_the_published_head(void **state)
{
	struct chain c;
	struct audit_verifier v;
	struct err e;

	(void)state;
	build_chain(&c);
	audit_verifier_init(&v);
	v.key = &key;
	v.pub_id = 4;
	memset(v.pub, 'a', AUDIT_HASH_HEXLEN);  /* event 4 had another link when published */
	assert_int_equal(walk(&v, &c, &e), 4);
	assert_non_null(strstr(e.msg, "not the head published"));
}

static void
test_audit_verify_head_refuses_an_unkeyed_chain_when_a_key_is_set(void **state)
{
	struct audit_verifier v;
	struct store_event ev = { .id = 1, .action = "allocate" };
	char h[AUDIT_HASH_HEXLEN + 1];
	char *canon = audit_event_canonical(&ev);
	struct err e;

	(void)state;
	audit_chain_hash(AUDIT_GENESIS, canon, h);
	free(canon);
	ev.hash = h;
	audit_verifier_init(&v);
	v.key = &key;
	assert_int_equal(audit_verify_event(&v, &ev, &e), 0);
	assert_int_equal(audit_verify_head(&v, 1, h, &e), -1);
	assert_non_null(strstr(e.msg, "unkeyed although [daemon] audit_key_file is set"));
	v.key = NULL;                           /* no key configured: an unkeyed chain is fine */
	assert_int_equal(audit_verify_head(&v, 1, h, &e), 0);
}

/* Writes n bytes to a new file of mode m in a temporary directory; returns its path. */
static const char *
key_file(size_t n, mode_t m)
{
	static char path[64];
	FILE *fp;

	snprintf(path, sizeof(path), "/tmp/test_audit_key.%ld", (long)getpid());
	unlink(path);
	assert_non_null(fp = fopen(path, "w"));
	for (size_t i = 0; i < n; i++)
		fputc((int)(i * 7 + 1), fp);
	fclose(fp);
	assert_int_equal(chmod(path, m), 0);
	return path;
}

static void
test_audit_key_load_takes_a_private_file_of_32_bytes_or_more(void **state)
{
	struct audit_key k;
	struct err e;
	const char *p;

	(void)state;
	assert_int_equal(audit_key_load(key_file(32, 0600), &k, &e), 0);
	assert_int_equal(k.len, 32);
	assert_int_equal(audit_key_load(key_file(65, 0400), &k, &e), 0);
	assert_int_equal(k.len, 65);
	assert_int_equal(audit_key_load(key_file(32, 0644), &k, &e), -1);
	assert_string_equal(e.code, "conf-invalid");
	assert_non_null(strstr(e.msg, "mode 0644 lets group or others read it"));
	assert_int_equal(audit_key_load(key_file(32, 0640), &k, &e), -1);
	assert_non_null(strstr(e.msg, "mode 0640"));
	assert_int_equal(audit_key_load(key_file(32, 0604), &k, &e), -1);
	assert_int_equal(audit_key_load(key_file(31, 0600), &k, &e), -1);
	assert_non_null(strstr(e.msg, "31 bytes, want at least 32"));
	assert_int_equal(audit_key_load(key_file(0, 0600), &k, &e), -1);
	assert_int_equal(audit_key_load(key_file(AUDIT_KEY_MAX + 1, 0600), &k, &e), -1);
	assert_non_null(strstr(e.msg, "longer than"));
	p = key_file(0, 0600);
	unlink(p);
	assert_int_equal(audit_key_load(p, &k, &e), -1);
	assert_non_null(strstr(e.msg, "No such file"));
	assert_int_equal(audit_key_load("/tmp", &k, &e), -1);
	assert_non_null(strstr(e.msg, "not a regular file"));
}

static void
test_audit_head_is_written_in_place_and_refuses_a_forged_mac(void **state)
{
	char path[64], hash[AUDIT_HASH_HEXLEN + 1], got[AUDIT_HASH_HEXLEN + 1];
	struct audit_key other;
	uint64_t id = 0;
	struct err e;
	FILE *fp;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_audit_head.%ld", (long)getpid());
	unlink(path);
	assert_int_equal(audit_head_read(path, &key, &id, got, &e), 1);   /* none yet */
	assert_true((fd = audit_head_open(path, &e)) >= 0);
	assert_int_equal(audit_head_read(path, &key, &id, got, &e), 1);   /* empty */
	assert_false(audit_head_replaced(fd, path));
	audit_chain_hash(AUDIT_GENESIS, "{}", hash);
	assert_int_equal(audit_head_write(fd, &key, 9, hash, &e), 0);
	assert_int_equal(audit_head_write(fd, &key, 42, hash, &e), 0);   /* in place */
	assert_int_equal(audit_head_read(path, &key, &id, got, &e), 0);
	assert_int_equal(id, 42);
	assert_string_equal(got, hash);
	audit_key_set(&other, "another key, 32 bytes long......", 32);
	assert_int_equal(audit_head_read(path, &other, &id, got, &e), -1);
	assert_non_null(strstr(e.msg, "does not check"));
	assert_non_null(fp = fopen(path, "w"));  /* a later head with the MAC of another id */
	fprintf(fp, "43 %s %s\n", hash, hash);
	fclose(fp);
	assert_int_equal(audit_head_read(path, &key, &id, got, &e), -1);
	assert_string_equal(e.code, "audit-broken");
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "garbage\n");
	fclose(fp);
	assert_int_equal(audit_head_read(path, &key, &id, got, &e), -1);
	assert_non_null(strstr(e.msg, "malformed"));
	unlink(path);
	assert_true(audit_head_replaced(fd, path));                 /* removed */
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	assert_true(audit_head_replaced(fd, path));                 /* another file */
	close(fd);
	unlink(path);
}

int
main(void)
{
	unsigned char k[32];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_chain_hmac_is_hmac_sha256_of_prev_newline_canonical),
		cmocka_unit_test(test_audit_verify_accepts_unkeyed_then_keyed_segments),
		cmocka_unit_test(test_audit_verify_names_an_event_rehashed_without_the_key),
		cmocka_unit_test(test_audit_verify_names_a_rehashed_unkeyed_segment_at_the_switch),
		cmocka_unit_test(test_audit_verify_without_a_key_refuses_a_keyed_chain),
		cmocka_unit_test(test_audit_verify_head_names_the_first_event_cut_below_the_published_head),
		cmocka_unit_test(test_audit_verify_names_an_event_that_is_not_the_published_head),
		cmocka_unit_test(test_audit_verify_head_refuses_an_unkeyed_chain_when_a_key_is_set),
		cmocka_unit_test(test_audit_key_load_takes_a_private_file_of_32_bytes_or_more),
		cmocka_unit_test(test_audit_head_is_written_in_place_and_refuses_a_forged_mac),
	};

	for (int i = 0; i < 32; i++)
		k[i] = (unsigned char)i;
	audit_key_set(&key, k, sizeof(k));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
