/*
 * bmp_dump — prints a BMP byte stream (a capture file) one message per line with bgp/bmp.h's
 * reader, for tests/tools/bmp_capture.sh (which polls it until the capture holds what it
 * expects) and for people reading a capture. A trailing incomplete message is reported, not
 * an error (the router may be mid-write); a malformed one exits 1 with the reader's reason.
 *
 *   bmp_dump FILE
 *   route-monitoring post-policy peer=192.0.2.1 as=64500 + 203.0.113.0/24 origin=64500
 *       path="64500" comm=64500:1 lcomm=64500:1:2
 */
#include <stdio.h>
#include <stdlib.h>

#include "bmp.h"

static void
print_prefixes(const char *sign, const struct bmp_span *s, int family)
{
	struct bmp_nlri_iter it;
	struct cidr c;
	char buf[CIDR_STRLEN];

	bmp_nlri_begin(&it, s, family);
	while (bmp_nlri_next(&it, &c))
		printf(" %s %s", sign, cidr_format(&c, buf, sizeof(buf)));
}

static void
print_update(const struct bmp_update *u)
{
	char path[512];

	print_prefixes("-", &u->withdrawn, CIDR_V4);
	print_prefixes("-", &u->mp_unreach, u->mp_unreach_family);
	print_prefixes("+", &u->nlri, CIDR_V4);
	print_prefixes("+", &u->mp_reach, u->mp_reach_family);
	if (u->has_origin)
		printf(" attr-origin=%u", u->origin);
	if (u->has_next_hop)
		printf(" nh=%08x", u->next_hop);
	if (u->mp_reach_nh_len)
		printf(" mp-nh-len=%u", u->mp_reach_nh_len);
	if (u->has_med)
		printf(" med=%u", u->med);
	if (u->has_local_pref)
		printf(" lp=%u", u->local_pref);
	if (u->end_of_rib)
		printf(" end-of-rib");
	if (u->has_as_path) {
		bmp_aspath_format(u, path, sizeof(path));
		printf(" origin=%u path=\"%s\"", u->origin_known ? u->origin_as : 0, path);
	}
	for (size_t i = 0; i < bmp_community_count(u); i++) {
		uint32_t c = bmp_community(u, i);
		printf(" comm=%u:%u", c >> 16, c & 0xffff);
	}
	for (size_t i = 0; i < bmp_large_community_count(u); i++) {
		struct bmp_large_community l = bmp_large_community(u, i);
		printf(" lcomm=%u:%u:%u", l.global, l.local1, l.local2);
	}
}

static void
print_tlvs(const struct bmp_span *s)
{
	struct bmp_tlv_iter it;
	struct bmp_tlv t;

	bmp_tlv_begin(&it, s);
	while (bmp_tlv_next(&it, &t))
		printf(" tlv%u=\"%.*s\"", t.type, (int)t.len, (const char *)t.value);
}

static void
print_stats(const struct bmp_span *s)
{
	struct bmp_tlv_iter it;
	struct bmp_tlv t;

	bmp_tlv_begin(&it, s);
	while (bmp_tlv_next(&it, &t))
		printf(" stat%u=%llu", t.type, (unsigned long long)bmp_stat_value(&t));
}

static void
print_msg(const struct bmp_msg *m)
{
	char a[CIDR_STRLEN];

	printf("%s", bmp_msg_type_name(m->type));
	if (m->has_peer)
		printf(" %s peer=%s as=%u id=%08x flags=%02x ts=%u.%06u", bmp_view_name(m->peer.view),
		    cidr_format_addr(&m->peer.addr, a, sizeof(a)), m->peer.as, m->peer.bgp_id,
		    m->peer.flags, m->peer.ts_sec, m->peer.ts_usec);
	switch (m->type) {
	case BMP_ROUTE_MONITORING:
		print_update(&m->u.update);
		break;
	case BMP_PEER_UP:
		printf(" local=%s ports=%u,%u sent-as=%u/%08x/%u recv-as=%u/%08x/%u",
		    cidr_format_addr(&m->u.up.local_addr, a, sizeof(a)), m->u.up.local_port,
		    m->u.up.remote_port, m->u.up.sent.as, m->u.up.sent.bgp_id,
		    m->u.up.sent.hold_time, m->u.up.received.as, m->u.up.received.bgp_id,
		    m->u.up.received.hold_time);
		print_tlvs(&m->u.up.tlvs);
		break;
	case BMP_PEER_DOWN:
		printf(" reason=%u notify=%u/%u", m->u.down.reason, m->u.down.notify_code,
		    m->u.down.notify_subcode);
		break;
	case BMP_STATISTICS:
		printf(" count=%u", m->u.stats.count);
		print_stats(&m->u.stats.tlvs);
		break;
	case BMP_INITIATION:
	case BMP_TERMINATION:
		print_tlvs(&m->u.tlvs);
		break;
	}
	printf("\n");
}

int
main(int argc, char **argv)
{
	static uint8_t data[1 << 24];
	size_t len, off = 0, msglen;
	struct bmp_msg m;
	struct err e;
	FILE *f;

	if (argc != 2 || (f = fopen(argv[1], "rb")) == NULL) {
		fprintf(stderr, "usage: bmp_dump FILE\n");
		return 2;
	}
	len = fread(data, 1, sizeof(data), f);
	fclose(f);
	while (off < len) {
		int rc = bmp_frame(data + off, len - off, BMP_MSG_MAX, &msglen, &e);

		if (rc == 0) {
			printf("incomplete %zu of %zu bytes\n", len - off, msglen);
			return 0;
		}
		if (rc < 0 || bmp_parse(data + off, msglen, &m, &e) < 0) {
			fprintf(stderr, "bmp_dump: offset %zu: %s: %s\n", off, e.code, e.msg);
			return 1;
		}
		print_msg(&m);
		off += msglen;
	}
	return 0;
}
