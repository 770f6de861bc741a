/*
 * fuzz_bmp — libFuzzer target for the BMP reader (bgp/bmp_parse.c). The first input byte
 * picks a read cap for bmp_frame; the rest is a byte stream cut into messages the way the
 * station cuts a session's stream, and every message that parses is walked with every
 * iterator (NLRI, AS_PATH, communities, TLVs) and formatted, so a validated span that an
 * iterator could still overrun is found. Corpus: tests/fuzz/corpus/fuzz_bmp, seeded from
 * the gobgpd capture (one file per message, and the whole stream).
 */
#include <stddef.h>
#include <stdint.h>

#include "bmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
walk_nlri(const struct bmp_span *s, int family)
{
	struct bmp_nlri_iter it;
	struct cidr c;
	char buf[CIDR_STRLEN];

	if (family == 0)
		return;
	bmp_nlri_begin(&it, s, family);
	while (bmp_nlri_next(&it, &c))
		(void)cidr_format(&c, buf, sizeof(buf));
	(void)bmp_nlri_count(s);
}

/* Read by nobody: keeps the reads of TLV values from being optimised away. */
static volatile uint64_t sink;

static void
walk_tlvs(const struct bmp_span *s)
{
	struct bmp_tlv_iter it;
	struct bmp_tlv t;

	bmp_tlv_begin(&it, s);
	while (bmp_tlv_next(&it, &t))
		sink += bmp_stat_value(&t) + (t.len ? t.value[t.len - 1] : 0);
}

static void
walk(const struct bmp_msg *m)
{
	const struct bmp_update *u = &m->u.update;
	struct bmp_aspath_iter it;
	char path[64];
	uint32_t asn;
	uint8_t seg;

	switch (m->type) {
	case BMP_ROUTE_MONITORING:
		walk_nlri(&u->withdrawn, CIDR_V4);
		walk_nlri(&u->nlri, CIDR_V4);
		walk_nlri(&u->mp_reach, u->mp_reach_family);
		walk_nlri(&u->mp_unreach, u->mp_unreach_family);
		bmp_aspath_begin(&it, u);
		while (bmp_aspath_next(&it, &asn, &seg))
			;
		(void)bmp_aspath_format(u, path, sizeof(path));
		for (size_t i = 0; i < bmp_community_count(u); i++)
			(void)bmp_community(u, i);
		for (size_t i = 0; i < bmp_large_community_count(u); i++)
			(void)bmp_large_community(u, i);
		break;
	case BMP_PEER_UP:
		walk_tlvs(&m->u.up.tlvs);
		break;
	case BMP_PEER_DOWN:
		walk_tlvs(&m->u.down.tlvs);
		break;
	case BMP_STATISTICS:
		walk_tlvs(&m->u.stats.tlvs);
		break;
	case BMP_INITIATION:
	case BMP_TERMINATION:
	case BMP_ROUTE_MIRRORING:
		walk_tlvs(&m->u.tlvs);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max, off = 1, n;
	struct bmp_msg m;
	struct err e;

	if (size < 1)
		return 0;
	max = data[0] & 0x80 ? BMP_MSG_MAX : 64 + (size_t)data[0] * 64;
	while (off < size && bmp_frame(data + off, size - off, max, &n, &e) == 1) {
		if (bmp_parse(data + off, n, &m, &e) == 0)
			walk(&m);
		off += n;
	}
	return 0;
}
