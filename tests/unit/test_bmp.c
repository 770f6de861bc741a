/*
 * Unit tests of the BMP reader (bgp/bmp_parse.c, pure). The first half decodes real BMP that
 * gobgpd 3.10 sent (tests/unit/data/bmp_gobgp.bin, recorded by tests/tools/bmp_capture.sh)
 * message by message and checks every field; the second half feeds hostile input — every
 * truncation of every captured message, lengths past the end, an AS_PATH segment overflowing
 * its attribute, bad versions, 10 MB of garbage — and wants a refusal with a code, never a
 * read out of bounds (the ASan build runs this too).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmp.h"
#include "unit_bmp.h"

#define CAPTURE_MSGS UNIT_BMP_CAPTURE_MSGS

static uint8_t capture[UNIT_BMP_CAPTURE_LEN + 1];
static size_t capture_len;
static size_t msg_off[CAPTURE_MSGS + 1];

static void
load_capture(void)
{
	if (capture_len)
		return;
	unit_bmp_capture(capture, msg_off);
	capture_len = UNIT_BMP_CAPTURE_LEN;
}

/* Frames and parses every captured message; *m[i] is message i. */
static void
parse_capture(struct bmp_msg *m)
{
	size_t off = 0, len;
	struct err e;
	int i = 0;

	load_capture();
	while (off < capture_len) {
		assert_true(i < CAPTURE_MSGS);
		assert_int_equal(bmp_frame(capture + off, capture_len - off, BMP_MSG_MAX, &len, &e),
		    1);
		if (bmp_parse(capture + off, len, &m[i], &e) != 0)
			fail_msg("message %d: %s: %s", i, e.code, e.msg);
		msg_off[i++] = off;
		off += len;
	}
	msg_off[i] = off;
	assert_int_equal(i, CAPTURE_MSGS);
	assert_int_equal(off, capture_len);
}

static void
assert_addr(const struct cidr *c, const char *want)
{
	char buf[CIDR_STRLEN];

	assert_string_equal(cidr_format_addr(c, buf, sizeof(buf)), want);
}

static void
assert_tlv(struct bmp_tlv_iter *it, uint16_t type, const char *value)
{
	struct bmp_tlv t;

	assert_true(bmp_tlv_next(it, &t));
	assert_int_equal(t.type, type);
	assert_int_equal(t.len, strlen(value));
	assert_memory_equal(t.value, value, t.len);
}

static void
test_capture_initiation_names_the_router(void **state)
{
	struct bmp_msg m[CAPTURE_MSGS];
	struct bmp_tlv_iter it;
	struct bmp_tlv t;

	(void)state;
	parse_capture(m);
	assert_int_equal(m[0].type, BMP_INITIATION);
	assert_int_equal(m[0].length, 25);
	assert_false(m[0].has_peer);
	bmp_tlv_begin(&it, &m[0].u.tlvs);
	assert_tlv(&it, 2, "GoBGP");            /* sysName */
	assert_tlv(&it, 1, "3.10.0");           /* sysDescr */
	assert_false(bmp_tlv_next(&it, &t));
}

struct want_peer {
	const char *addr;
	uint32_t as, bgp_id;
	uint8_t flags, view;
	uint32_t ts;
};

static void
assert_peer(const struct bmp_msg *m, const struct want_peer *w)
{
	assert_true(m->has_peer);
	assert_int_equal(m->peer.type, w->view == BMP_VIEW_LOC_RIB ? BMP_PEER_LOC_RIB :
	    BMP_PEER_GLOBAL);
	assert_int_equal(m->peer.distinguisher, 0);
	assert_addr(&m->peer.addr, w->addr);
	assert_int_equal(m->peer.as, w->as);
	assert_int_equal(m->peer.bgp_id, w->bgp_id);
	assert_int_equal(m->peer.flags, w->flags);
	assert_int_equal(m->peer.view, w->view);
	assert_int_equal(m->peer.ts_sec, w->ts);
	assert_int_equal(m->peer.ts_usec, 0);
}

#define EDGE4 "192.0.2.1", 64500, 0xc0000201
#define EDGE6 "2001:db8:ffff::1", 64500, 0xc0000201
#define ONPREM "192.0.2.3", 64496, 0xc0000203
#define LOCRIB "0.0.0.0", 64501, 0xc0000202
#define PRE 0x00, BMP_VIEW_PRE_POLICY
#define POST 0x40, BMP_VIEW_POST_POLICY
#define PRE6 0x80, BMP_VIEW_PRE_POLICY
#define POST6 0xc0, BMP_VIEW_POST_POLICY
#define LOC 0x00, BMP_VIEW_LOC_RIB
#define T0 1796356210u

static void
test_capture_peer_up_gives_both_opens(void **state)
{
	static const struct {
		struct want_peer peer;
		const char *local;
		uint16_t lport, rport;
	} want[] = {
		{ { EDGE6, PRE6, T0 }, "2001:db8:ffff::2", 179, 33347 },
		{ { EDGE4, PRE, T0 + 2 }, "192.0.2.2", 45537, 179 },
		{ { ONPREM, PRE, T0 + 4 }, "192.0.2.2", 37447, 179 },
	};
	struct bmp_msg m[CAPTURE_MSGS];

	(void)state;
	parse_capture(m);
	for (int i = 0; i < 3; i++) {
		const struct bmp_peer_up *up = &m[1 + i].u.up;

		assert_int_equal(m[1 + i].type, BMP_PEER_UP);
		assert_peer(&m[1 + i], &want[i].peer);
		assert_addr(&up->local_addr, want[i].local);
		assert_int_equal(up->local_port, want[i].lport);
		assert_int_equal(up->remote_port, want[i].rport);
		assert_int_equal(up->sent.version, 4);
		assert_int_equal(up->sent.as, 64501);
		assert_true(up->sent.as4);
		assert_int_equal(up->sent.bgp_id, 0xc0000202);
		assert_int_equal(up->sent.hold_time, 90);
		assert_int_equal(up->received.as, want[i].peer.as);
		assert_true(up->received.as4);
		assert_int_equal(up->received.bgp_id, want[i].peer.bgp_id);
		assert_int_equal(up->received.hold_time, 90);
		assert_int_equal(up->tlvs.len, 0);
	}
}

struct want_rm {
	struct want_peer peer;
	char sign;                  /* '+' announced, '-' withdrawn */
	const char *prefix;
	uint32_t origin_as;
	bool origin_known;
	const char *path;
	uint32_t first_as;
	uint32_t next_hop;          /* IPv4 NEXT_HOP, or 0 for MP_REACH (16-byte next hop) */
	uint32_t comm;              /* 0: none */
	struct bmp_large_community lcomm;
};

#define OURS4 "203.0.113.0/24", 64500, true, "64500", 64500, 0xc0000201, 64500u << 16 | 100, \
	{ 64500, 1, 2 }
#define OURS6 "2001:db8:1000::/48", 64500, true, "64500", 64500, 0, 64500u << 16 | 200, \
	{ 64500, 3, 4 }
#define SET4 "198.51.100.0/24", 0, false, "64500 4200000001 {64511,64512}", 64500, 0xc0000201, \
	0, { 0, 0, 0 }
#define HIJACK "203.0.113.0/25", 64496, true, "64496", 64496, 0xc0000203, 0, { 0, 0, 0 }
#define GONE(p) p, 0, false, NULL, 0, 0, 0, { 0, 0, 0 }

static const struct want_rm want_rm[] = {
	{ { EDGE4, PRE, T0 + 4 }, '+', OURS4 },
	{ { EDGE4, POST, T0 + 4 }, '+', OURS4 },
	{ { LOCRIB, LOC, T0 + 4 }, '+', OURS4 },
	{ { EDGE6, PRE6, T0 + 4 }, '+', OURS6 },
	{ { EDGE6, POST6, T0 + 4 }, '+', OURS6 },
	{ { LOCRIB, LOC, T0 + 4 }, '+', OURS6 },
	{ { EDGE4, PRE, T0 + 4 }, '+', SET4 },
	{ { EDGE4, POST, T0 + 4 }, '+', SET4 },
	{ { LOCRIB, LOC, T0 + 4 }, '+', SET4 },
	{ { ONPREM, PRE, T0 + 4 }, '+', HIJACK },
	{ { ONPREM, POST, T0 + 4 }, '+', HIJACK },
	{ { LOCRIB, LOC, T0 + 4 }, '+', HIJACK },
	{ { ONPREM, PRE, T0 + 5 }, '-', GONE("203.0.113.0/25") },
	{ { ONPREM, POST, T0 + 5 }, '-', GONE("203.0.113.0/25") },
	{ { LOCRIB, LOC, T0 + 4 }, '-', GONE("203.0.113.0/25") },
};

static void
assert_one_prefix(const struct bmp_span *s, int family, const char *want)
{
	struct bmp_nlri_iter it;
	struct cidr c;
	char buf[CIDR_STRLEN];

	assert_int_equal(bmp_nlri_count(s), 1);
	bmp_nlri_begin(&it, s, family);
	assert_true(bmp_nlri_next(&it, &c));
	assert_string_equal(cidr_format(&c, buf, sizeof(buf)), want);
	assert_false(bmp_nlri_next(&it, &c));
}

static void
assert_rm(const struct bmp_msg *m, const struct want_rm *w)
{
	const struct bmp_update *u = &m->u.update;
	bool v6 = strchr(w->prefix, ':') != NULL;
	char path[128];

	assert_int_equal(m->type, BMP_ROUTE_MONITORING);
	assert_peer(m, &w->peer);
	assert_false(u->end_of_rib);
	assert_int_equal(u->mp_other, 0);
	if (w->sign == '-') {
		assert_int_equal(u->nlri.len + u->mp_reach.len, 0);
		assert_false(u->has_as_path);
		if (v6)
			assert_one_prefix(&u->mp_unreach, u->mp_unreach_family, w->prefix);
		else
			assert_one_prefix(&u->withdrawn, CIDR_V4, w->prefix);
		return;
	}
	assert_int_equal(u->withdrawn.len + u->mp_unreach.len, 0);
	if (v6) {
		assert_int_equal(u->nlri.len, 0);
		assert_int_equal(u->mp_reach_family, CIDR_V6);
		assert_int_equal(u->mp_reach_nh_len, 16);
		assert_memory_equal(u->mp_reach_nh, "\x20\x01\x0d\xb8\xff\xff\0\0\0\0\0\0\0\0\0\1",
		    16);
		assert_one_prefix(&u->mp_reach, CIDR_V6, w->prefix);
		assert_false(u->has_next_hop);
	} else {
		assert_int_equal(u->mp_reach_family, 0);
		assert_one_prefix(&u->nlri, CIDR_V4, w->prefix);
		assert_true(u->has_next_hop);
		assert_int_equal(u->next_hop, w->next_hop);
	}
	assert_true(u->has_origin);
	assert_int_equal(u->origin, 2);           /* gobgp's default: INCOMPLETE */
	assert_false(u->has_med);
	assert_false(u->has_local_pref);
	assert_true(u->has_as_path);
	assert_int_equal(u->asn_size, 4);
	assert_int_equal(u->origin_known, w->origin_known);
	assert_int_equal(u->origin_as, w->origin_as);
	assert_int_equal(u->first_as, w->first_as);
	assert_int_equal(bmp_aspath_format(u, path, sizeof(path)), strlen(w->path));
	assert_string_equal(path, w->path);
	assert_int_equal(bmp_community_count(u), w->comm ? 1 : 0);
	if (w->comm)
		assert_int_equal(bmp_community(u, 0), w->comm);
	assert_int_equal(bmp_large_community_count(u), w->lcomm.global ? 1 : 0);
	if (w->lcomm.global) {
		struct bmp_large_community l = bmp_large_community(u, 0);
		assert_int_equal(l.global, w->lcomm.global);
		assert_int_equal(l.local1, w->lcomm.local1);
		assert_int_equal(l.local2, w->lcomm.local2);
	}
}

static void
test_capture_route_monitoring_every_field(void **state)
{
	struct bmp_msg m[CAPTURE_MSGS];

	(void)state;
	parse_capture(m);
	for (size_t i = 0; i < sizeof(want_rm) / sizeof(want_rm[0]); i++)
		assert_rm(&m[4 + i], &want_rm[i]);
	/* After the peer down, gobgpd's shutdown withdraws the /24 from two views; its Loc-RIB
	 * per-peer header then carries AS 0 and BGP ID 0 (as sent). */
	assert_rm(&m[23], &(struct want_rm){ { EDGE4, POST, T0 + 4 }, '-',
	    GONE("203.0.113.0/24") });
	assert_rm(&m[24], &(struct want_rm){ { "0.0.0.0", 0, 0, LOC, T0 + 4 }, '-',
	    GONE("203.0.113.0/24") });
}

static void
test_capture_path_iterator_walks_sets(void **state)
{
	struct bmp_msg m[CAPTURE_MSGS];
	struct bmp_aspath_iter it;
	static const uint32_t asn[] = { 64500, 4200000001u, 64511, 64512 };
	static const uint8_t seg[] = { 2, 2, 1, 1 };
	uint32_t a;
	uint8_t s;

	(void)state;
	parse_capture(m);
	assert_int_equal(m[10].u.update.as_path_len, 4);
	bmp_aspath_begin(&it, &m[10].u.update);
	for (int i = 0; i < 4; i++) {
		assert_true(bmp_aspath_next(&it, &a, &s));
		assert_int_equal(a, asn[i]);
		assert_int_equal(s, seg[i]);
	}
	assert_false(bmp_aspath_next(&it, &a, &s));
}

static void
test_capture_statistics_and_peer_down(void **state)
{
	static const struct {
		struct want_peer peer;
		uint64_t v[4];
	} want[] = {
		{ { EDGE4, PRE, T0 + 10 }, { 2, 2, 0, 0 } },
		{ { EDGE6, PRE6, T0 + 10 }, { 1, 1, 0, 0 } },
		{ { ONPREM, PRE, T0 + 10 }, { 0, 0, 1, 1 } },
	};
	static const uint16_t types[4] = { 7, 8, 11, 12 };
	struct bmp_msg m[CAPTURE_MSGS];
	struct bmp_tlv_iter it;
	struct bmp_tlv t;

	(void)state;
	parse_capture(m);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(m[19 + i].type, BMP_STATISTICS);
		assert_peer(&m[19 + i], &want[i].peer);
		assert_int_equal(m[19 + i].u.stats.count, 4);
		bmp_tlv_begin(&it, &m[19 + i].u.stats.tlvs);
		for (int j = 0; j < 4; j++) {
			assert_true(bmp_tlv_next(&it, &t));
			assert_int_equal(t.type, types[j]);
			assert_int_equal(bmp_stat_value(&t), want[i].v[j]);
		}
		assert_false(bmp_tlv_next(&it, &t));
	}
	assert_int_equal(m[22].type, BMP_PEER_DOWN);
	assert_peer(&m[22], &(struct want_peer){ ONPREM, PRE, T0 + 10 });
	assert_int_equal(m[22].u.down.reason, 1);        /* local close with a NOTIFICATION */
	assert_int_equal(m[22].u.down.notify_code, 6);   /* Cease */
	assert_int_equal(m[22].u.down.notify_subcode, 2); /* administrative shutdown */
}

/* ---- hostile input ------------------------------------------------------------------- */

static void
test_refuses_every_truncation_of_every_captured_message(void **state)
{
	struct bmp_msg m[CAPTURE_MSGS], x;
	struct err e;
	size_t n;

	(void)state;
	parse_capture(m);
	for (int i = 0; i < CAPTURE_MSGS; i++) {
		size_t len = msg_off[i + 1] - msg_off[i];
		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *p = malloc(cut ? cut : 1);   /* exact size: ASan sees any overread */

			memcpy(p, capture + msg_off[i], cut);
			assert_int_equal(bmp_frame(p, cut, BMP_MSG_MAX, &n, NULL), 0);
			assert_true(bmp_parse(p, cut, &x, &e) < 0);
			assert_non_null(e.code);
			/* The same cut with the common header's length rewritten to fit (the
			 * Initiation cut after zero or one TLV is a whole message: skipped). */
			if (cut >= BMP_COMMON_HDR_LEN && !(i == 0 && (cut == 6 || cut == 15))) {
				p[1] = (uint8_t)(cut >> 24);
				p[2] = (uint8_t)(cut >> 16);
				p[3] = (uint8_t)(cut >> 8);
				p[4] = (uint8_t)cut;
				if (bmp_parse(p, cut, &x, &e) == 0)
					fail_msg("message %d cut at %zu accepted", i, cut);
			}
			free(p);
		}
	}
}

static void
test_refuses_bad_version(void **state)
{
	uint8_t p[25];
	struct bmp_msg m;
	struct err e;
	size_t n;

	(void)state;
	load_capture();
	memcpy(p, capture, sizeof(p));
	for (unsigned v = 0; v < 256; v++) {
		if (v == 3)
			continue;
		p[0] = (uint8_t)v;
		assert_int_equal(bmp_frame(p, 1, BMP_MSG_MAX, &n, &e), BMP_E_VERSION);
		assert_int_equal(bmp_parse(p, sizeof(p), &m, &e), BMP_E_VERSION);
		assert_string_equal(e.code, "bmp-bad-version");
	}
}

static void
test_refuses_lengths_past_the_end_and_above_the_cap(void **state)
{
	uint8_t p[25];
	struct bmp_msg m;
	struct err e;
	size_t n;

	(void)state;
	load_capture();
	memcpy(p, capture, sizeof(p));
	p[4] = 26;                              /* one byte more than there is */
	assert_int_equal(bmp_frame(p, sizeof(p), BMP_MSG_MAX, &n, &e), 0);
	assert_int_equal(n, 26);
	assert_int_equal(bmp_parse(p, sizeof(p), &m, &e), BMP_E_LENGTH);
	p[4] = 5;                               /* below the header */
	assert_int_equal(bmp_frame(p, sizeof(p), BMP_MSG_MAX, &n, &e), BMP_E_LENGTH);
	memcpy(p + 1, "\xff\xff\xff\xff", 4);   /* 4 GB */
	assert_int_equal(bmp_frame(p, 6, BMP_MSG_MAX, &n, &e), BMP_E_TOO_BIG);
	assert_string_equal(e.code, "bmp-too-big");
	memcpy(p + 1, "\0\0\x10\0", 4);         /* 4096, above a smaller cap */
	assert_int_equal(bmp_frame(p, 6, 4095, &n, &e), BMP_E_TOO_BIG);
	assert_int_equal(bmp_frame(p, 6, 4096, &n, &e), 0);
	/* A TLV that claims more than the message holds. */
	memcpy(p, capture, sizeof(p));
	p[9] = 6;
	assert_int_equal(bmp_parse(p, sizeof(p), &m, &e), BMP_E_TLV);
}

/* A copy of captured message i, to be edited. */
static uint8_t *
copy_msg(int i, size_t *len)
{
	struct bmp_msg m[CAPTURE_MSGS];
	uint8_t *p;

	parse_capture(m);
	*len = msg_off[i + 1] - msg_off[i];
	p = malloc(*len);
	memcpy(p, capture + msg_off[i], *len);
	return p;
}

static void
test_refuses_as_path_segment_overflowing_the_attribute(void **state)
{
	struct bmp_msg m;
	struct err e;
	size_t len, at;
	uint8_t *p = copy_msg(10, &len);        /* "64500 4200000001 {64511,64512}" */

	(void)state;
	assert_int_equal(bmp_parse(p, len, &m, &e), 0);
	at = (size_t)(m.u.update.as_path.p - p);
	assert_int_equal(p[at], 2);             /* AS_SEQUENCE of 2 */
	assert_int_equal(p[at + 1], 2);
	assert_int_equal(p[at + 10], 1);        /* AS_SET of 2, the last segment */
	assert_int_equal(p[at + 11], 2);
	p[at + 11] = 3;                         /* one ASN more than the attribute holds */
	assert_int_equal(bmp_parse(p, len, &m, &e), BMP_E_ASPATH);
	assert_string_equal(e.code, "bmp-bad-as-path");
	assert_non_null(strstr(e.msg, "overflows"));
	p[at + 11] = 2;
	p[at + 1] = 3;                          /* the first segment eats the second's header */
	assert_int_equal(bmp_parse(p, len, &m, &e), BMP_E_ASPATH);
	p[at + 1] = 0;                          /* an empty segment */
	assert_int_equal(bmp_parse(p, len, &m, &e), BMP_E_ASPATH);
	p[at + 1] = 2;
	assert_int_equal(bmp_parse(p, len, &m, &e), 0);
	p[at] = 9;                              /* unknown segment type */
	assert_int_equal(bmp_parse(p, len, &m, &e), BMP_E_ASPATH);
	p[at] = 2;
	p[at + 10] = 2;                         /* the set has room for 2 ASNs, now 1 left over */
	p[at + 11] = 1;
	assert_int_equal(bmp_parse(p, len, &m, &e), BMP_E_ASPATH);
	free(p);
}

static void
test_refuses_bgp_and_nlri_errors(void **state)
{
	struct bmp_msg m;
	struct err e;
	size_t len, nlri;
	uint8_t *p = copy_msg(4, &len);         /* + 203.0.113.0/24 */

	(void)state;
	assert_int_equal(bmp_parse(p, len, &m, &e), 0);
	nlri = (size_t)(m.u.update.nlri.p - p);
	p[nlri] = 33;                           /* /33 */
	assert_int_equal(bmp_parse(p, len, &m, &e), BMP_E_NLRI);
	p[nlri] = 32;                           /* /32 needs one byte more than there is */
	assert_int_equal(bmp_parse(p, len, &m, &e), BMP_E_NLRI);
	p[nlri] = 25;                           /* /25 needs a fourth byte too */
	assert_int_equal(bmp_parse(p, len, &m, &e), BMP_E_NLRI);
	p[nlri] = 24;
	p[6 + 42 + 5] = 0;                      /* BGP marker */
	assert_int_equal(bmp_parse(p, len, &m, &e), BMP_E_BGP);
	p[6 + 42 + 5] = 0xff;
	p[6 + 42 + 17]++;                       /* BGP length one past the BMP message */
	assert_int_equal(bmp_parse(p, len, &m, &e), BMP_E_BGP);
	p[6 + 42 + 17]--;
	p[6 + 42 + 18] = 4;                     /* a KEEPALIVE where an UPDATE must be */
	assert_int_equal(bmp_parse(p, len, &m, &e), BMP_E_BGP);
	p[6 + 42 + 18] = 2;
	p[6] = 4;                               /* unknown peer type */
	assert_int_equal(bmp_parse(p, len, &m, &e), BMP_E_PEER_HDR);
	p[6] = 0;
	assert_int_equal(bmp_parse(p, len, &m, &e), 0);
	free(p);
}

static void
test_nlri_host_bits_are_cleared(void **state)
{
	struct bmp_msg m;
	struct err e;
	struct bmp_nlri_iter it;
	struct cidr c;
	char buf[CIDR_STRLEN];
	size_t len, nlri;
	uint8_t *p = copy_msg(4, &len);

	(void)state;
	assert_int_equal(bmp_parse(p, len, &m, &e), 0);
	nlri = (size_t)(m.u.update.nlri.p - p);
	p[nlri] = 20;                           /* 203.0.113 read as a /20: bits past 20 set */
	assert_int_equal(bmp_parse(p, len, &m, &e), 0);
	bmp_nlri_begin(&it, &m.u.update.nlri, CIDR_V4);
	assert_true(bmp_nlri_next(&it, &c));
	assert_string_equal(cidr_format(&c, buf, sizeof(buf)), "203.0.112.0/20");
	free(p);
}

/* Builds a Route Monitoring message around an UPDATE body (withdrawn + attrs + NLRI). */
static size_t
build_rm(uint8_t *out, uint8_t peer_flags, const uint8_t *upd, size_t ulen)
{
	size_t len = 6 + 42 + 19 + ulen;

	memset(out, 0, len);
	out[0] = 3;
	out[1] = (uint8_t)(len >> 24);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
	out[5] = BMP_ROUTE_MONITORING;
	out[7] = peer_flags;
	memset(out + 48, 0xff, 16);
	out[64] = (uint8_t)((19 + ulen) >> 8);
	out[65] = (uint8_t)(19 + ulen);
	out[66] = 2;
	memcpy(out + 67, upd, ulen);
	return len;
}

static void
test_end_of_rib_and_two_byte_paths(void **state)
{
	static const uint8_t eor4[] = { 0, 0, 0, 0 };
	static const uint8_t eor6[] = { 0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1 };
	/* AS_PATH with 2-byte ASNs (the A flag): SEQUENCE 64500 23456, then 10.0.0.0/8. */
	static const uint8_t as2[] = { 0, 0, 0, 9, 0x40, 2, 6, 2, 2, 0xfb, 0xf4, 0x5b, 0xa0,
		8, 10 };
	static const uint8_t dup[] = { 0, 0, 0, 8, 0x40, 1, 1, 0, 0x40, 1, 1, 0 };
	static const uint8_t badorigin[] = { 0, 0, 0, 4, 0x40, 1, 1, 3 };
	static const uint8_t badcomm[] = { 0, 0, 0, 6, 0xc0, 8, 3, 1, 2, 3 };
	static const uint8_t other_mp[] = { 0, 0, 0, 6, 0x80, 15, 3, 0, 1, 128 };
	uint8_t buf[256];
	struct bmp_msg m;
	struct err e;
	char path[64];
	size_t n;

	(void)state;
	n = build_rm(buf, 0, eor4, sizeof(eor4));
	assert_int_equal(bmp_parse(buf, n, &m, &e), 0);
	assert_true(m.u.update.end_of_rib);
	n = build_rm(buf, 0, eor6, sizeof(eor6));
	assert_int_equal(bmp_parse(buf, n, &m, &e), 0);
	assert_true(m.u.update.end_of_rib);
	assert_int_equal(m.u.update.mp_unreach_family, CIDR_V6);
	n = build_rm(buf, BMP_PEER_FLAG_A, as2, sizeof(as2));
	assert_int_equal(bmp_parse(buf, n, &m, &e), 0);
	assert_int_equal(m.u.update.asn_size, 2);
	assert_int_equal(m.u.update.origin_as, 23456);
	bmp_aspath_format(&m.u.update, path, sizeof(path));
	assert_string_equal(path, "64500 23456");
	assert_false(m.u.update.end_of_rib);
	n = build_rm(buf, 0, as2, sizeof(as2));  /* the same bytes read as 4-byte ASNs */
	assert_int_equal(bmp_parse(buf, n, &m, &e), BMP_E_ASPATH);
	n = build_rm(buf, 0, dup, sizeof(dup));
	assert_int_equal(bmp_parse(buf, n, &m, &e), BMP_E_ATTR);
	n = build_rm(buf, 0, badorigin, sizeof(badorigin));
	assert_int_equal(bmp_parse(buf, n, &m, &e), BMP_E_ATTR);
	n = build_rm(buf, 0, badcomm, sizeof(badcomm));
	assert_int_equal(bmp_parse(buf, n, &m, &e), BMP_E_ATTR);
	n = build_rm(buf, 0, other_mp, sizeof(other_mp));  /* AFI 1 SAFI 128: skipped */
	assert_int_equal(bmp_parse(buf, n, &m, &e), 0);
	assert_int_equal(m.u.update.mp_other, 1);
	/* A trailing byte after the UPDATE. */
	n = build_rm(buf, 0, eor4, sizeof(eor4));
	buf[4]++;
	buf[n] = 0;
	assert_int_equal(bmp_parse(buf, n + 1, &m, &e), BMP_E_BGP);
}

static void
test_termination_and_peer_down_reasons(void **state)
{
	static const uint8_t term_ok[] = { 3, 0, 0, 0, 12, 5, 0, 1, 0, 2, 0, 1 };
	static const uint8_t term_bad[] = { 3, 0, 0, 0, 13, 5, 0, 1, 0, 3, 0, 0, 1 };
	uint8_t down[6 + 42 + 3];
	struct bmp_msg m;
	struct err e;

	(void)state;
	assert_int_equal(bmp_parse(term_ok, sizeof(term_ok), &m, &e), 0);
	assert_int_equal(m.type, BMP_TERMINATION);
	assert_int_equal(bmp_parse(term_bad, sizeof(term_bad), &m, &e), BMP_E_TLV);
	memset(down, 0, sizeof(down));
	down[0] = 3;
	down[4] = sizeof(down);
	down[5] = BMP_PEER_DOWN;
	down[48] = 2;                           /* FSM event, 2 bytes */
	down[50] = 7;
	assert_int_equal(bmp_parse(down, sizeof(down), &m, &e), 0);
	assert_int_equal(m.u.down.fsm_event, 7);
	down[4] = sizeof(down) - 1;
	assert_int_equal(bmp_parse(down, sizeof(down) - 1, &m, &e), BMP_E_PEER_DOWN);
	down[48] = 4;                           /* no data allowed */
	assert_int_equal(bmp_parse(down, sizeof(down) - 1, &m, &e), BMP_E_PEER_DOWN);
	down[4] = 6 + 42 + 1;
	assert_int_equal(bmp_parse(down, 6 + 42 + 1, &m, &e), 0);
	down[4] = sizeof(down) - 1;
	down[48] = 9;
	assert_int_equal(bmp_parse(down, sizeof(down) - 1, &m, &e), BMP_E_PEER_DOWN);
	down[5] = 42;                           /* unknown message type: framed, not read */
	assert_int_equal(bmp_parse(down, sizeof(down) - 1, &m, &e), 0);
	assert_int_equal(m.type, BMP_UNKNOWN);
	assert_int_equal(m.wire_type, 42);
}

static uint64_t rng = 88172645463325252ull;

static uint64_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
test_ten_megabytes_of_garbage_are_refused_cleanly(void **state)
{
	size_t len = 10u << 20, off = 0, n, refused = 0;
	uint8_t *g = malloc(len);
	struct bmp_msg m;
	struct err e;

	(void)state;
	for (size_t i = 0; i < len; i++)
		g[i] = (uint8_t)xorshift();
	/* Every 4 KB a plausible header (version 3, a small length) so the body parsers run. */
	for (size_t i = 0; i + 6 < len; i += 4096) {
		g[i] = 3;
		g[i + 1] = g[i + 2] = 0;
		g[i + 5] = (uint8_t)(xorshift() % 7);
	}
	while (off < len) {
		int rc = bmp_frame(g + off, len - off, BMP_MSG_MAX, &n, &e);

		if (rc == 1 && bmp_parse(g + off, n, &m, &e) == 0) {
			off += n;
			continue;
		}
		if (rc == 0 && n == 0)
			break;
		assert_non_null(e.code);
		assert_memory_equal(e.code, "bmp-", 4);
		refused++;
		off++;                          /* resynchronise byte by byte, as a fuzzer would */
	}
	if (refused < len / 4 || off + BMP_COMMON_HDR_LEN < len)
		fail_msg("refused %zu, stopped at %zu of %zu", refused, off, len);
	free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_initiation_names_the_router),
		cmocka_unit_test(test_capture_peer_up_gives_both_opens),
		cmocka_unit_test(test_capture_route_monitoring_every_field),
		cmocka_unit_test(test_capture_path_iterator_walks_sets),
		cmocka_unit_test(test_capture_statistics_and_peer_down),
		cmocka_unit_test(test_refuses_every_truncation_of_every_captured_message),
		cmocka_unit_test(test_refuses_bad_version),
		cmocka_unit_test(test_refuses_lengths_past_the_end_and_above_the_cap),
		cmocka_unit_test(test_refuses_as_path_segment_overflowing_the_attribute),
		cmocka_unit_test(test_refuses_bgp_and_nlri_errors),
		cmocka_unit_test(test_nlri_host_bits_are_cleared),
		cmocka_unit_test(test_end_of_rib_and_two_byte_paths),
		cmocka_unit_test(test_termination_and_peer_down_reasons),
		cmocka_unit_test(test_ten_megabytes_of_garbage_are_refused_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
