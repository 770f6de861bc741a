/*
 * bmp_parse — the bounds-checked BMP reader (format, bounds and departures from the RFCs are
 * in bmp.h). Pure: it reads the caller's bytes, allocates nothing and keeps no state.
 *
 * Every read goes through a struct rd, a cursor over [p, end): rd_u8/u16/u32/take fail with
 * BMP_E_TRUNCATED instead of reading past the end, and each container is parsed from its own
 * sub-reader whose end is the container's declared length, so a field can never borrow bytes
 * from what follows it. Sub-parsers return a negative enum bmp_error after filling e.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bmp.h"

struct rd {
	const uint8_t *p, *end;
	const char *what;           /* the container being read, for the error text */
};

static size_t
rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

/* Fills e with the code of rc and "WHAT: message". Returns rc. */
static int __attribute__((format(printf, 4, 5)))
rd_fail(struct err *e, int rc, const char *what, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX / 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(e, bmp_strerror(rc), "%s: %s", what, msg);
	return rc;
}

static int
rd_need(struct rd *r, size_t n, struct err *e)
{
	if (rd_left(r) < n)
		return rd_fail(e, BMP_E_TRUNCATED, r->what, "needs %zu bytes, %zu left", n,
		    rd_left(r));
	return 0;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* Takes n bytes: *out points at them. */
static int
rd_take(struct rd *r, size_t n, const uint8_t **out, struct err *e)
{
	if (rd_need(r, n, e) < 0)
		return BMP_E_TRUNCATED;
	*out = r->p;
	r->p += n;
	return 0;
}

/* A sub-reader over the next n bytes, named what. */
static int
rd_sub(struct rd *r, size_t n, const char *what, struct rd *sub, struct err *e)
{
	const uint8_t *p;

	if (rd_take(r, n, &p, e) < 0)
		return BMP_E_TRUNCATED;
	sub->p = p;
	sub->end = p + n;
	sub->what = what;
	return 0;
}

/* The reader must be consumed exactly. */
static int
rd_done(const struct rd *r, struct err *e)
{
	if (rd_left(r) != 0)
		return rd_fail(e, BMP_E_LENGTH, r->what, "%zu bytes left over", rd_left(r));
	return 0;
}

const char *
bmp_strerror(int rc)
{
	switch (rc) {
	case BMP_OK: return "ok";
	case BMP_E_TRUNCATED: return "bmp-truncated";
	case BMP_E_VERSION: return "bmp-bad-version";
	case BMP_E_LENGTH: return "bmp-bad-length";
	case BMP_E_TOO_BIG: return "bmp-too-big";
	case BMP_E_PEER_HDR: return "bmp-bad-peer-header";
	case BMP_E_BGP: return "bmp-bad-bgp-message";
	case BMP_E_ATTR: return "bmp-bad-attribute";
	case BMP_E_ASPATH: return "bmp-bad-as-path";
	case BMP_E_NLRI: return "bmp-bad-nlri";
	case BMP_E_TLV: return "bmp-bad-tlv";
	case BMP_E_PEER_DOWN: return "bmp-bad-peer-down";
	}
	return "bmp-error";
}

const char *
bmp_view_name(int view)
{
	static const char *const names[BMP_VIEW_COUNT] = {
		"pre-policy", "post-policy", "loc-rib", "adj-out-pre", "adj-out-post",
	};
	return view >= 0 && view < BMP_VIEW_COUNT ? names[view] : "?";
}

const char *
bmp_msg_type_name(int type)
{
	static const char *const names[] = {
		"route-monitoring", "statistics", "peer-down", "peer-up", "initiation",
		"termination", "route-mirroring",
	};
	return type >= 0 && type <= BMP_ROUTE_MIRRORING ? names[type] : "unknown";
}

int
bmp_frame(const uint8_t *p, size_t len, size_t max, size_t *msglen, struct err *e)
{
	uint32_t l;

	*msglen = 0;
	if (len >= 1 && p[0] != BMP_VERSION) {
		err_set(e, bmp_strerror(BMP_E_VERSION), "common header: version %u, want 3",
		    p[0]);
		return BMP_E_VERSION;
	}
	if (len < BMP_COMMON_HDR_LEN)
		return 0;
	l = get32(p + 1);
	if (l < BMP_COMMON_HDR_LEN) {
		err_set(e, bmp_strerror(BMP_E_LENGTH), "common header: length %u below 6",
		    (unsigned)l);
		return BMP_E_LENGTH;
	}
	if (max > BMP_MSG_MAX)
		max = BMP_MSG_MAX;
	if (l > max) {
		err_set(e, bmp_strerror(BMP_E_TOO_BIG), "common header: length %u above %zu",
		    (unsigned)l, max);
		return BMP_E_TOO_BIG;
	}
	*msglen = l;
	return len >= l ? 1 : 0;
}

/* ---- TLVs ---------------------------------------------------------------------------- */

/* Size a Statistics TLV of this type must have; 0 for types we do not know (any size). */
static size_t
stat_size(uint16_t type)
{
	if (type <= 6 || (type >= 11 && type <= 13))
		return 4;
	if (type == 7 || type == 8 || type == 14 || type == 15)
		return 8;
	if (type == 9 || type == 10 || type == 16 || type == 17)
		return 11;
	return 0;
}

/* Checks a TLV list fills r exactly. stats: count TLVs with Statistics sizes. */
static int
tlv_check(struct rd *r, bool stats, uint32_t count, struct err *e)
{
	uint32_t n = 0;

	while (rd_left(r) > 0) {
		const uint8_t *h, *v;
		uint16_t type, len;
		size_t want;

		if (rd_take(r, 4, &h, e) < 0)
			return BMP_E_TRUNCATED;
		type = get16(h);
		len = get16(h + 2);
		if (rd_left(r) < len)
			return rd_fail(e, BMP_E_TLV, r->what, "TLV value of %u bytes, %zu left", len,
			    rd_left(r));
		(void)rd_take(r, len, &v, e);
		if (stats && (want = stat_size(type)) != 0 && len != want)
			return rd_fail(e, BMP_E_TLV, r->what, "statistic type %u has length %u",
			    type, len);
		n++;
	}
	if (stats && n != count)
		return rd_fail(e, BMP_E_TLV, r->what, "count %u but %u TLVs", count, n);
	return 0;
}

void
bmp_tlv_begin(struct bmp_tlv_iter *it, const struct bmp_span *s)
{
	it->p = s->p;
	it->end = s->len ? s->p + s->len : s->p;
}

bool
bmp_tlv_next(struct bmp_tlv_iter *it, struct bmp_tlv *out)
{
	if (it->end - it->p < 4)
		return false;
	out->type = get16(it->p);
	out->len = get16(it->p + 2);
	out->value = it->p + 4;
	it->p += 4 + (size_t)out->len;
	return true;
}

uint64_t
bmp_stat_value(const struct bmp_tlv *t)
{
	switch (t->len) {
	case 4: return get32(t->value);
	case 8: return get64(t->value);
	case 11: return get64(t->value + 3);
	}
	return 0;
}

/* ---- per-peer header ----------------------------------------------------------------- */

static int
peer_parse(struct rd *r, struct bmp_peer *pp, struct err *e)
{
	const uint8_t *h;
	int fam;

	r->what = "per-peer header";
	if (rd_take(r, BMP_PEER_HDR_LEN, &h, e) < 0)
		return BMP_E_TRUNCATED;
	pp->type = h[0];
	pp->flags = h[1];
	if (pp->type > BMP_PEER_LOC_RIB) {
		err_set(e, bmp_strerror(BMP_E_PEER_HDR), "per-peer header: peer type %u",
		    pp->type);
		return BMP_E_PEER_HDR;
	}
	pp->distinguisher = get64(h + 2);
	fam = pp->type != BMP_PEER_LOC_RIB && (pp->flags & BMP_PEER_FLAG_V) ? CIDR_V6 : CIDR_V4;
	if (fam == CIDR_V6)
		pp->addr = cidr_make(CIDR_V6, get64(h + 10), get64(h + 18), 128);
	else
		pp->addr = cidr_make(CIDR_V4, (uint64_t)get32(h + 22) << 32, 0, 32);
	pp->as = get32(h + 26);
	pp->bgp_id = get32(h + 30);
	pp->ts_sec = get32(h + 34);
	pp->ts_usec = get32(h + 38);
	if (pp->type == BMP_PEER_LOC_RIB)
		pp->view = BMP_VIEW_LOC_RIB;
	else if (pp->flags & BMP_PEER_FLAG_O)
		pp->view = pp->flags & BMP_PEER_FLAG_L ? BMP_VIEW_ADJ_OUT_POST : BMP_VIEW_ADJ_OUT_PRE;
	else
		pp->view = pp->flags & BMP_PEER_FLAG_L ? BMP_VIEW_POST_POLICY : BMP_VIEW_PRE_POLICY;
	return 0;
}

/* ---- BGP messages -------------------------------------------------------------------- */

/* Reads a BGP header from r and gives the message body in *body; the BGP length must equal
 * the bytes r frames when exact, else fit in them. */
static int
bgp_msg(struct rd *r, uint8_t want_type, bool exact, const char *what, struct rd *body,
    struct err *e)
{
	static const uint8_t marker[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	const uint8_t *h;
	uint16_t len;

	r->what = what;
	if (rd_take(r, BMP_BGP_HDR_LEN, &h, e) < 0)
		return BMP_E_TRUNCATED;
	if (memcmp(h, marker, sizeof(marker)) != 0) {
		err_set(e, bmp_strerror(BMP_E_BGP), "%s: BGP marker is not all ones", what);
		return BMP_E_BGP;
	}
	len = get16(h + 16);
	if (h[18] != want_type) {
		err_set(e, bmp_strerror(BMP_E_BGP), "%s: BGP type %u, want %u", what, h[18],
		    want_type);
		return BMP_E_BGP;
	}
	if (len < BMP_BGP_HDR_LEN || (size_t)(len - BMP_BGP_HDR_LEN) > rd_left(r) ||
	    (exact && (size_t)(len - BMP_BGP_HDR_LEN) != rd_left(r)))
		return rd_fail(e, BMP_E_BGP, what, "BGP length %u, %zu bytes framed", len,
		    rd_left(r) + BMP_BGP_HDR_LEN);
	return rd_sub(r, len - BMP_BGP_HDR_LEN, what, body, e);
}

/* Optional parameters of an OPEN: capabilities (type 2), looking for 4-byte AS (65). */
static int
open_params(struct rd *r, struct bmp_open *o, bool ext, struct err *e)
{
	while (rd_left(r) > 0) {
		const uint8_t *h;
		struct rd par;
		size_t plen;

		if (rd_take(r, ext ? 3 : 2, &h, e) < 0)
			return BMP_E_TRUNCATED;
		plen = ext ? get16(h + 1) : h[1];
		if (rd_sub(r, plen, r->what, &par, e) < 0)
			return BMP_E_TRUNCATED;
		while (h[0] == 2 && rd_left(&par) > 0) {
			const uint8_t *c, *v;

			if (rd_take(&par, 2, &c, e) < 0 || rd_take(&par, c[1], &v, e) < 0)
				return BMP_E_TRUNCATED;
			if (c[0] == 65) {
				if (c[1] != 4)
					return rd_fail(e, BMP_E_BGP, r->what,
					    "4-byte AS capability of %u bytes", c[1]);
				o->as = get32(v);
				o->as4 = true;
			}
		}
	}
	return 0;
}

static int
open_parse(struct rd *r, const char *what, struct bmp_open *o, struct err *e)
{
	struct rd b;
	const uint8_t *h;
	size_t optlen;
	bool ext = false;
	int rc;

	if ((rc = bgp_msg(r, 1, false, what, &b, e)) < 0)
		return rc;
	if (rd_take(&b, 10, &h, e) < 0)
		return BMP_E_TRUNCATED;
	memset(o, 0, sizeof(*o));
	o->version = h[0];
	o->as = get16(h + 1);
	o->hold_time = get16(h + 3);
	o->bgp_id = get32(h + 5);
	optlen = h[9];
	/* RFC 9072: extended optional parameters length. */
	if (optlen == 255 && rd_left(&b) >= 3 && b.p[0] == 255) {
		optlen = get16(b.p + 1);
		b.p += 3;
		ext = true;
	}
	if (optlen != rd_left(&b))
		return rd_fail(e, BMP_E_BGP, what, "optional parameters length %zu, %zu bytes left",
		    optlen, rd_left(&b));
	return open_params(&b, o, ext, e);
}

/* ---- UPDATE -------------------------------------------------------------------------- */

/* Checks an NLRI run of a family fills r exactly. */
static int
nlri_check(struct rd *r, int family, struct err *e)
{
	unsigned max = cidr_maxlen(family);

	while (rd_left(r) > 0) {
		unsigned plen = r->p[0];
		size_t n = (plen + 7) / 8;

		if (plen > max)
			return rd_fail(e, BMP_E_NLRI, r->what, "prefix length %u above %u", plen,
			    max);
		if (rd_left(r) - 1 < n)
			return rd_fail(e, BMP_E_NLRI, r->what, "prefix needs %zu bytes, %zu left", n,
			    rd_left(r) - 1);
		r->p += 1 + n;
	}
	return 0;
}

size_t
bmp_nlri_count(const struct bmp_span *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->len; i += 1 + ((size_t)s->p[i] + 7) / 8)
		n++;
	return n;
}

void
bmp_nlri_begin(struct bmp_nlri_iter *it, const struct bmp_span *s, int family)
{
	it->p = s->p;
	it->end = s->len ? s->p + s->len : s->p;       /* an absent span is NULL */
	it->family = (uint8_t)family;
}

bool
bmp_nlri_next(struct bmp_nlri_iter *it, struct cidr *out)
{
	uint8_t a[16] = { 0 };
	unsigned plen, n;

	if (it->p >= it->end)
		return false;
	plen = it->p[0];
	n = (plen + 7) / 8;
	memcpy(a, it->p + 1, n);
	it->p += 1 + n;
	if (it->family == CIDR_V4)
		*out = cidr_make(CIDR_V4, (uint64_t)get32(a) << 32, 0, plen);
	else
		*out = cidr_make(CIDR_V6, get64(a), get64(a + 8), plen);
	return true;
}

static int
aspath_check(struct rd *r, struct bmp_update *u, struct err *e)
{
	bool last_seq = false;
	uint32_t last = 0;

	r->what = "AS_PATH";
	u->as_path.p = r->p;
	u->as_path.len = rd_left(r);
	while (rd_left(r) > 0) {
		const uint8_t *h, *v;

		if (rd_take(r, 2, &h, e) < 0)
			return BMP_E_TRUNCATED;
		if (h[0] < 1 || h[0] > 4)
			return rd_fail(e, BMP_E_ASPATH, r->what, "segment type %u", h[0]);
		if (h[1] == 0)
			return rd_fail(e, BMP_E_ASPATH, r->what, "empty segment (type %u)", h[0]);
		if (rd_left(r) < (size_t)h[1] * u->asn_size)
			return rd_fail(e, BMP_E_ASPATH, r->what, 
			    "segment of %u ASNs overflows the attribute (%zu bytes left)", h[1],
			    rd_left(r));
		(void)rd_take(r, (size_t)h[1] * u->asn_size, &v, e);
		if (u->as_path_len == 0)
			u->first_as = u->asn_size == 4 ? get32(v) : get16(v);
		u->as_path_len += h[1];
		last_seq = h[0] == 2;
		last = u->asn_size == 4 ? get32(v + (h[1] - 1) * 4) : get16(v + (h[1] - 1) * 2);
	}
	u->origin_known = last_seq;
	u->origin_as = last_seq ? last : 0;
	return 0;
}

static int
family_of(uint16_t afi, uint8_t safi)
{
	if (safi != 1)
		return 0;
	return afi == 1 ? CIDR_V4 : afi == 2 ? CIDR_V6 : 0;
}

static int
mp_reach(struct rd *r, struct bmp_update *u, struct err *e)
{
	const uint8_t *h, *nh, *rsv;
	int fam;

	r->what = "MP_REACH_NLRI";
	if (rd_take(r, 4, &h, e) < 0)
		return BMP_E_TRUNCATED;
	if ((fam = family_of(get16(h), h[2])) == 0) {
		u->mp_other++;
		return 0;
	}
	if (h[3] > sizeof(u->mp_reach_nh) || rd_take(r, h[3], &nh, e) < 0 ||
	    rd_take(r, 1, &rsv, e) < 0)
		return rd_fail(e, BMP_E_ATTR, r->what, "next hop length %u in %zu bytes", h[3],
		    rd_left(r));
	u->mp_reach_family = (uint8_t)fam;
	u->mp_reach_nh_len = h[3];
	memcpy(u->mp_reach_nh, nh, h[3]);
	u->mp_reach.p = r->p;
	u->mp_reach.len = rd_left(r);
	return nlri_check(r, fam, e);
}

static int
mp_unreach(struct rd *r, struct bmp_update *u, struct err *e)
{
	const uint8_t *h;
	int fam;

	r->what = "MP_UNREACH_NLRI";
	if (rd_take(r, 3, &h, e) < 0)
		return BMP_E_TRUNCATED;
	if ((fam = family_of(get16(h), h[2])) == 0) {
		u->mp_other++;
		return 0;
	}
	u->mp_unreach_family = (uint8_t)fam;
	u->mp_unreach.p = r->p;
	u->mp_unreach.len = rd_left(r);
	return nlri_check(r, fam, e);
}

/* One attribute we read, its value in r. */
static int
attr_value(uint8_t type, struct rd *r, struct bmp_update *u, struct err *e)
{
	size_t len = rd_left(r);

	switch (type) {
	case 1:
		if (len != 1 || r->p[0] > 2)
			return rd_fail(e, BMP_E_ATTR, "ORIGIN", "ORIGIN of %zu bytes, value %u", len,
			    len ? r->p[0] : 0u);
		u->has_origin = true;
		u->origin = r->p[0];
		return 0;
	case 2:
		u->has_as_path = true;
		return aspath_check(r, u, e);
	case 3:
	case 4:
	case 5:
		if (len != 4)
			return rd_fail(e, BMP_E_ATTR, "path attribute",
			    "type %u of %zu bytes, want 4", type, len);
		if (type == 3) {
			u->has_next_hop = true;
			u->next_hop = get32(r->p);
		} else if (type == 4) {
			u->has_med = true;
			u->med = get32(r->p);
		} else {
			u->has_local_pref = true;
			u->local_pref = get32(r->p);
		}
		return 0;
	case 8:
	case 32:
		if (len % (type == 8 ? 4 : 12) != 0)
			return rd_fail(e, BMP_E_ATTR, type == 8 ?
			    "COMMUNITIES" : "LARGE_COMMUNITY", "%zu bytes", len);
		if (type == 8)
			u->communities = (struct bmp_span){ r->p, len };
		else
			u->large_communities = (struct bmp_span){ r->p, len };
		return 0;
	case 14:
		return mp_reach(r, u, e);
	case 15:
		return mp_unreach(r, u, e);
	}
	return 0;
}

static int
attrs_parse(struct rd *r, struct bmp_update *u, struct err *e)
{
	static const uint8_t known[] = { 1, 2, 3, 4, 5, 8, 14, 15, 32 };
	uint64_t seen = 0;

	while (rd_left(r) > 0) {
		const uint8_t *h, *l;
		struct rd v;
		size_t len;
		int rc;

		r->what = "path attributes";
		if (rd_take(r, 2, &h, e) < 0)
			return BMP_E_TRUNCATED;
		if (rd_take(r, (h[0] & 0x10) ? 2 : 1, &l, e) < 0)
			return BMP_E_TRUNCATED;
		len = (h[0] & 0x10) ? get16(l) : l[0];
		if (rd_left(r) < len)
			return rd_fail(e, BMP_E_ATTR, r->what,
			    "attribute type %u of %zu bytes overflows", h[1], len);
		(void)rd_sub(r, len, "path attribute", &v, e);
		if (memchr(known, h[1], sizeof(known)) == NULL)
			continue;
		if (seen & (1ull << (h[1] & 63)))
			return rd_fail(e, BMP_E_ATTR, r->what, "attribute type %u repeated",
			    h[1]);
		seen |= 1ull << (h[1] & 63);
		if ((rc = attr_value(h[1], &v, u, e)) < 0)
			return rc;
	}
	return 0;
}

static int
update_parse(struct rd *r, const struct bmp_peer *pp, struct bmp_update *u, struct err *e)
{
	struct rd b, w, a;
	const uint8_t *l;
	size_t attr_len;
	int rc;

	memset(u, 0, sizeof(*u));
	u->asn_size = pp->type != BMP_PEER_LOC_RIB && (pp->flags & BMP_PEER_FLAG_A) ? 2 : 4;
	if ((rc = bgp_msg(r, 2, true, "UPDATE", &b, e)) < 0)
		return rc;
	if (rd_take(&b, 2, &l, e) < 0 || rd_sub(&b, get16(l), "withdrawn routes", &w, e) < 0)
		return BMP_E_TRUNCATED;
	u->withdrawn = (struct bmp_span){ w.p, rd_left(&w) };
	if ((rc = nlri_check(&w, CIDR_V4, e)) < 0)
		return rc;
	b.what = "UPDATE";
	if (rd_take(&b, 2, &l, e) < 0 || rd_sub(&b, get16(l), "path attributes", &a, e) < 0)
		return BMP_E_TRUNCATED;
	attr_len = get16(l);
	if ((rc = attrs_parse(&a, u, e)) < 0)
		return rc;
	u->nlri = (struct bmp_span){ b.p, rd_left(&b) };
	b.what = "NLRI";
	if ((rc = nlri_check(&b, CIDR_V4, e)) < 0)
		return rc;
	u->end_of_rib = u->withdrawn.len == 0 && u->nlri.len == 0 && u->mp_reach_family == 0 &&
	    (attr_len == 0 ||
	    (u->mp_unreach_family != 0 && u->mp_unreach.len == 0 && !u->has_as_path));
	return 0;
}

void
bmp_aspath_begin(struct bmp_aspath_iter *it, const struct bmp_update *u)
{
	it->p = u->as_path.p;
	it->end = u->as_path.len ? u->as_path.p + u->as_path.len : u->as_path.p;
	it->left = 0;
	it->seg_type = 0;
	it->asn_size = u->asn_size;
}

bool
bmp_aspath_next(struct bmp_aspath_iter *it, uint32_t *asn, uint8_t *seg_type)
{
	if (it->left == 0) {
		if (it->end - it->p < 2)
			return false;
		it->seg_type = it->p[0];
		it->left = it->p[1];
		it->p += 2;
	}
	*asn = it->asn_size == 4 ? get32(it->p) : get16(it->p);
	*seg_type = it->seg_type;
	it->p += it->asn_size;
	it->left--;
	return true;
}

/* Appends to buf as snprintf would, keeping the total length in *n. */
static void __attribute__((format(printf, 4, 5)))
fmt_append(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(buf + (*n < size ? *n : size), *n < size ? size - *n : 0, fmt, ap);
	va_end(ap);
	*n += w > 0 ? (size_t)w : 0;
}

size_t
bmp_aspath_format(const struct bmp_update *u, char *buf, size_t size)
{
	static const char *const open[] = { "", "{", "", "(", "[" };
	static const char *const close[] = { "", "}", "", ")", "]" };
	const uint8_t *p = u->as_path.p, *end = u->as_path.len ? p + u->as_path.len : p;
	size_t n = 0;

	if (size)
		buf[0] = '\0';
	while (end - p >= 2) {
		uint8_t type = p[0], cnt = p[1];
		bool set = type == 1 || type == 4;

		p += 2;
		fmt_append(buf, size, &n, "%s%s", n ? " " : "", open[type]);
		for (unsigned i = 0; i < cnt; i++, p += u->asn_size)
			fmt_append(buf, size, &n, "%s%u", i == 0 ? "" : set ? "," : " ",
			    u->asn_size == 4 ? get32(p) : get16(p));
		fmt_append(buf, size, &n, "%s", close[type]);
	}
	return n;
}

uint32_t
bmp_community(const struct bmp_update *u, size_t i)
{
	return get32(u->communities.p + 4 * i);
}

struct bmp_large_community
bmp_large_community(const struct bmp_update *u, size_t i)
{
	const uint8_t *p = u->large_communities.p + 12 * i;

	return (struct bmp_large_community){ get32(p), get32(p + 4), get32(p + 8) };
}

/* ---- message bodies ------------------------------------------------------------------ */

static int
peer_up_parse(struct rd *r, const struct bmp_peer *pp, struct bmp_peer_up *up, struct err *e)
{
	const uint8_t *h;
	int rc;

	r->what = "peer up";
	if (rd_take(r, 20, &h, e) < 0)
		return BMP_E_TRUNCATED;
	if (pp->type != BMP_PEER_LOC_RIB && (pp->flags & BMP_PEER_FLAG_V))
		up->local_addr = cidr_make(CIDR_V6, get64(h), get64(h + 8), 128);
	else
		up->local_addr = cidr_make(CIDR_V4, (uint64_t)get32(h + 12) << 32, 0, 32);
	up->local_port = get16(h + 16);
	up->remote_port = get16(h + 18);
	if ((rc = open_parse(r, "peer up: sent OPEN", &up->sent, e)) < 0 ||
	    (rc = open_parse(r, "peer up: received OPEN", &up->received, e)) < 0)
		return rc;
	up->tlvs = (struct bmp_span){ r->p, rd_left(r) };
	r->what = "peer up: information TLVs";
	return tlv_check(r, false, 0, e);
}

static int
peer_down_parse(struct rd *r, struct bmp_peer_down *d, struct err *e)
{
	const uint8_t *h;
	struct rd b;
	int rc;

	r->what = "peer down";
	if (rd_take(r, 1, &h, e) < 0)
		return BMP_E_TRUNCATED;
	d->reason = h[0];
	switch (d->reason) {
	case 1:
	case 3:
		if ((rc = bgp_msg(r, 3, true, "peer down: NOTIFICATION", &b, e)) < 0)
			return rc;
		if (rd_take(&b, 2, &h, e) < 0)
			return BMP_E_TRUNCATED;
		d->notify_code = h[0];
		d->notify_subcode = h[1];
		return 0;
	case 2:
		if (rd_left(r) != 2)
			return rd_fail(e, BMP_E_PEER_DOWN, r->what,
			    "reason 2 with %zu bytes, want 2", rd_left(r));
		d->fsm_event = get16(r->p);
		r->p += 2;
		return 0;
	case 4:
	case 5:
		if (rd_left(r) != 0)
			return rd_fail(e, BMP_E_PEER_DOWN, r->what, "reason %u with %zu bytes, want none",
			    d->reason, rd_left(r));
		return 0;
	case 6:
		d->tlvs = (struct bmp_span){ r->p, rd_left(r) };
		return tlv_check(r, false, 0, e);
	}
	return rd_fail(e, BMP_E_PEER_DOWN, r->what, "unknown reason %u", d->reason);
}

static int
body_parse(struct rd *r, struct bmp_msg *m, struct err *e)
{
	const uint8_t *h;
	int rc;

	switch (m->type) {
	case BMP_ROUTE_MONITORING:
		return update_parse(r, &m->peer, &m->u.update, e);
	case BMP_PEER_UP:
		return peer_up_parse(r, &m->peer, &m->u.up, e);
	case BMP_PEER_DOWN:
		return peer_down_parse(r, &m->u.down, e);
	case BMP_STATISTICS:
		r->what = "statistics";
		if (rd_take(r, 4, &h, e) < 0)
			return BMP_E_TRUNCATED;
		m->u.stats.count = get32(h);
		m->u.stats.tlvs = (struct bmp_span){ r->p, rd_left(r) };
		return tlv_check(r, true, m->u.stats.count, e);
	case BMP_INITIATION:
	case BMP_TERMINATION:
	case BMP_ROUTE_MIRRORING:
		r->what = bmp_msg_type_name(m->type);
		m->u.tlvs = (struct bmp_span){ r->p, rd_left(r) };
		if ((rc = tlv_check(r, false, 0, e)) < 0)
			return rc;
		if (m->type == BMP_TERMINATION) {
			struct bmp_tlv_iter it;
			struct bmp_tlv t;

			bmp_tlv_begin(&it, &m->u.tlvs);
			while (bmp_tlv_next(&it, &t))
				if (t.type == 1 && t.len != 2)
					return rd_fail(e, BMP_E_TLV, "termination",
					    "reason TLV of %u bytes, want 2", t.len);
		}
		return 0;
	}
	return 0;
}

int
bmp_parse(const uint8_t *p, size_t len, struct bmp_msg *m, struct err *e)
{
	struct rd r = { p, p + len, "common header" };
	size_t msglen;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = bmp_frame(p, len, BMP_MSG_MAX, &msglen, e)) < 0)
		return rc;
	if (rc == 0 || msglen != len) {
		err_set(e, bmp_strerror(BMP_E_LENGTH), "common header: length %zu, %zu bytes given",
		    msglen, len);
		return BMP_E_LENGTH;
	}
	r.p += BMP_COMMON_HDR_LEN;
	m->wire_type = p[5];
	m->type = p[5] <= BMP_ROUTE_MIRRORING ? p[5] : BMP_UNKNOWN;
	m->length = (uint32_t)len;
	if (m->type == BMP_UNKNOWN)
		return 0;
	if (m->type != BMP_INITIATION && m->type != BMP_TERMINATION) {
		m->has_peer = true;
		if ((rc = peer_parse(&r, &m->peer, e)) < 0)
			return rc;
	}
	if ((rc = body_parse(&r, m, e)) < 0)
		return rc;
	r.what = bmp_msg_type_name(m->type);
	return rd_done(&r, e);
}
