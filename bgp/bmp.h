/*
 * bmp — the BGP Monitoring Protocol (RFC 7854, Loc-RIB per RFC 9069): a bounds-checked reader
 * of BMP messages (bmp_parse.c, pure: no loop, no allocation) and the station that listens for
 * routers on the loop and keeps what they see of our address space (bmp.c, below).
 *
 * ---- The reader ----------------------------------------------------------------------------
 *
 * Wire format (all integers big-endian). Every message starts with the common header:
 *
 *   version (1) = 3 | length (4): the whole message, header included | type (1)
 *
 *   type 0 Route Monitoring  per-peer header, then exactly one BGP UPDATE (19-byte BGP header)
 *   type 1 Statistics        per-peer header, count (4), count x { type (2), len (2), value }
 *   type 2 Peer Down         per-peer header, reason (1), data depending on the reason
 *   type 3 Peer Up           per-peer header, local address (16), local port (2), remote
 *                            port (2), the OPEN sent, the OPEN received, information TLVs
 *   type 4 Initiation        information TLVs { type (2), len (2), value }
 *   type 5 Termination       information TLVs; type 1 (reason) is exactly 2 bytes
 *   type 6 Route Mirroring   per-peer header, TLVs (framing checked, content not read)
 *
 * The per-peer header is 42 bytes: peer type (1), flags (1), distinguisher (8), address (16,
 * IPv4 in the last 4), AS (4), BGP ID (4), timestamp seconds (4) and microseconds (4). Peer
 * types: 0 global, 1 RD instance, 2 local instance, 3 Loc-RIB (RFC 9069). Flags for types
 * 0-2: V (0x80) IPv6 address, L (0x40) post-policy, A (0x20) 2-byte AS_PATH, O (0x10)
 * Adj-RIB-Out (RFC 8671); for type 3: F (0x80) the Loc-RIB is filtered. The view a route
 * belongs to (pre-policy, post-policy, Loc-RIB, Adj-RIB-Out) follows from the type and flags.
 *
 * Bounds. Nothing is read past `len`: every length field is checked against the bytes that
 * remain before it is used, and every container must be filled exactly by what it holds (a
 * BMP message by its body, a BGP message by its UPDATE, an attribute by its AS_PATH segments,
 * the TLV list by its TLVs, a Statistics message by its count of TLVs). A message longer than
 * BMP_MSG_MAX is refused from its header alone, before its body is awaited. Every refusal
 * returns a negative enum bmp_error and fills a struct err whose code is bmp_strerror(rc)
 * and whose message names the field and the offending value.
 *
 * What a parsed message holds. Pointers into the caller's bytes (valid while those are): the
 * UPDATE's IPv4 withdrawn routes and NLRI, the IPv6 (MP_REACH / MP_UNREACH) NLRI, the
 * AS_PATH, COMMUNITIES and LARGE_COMMUNITY attributes, the TLVs. All of them were validated
 * whole by bmp_parse, so the iterators below cannot fail.
 *
 * Where we depart from the RFCs (each a decision, not an oversight):
 *  - Only BMP version 3 is accepted (versions 1 and 2 were never standardised).
 *  - A Route Monitoring message must hold one UPDATE and nothing after it (RFC 7854 4.6);
 *    trailing bytes are refused rather than skipped.
 *  - NLRI host bits past the prefix length are cleared, not refused (RFC 4271 4.3 calls them
 *    irrelevant). A prefix length above 32 / 128 is refused.
 *  - ADD-PATH (RFC 7911) NLRI are not understood: without the Peer Up capabilities a path
 *    identifier cannot be told from a prefix, so such UPDATEs fail their exact length checks.
 *  - With the A flag (legacy 2-byte AS_PATH) the AS_PATH is read with 2-byte ASNs and AS4_PATH
 *    is not merged in: origins beyond 65535 then show as AS_TRANS (23456).
 *  - Attribute errors are not softened as RFC 7606 allows for BGP sessions: a malformed
 *    attribute we read (ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES, MP_REACH,
 *    MP_UNREACH, LARGE_COMMUNITY) or the same one twice refuses the whole message. Other
 *    attributes are skipped after their length is checked.
 *  - MP_REACH / MP_UNREACH of families other than IPv4 / IPv6 unicast are skipped (counted in
 *    mp_other); IPv4 unicast in MP_REACH is read like the IPv6 one.
 *  - No mandatory-attribute check: Loc-RIB and iBGP routes may carry an empty AS_PATH.
 *
 * ---- The station ---------------------------------------------------------------------------
 *
 * bmp.c listens for routers on the daemon's libev loop (off unless the composition root makes
 * one). A connection from an address outside `allow` is closed at once and logged; so is one
 * beyond max_sessions. Each session reads into its own buffer, at most max_msg bytes for one
 * message; a message the reader refuses closes that session only, with its reason logged
 * (the code and the text from bmp_parse), and never touches another session.
 *
 * What it keeps (bmp_rib.c). Only routes that concern our space: a route is kept when its
 * prefix equals, lies inside (more-specific) or contains (covering less-specific) a watched
 * prefix (bmp_set_watch). Every other prefix is counted (routes_outside) and forgotten at
 * once, so memory follows our space, not the table a vantage sends. A vantage point is a
 * router's peer in one view: (router session, peer type, distinguisher, peer address, view);
 * the peer AS and BGP ID are shown, not compared. A route is kept once per vantage point.
 *
 * Bounds (each refusal counted in struct bmp_station_stats):
 *   max_routes    routes kept, all vantage points together (default 65536). One route costs
 *                 a struct bmp_path (160 bytes on x86-64, the AS path kept as text of at most
 *                 BMP_ASPATH_TEXT bytes) plus, per distinct prefix, a tree node and a
 *                 struct bmp_rnode (32): with allocator overhead under 300 bytes, so at most
 *                 about 20 MB at the default (bench_bmp measures the growth). A route beyond
 *                 the cap is dropped (routes_dropped) and logged once per session.
 *   max_vantages  vantage points (default 1024), a table of 168-byte slots made up front.
 *   max_sessions  concurrent router sessions (default 16); max_msg bytes of buffer each
 *                 (default and most BMP_MSG_MAX, 256 KB).
 * A read callback handles at most BMP_READ_BUDGET bytes before it yields to the loop.
 *
 * What it tells. A subscriber (bmp_subscribe; one, the composition root wires it) hears every
 * change of a kept route: up, changed (origin or path), down (withdrawn, peer down, session
 * closed), each with the watched prefix it concerns and a verdict: the origin matches the
 * one declared for the watched prefix, or it does not (a hijack of the exact prefix), a
 * more-specific from our origin or from another one (a more-specific hijack), a covering
 * less-specific, or an origin that an AS_SET hides. The station never calls upward.
 * Where the AS_PATH is empty (a router's own route in its Loc-RIB, iBGP) the origin is the
 * per-peer header's AS (RFC 9069 puts the router's own AS there).
 *
 * A watch that changes keeps the routes still in scope and forgets the others (a ROUTE_DOWN
 * "unwatched" each);
 * routes that enter the scope are learnt from the next UPDATE a router sends (BMP has no
 * refresh), so the watch should be set before routers connect, and widened with care.
 */
#ifndef PREFIXD_BMP_H
#define PREFIXD_BMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "err.h"

#define BMP_VERSION 3
#define BMP_COMMON_HDR_LEN 6
#define BMP_PEER_HDR_LEN 42
#define BMP_BGP_HDR_LEN 19
/* The largest BMP message accepted: a Peer Up with two extended (RFC 8654) OPENs fits. */
#define BMP_MSG_MAX (1u << 18)

enum bmp_msg_type {
	BMP_ROUTE_MONITORING = 0,
	BMP_STATISTICS = 1,
	BMP_PEER_DOWN = 2,
	BMP_PEER_UP = 3,
	BMP_INITIATION = 4,
	BMP_TERMINATION = 5,
	BMP_ROUTE_MIRRORING = 6,
	BMP_UNKNOWN = 255,          /* a type we do not read: the framing was checked only */
};

/* Refusals. bmp_strerror gives the stable code an operator sees ("bmp-truncated", ...). */
enum bmp_error {
	BMP_OK = 0,
	BMP_E_TRUNCATED = -1,       /* a field runs past the end of the message */
	BMP_E_VERSION = -2,         /* common header version is not 3 */
	BMP_E_LENGTH = -3,          /* a length field disagrees with the bytes it frames */
	BMP_E_TOO_BIG = -4,         /* message length above the cap */
	BMP_E_PEER_HDR = -5,        /* per-peer header: unknown peer type */
	BMP_E_BGP = -6,             /* BGP message: marker, length or type */
	BMP_E_ATTR = -7,            /* a path attribute we read is malformed or repeated */
	BMP_E_ASPATH = -8,          /* AS_PATH segment type, count or overflow */
	BMP_E_NLRI = -9,            /* prefix length above the family's maximum, or cut */
	BMP_E_TLV = -10,            /* information / statistics TLV framing or size */
	BMP_E_PEER_DOWN = -11,      /* unknown reason or data that does not fit it */
};

enum bmp_peer_type {
	BMP_PEER_GLOBAL = 0,
	BMP_PEER_RD = 1,
	BMP_PEER_LOCAL = 2,
	BMP_PEER_LOC_RIB = 3,
};

enum bmp_view {
	BMP_VIEW_PRE_POLICY = 0,    /* Adj-RIB-In before the router's import policy */
	BMP_VIEW_POST_POLICY = 1,   /* Adj-RIB-In after it */
	BMP_VIEW_LOC_RIB = 2,       /* the router's best routes (RFC 9069) */
	BMP_VIEW_ADJ_OUT_PRE = 3,   /* Adj-RIB-Out (RFC 8671), before / after export policy */
	BMP_VIEW_ADJ_OUT_POST = 4,
};
#define BMP_VIEW_COUNT 5

#define BMP_PEER_FLAG_V 0x80
#define BMP_PEER_FLAG_L 0x40
#define BMP_PEER_FLAG_A 0x20
#define BMP_PEER_FLAG_O 0x10
#define BMP_PEER_FLAG_F 0x80        /* Loc-RIB only */

struct bmp_peer {
	uint8_t type;               /* enum bmp_peer_type */
	uint8_t flags;
	uint8_t view;               /* enum bmp_view */
	uint64_t distinguisher;
	struct cidr addr;           /* host prefix; 0.0.0.0/32 for Loc-RIB */
	uint32_t as;
	uint32_t bgp_id;            /* host order */
	uint32_t ts_sec, ts_usec;
};

/* A validated run of TLVs or NLRI inside the message. */
struct bmp_span {
	const uint8_t *p;
	size_t len;
};

/* The parts of a BGP OPEN the station uses. */
struct bmp_open {
	uint8_t version;
	uint32_t as;                /* the 4-byte AS capability when present, else My AS */
	uint16_t hold_time;
	uint32_t bgp_id;
	bool as4;                   /* the 4-byte AS capability (65) was present */
};

struct bmp_update {
	struct bmp_span withdrawn;  /* IPv4 withdrawn routes */
	struct bmp_span nlri;       /* IPv4 NLRI */
	struct bmp_span mp_reach;   /* MP_REACH NLRI (family in mp_reach_family) */
	struct bmp_span mp_unreach; /* MP_UNREACH withdrawn routes */
	uint8_t mp_reach_family;    /* CIDR_V4 / CIDR_V6, 0 when absent */
	uint8_t mp_unreach_family;
	uint8_t mp_reach_nh_len;
	uint8_t mp_reach_nh[32];    /* next hop(s) as sent (16 global [+ 16 link-local]) */
	uint16_t mp_other;          /* MP attributes of other families, skipped */
	bool has_origin;
	uint8_t origin;             /* 0 IGP, 1 EGP, 2 INCOMPLETE */
	bool has_next_hop;
	uint32_t next_hop;          /* IPv4 NEXT_HOP, host order */
	bool has_med, has_local_pref;
	uint32_t med, local_pref;
	bool has_as_path;
	uint8_t asn_size;           /* 4, or 2 with the A flag */
	struct bmp_span as_path;    /* the AS_PATH attribute's value */
	unsigned as_path_len;       /* ASNs in it, sets included */
	bool origin_known;          /* the last segment is an AS_SEQUENCE (RFC 6811 origin) */
	uint32_t origin_as;         /* its last ASN when origin_known */
	uint32_t first_as;          /* the first ASN of the path (the neighbour), 0 if empty */
	struct bmp_span communities;        /* n x 4 bytes */
	struct bmp_span large_communities;  /* n x 12 bytes */
	bool end_of_rib;            /* an empty UPDATE or an empty MP_UNREACH alone (RFC 4724) */
};

struct bmp_peer_up {
	struct cidr local_addr;
	uint16_t local_port, remote_port;
	struct bmp_open sent, received;
	struct bmp_span tlvs;       /* information TLVs (RFC 9069: VRF/table name is type 3) */
};

struct bmp_peer_down {
	uint8_t reason;             /* 1..6 */
	uint16_t fsm_event;         /* reason 2 */
	uint8_t notify_code, notify_subcode;  /* reasons 1 and 3 */
	struct bmp_span tlvs;       /* reason 6 (RFC 9069) */
};

struct bmp_stats {
	uint32_t count;
	struct bmp_span tlvs;
};

struct bmp_msg {
	uint8_t type;               /* enum bmp_msg_type */
	uint8_t wire_type;          /* the type byte as received */
	uint32_t length;            /* whole message */
	bool has_peer;              /* per-peer header present (types 0, 1, 2, 3, 6) */
	struct bmp_peer peer;
	union {
		struct bmp_update update;           /* ROUTE_MONITORING */
		struct bmp_peer_up up;              /* PEER_UP */
		struct bmp_peer_down down;          /* PEER_DOWN */
		struct bmp_stats stats;             /* STATISTICS */
		struct bmp_span tlvs;               /* INITIATION, TERMINATION, ROUTE_MIRRORING */
	} u;
};

/* A stable code for a refusal ("bmp-truncated", "bmp-bad-version", ...). */
const char *bmp_strerror(int rc);
/* "pre-policy", "post-policy", "loc-rib", "adj-out-pre", "adj-out-post" ("?" otherwise). */
const char *bmp_view_name(int view);
/* "route-monitoring", "statistics", ... ("unknown" for BMP_UNKNOWN). */
const char *bmp_msg_type_name(int type);

/*
 * Framing: looks at the first bytes of a stream. Returns 1 and *msglen when a whole message
 * of *msglen bytes is at p, 0 when more bytes are needed (*msglen is the full length once the
 * header is in, else 0), or a negative enum bmp_error when the header is already wrong
 * (version, a length below 6, a length above max). max <= BMP_MSG_MAX.
 */
int bmp_frame(const uint8_t *p, size_t len, size_t max, size_t *msglen, struct err *e);

/*
 * Parses one whole message of exactly len bytes. Returns 0 and fills *m (pointers into p), or
 * a negative enum bmp_error with e filled (e may be NULL); *m is then unspecified.
 */
int bmp_parse(const uint8_t *p, size_t len, struct bmp_msg *m, struct err *e);

/* Iterates a validated NLRI span of a family: true and *out until the span is consumed. */
struct bmp_nlri_iter {
	const uint8_t *p, *end;
	uint8_t family;
};
void bmp_nlri_begin(struct bmp_nlri_iter *it, const struct bmp_span *s, int family);
bool bmp_nlri_next(struct bmp_nlri_iter *it, struct cidr *out);
/* Number of prefixes in a validated NLRI span. */
size_t bmp_nlri_count(const struct bmp_span *s);

/* Iterates a validated AS_PATH: each ASN with its segment type (1 AS_SET, 2 AS_SEQUENCE,
 * 3 / 4 confederation sequence / set). */
struct bmp_aspath_iter {
	const uint8_t *p, *end;
	unsigned left;              /* ASNs left in the current segment */
	uint8_t seg_type, asn_size;
};
void bmp_aspath_begin(struct bmp_aspath_iter *it, const struct bmp_update *u);
bool bmp_aspath_next(struct bmp_aspath_iter *it, uint32_t *asn, uint8_t *seg_type);
/* Formats the AS_PATH as text: "64501 64500 {64510,64511}" (confederation sequences in
 * parentheses, confederation sets in brackets). Returns the length it needed
 * (as snprintf); the text is cut, NUL-terminated, when buf is too small. */
size_t bmp_aspath_format(const struct bmp_update *u, char *buf, size_t size);

/* Communities: n = span.len / 4 (resp. / 12); i < n. */
static inline size_t bmp_community_count(const struct bmp_update *u) { return u->communities.len / 4; }
static inline size_t bmp_large_community_count(const struct bmp_update *u) { return u->large_communities.len / 12; }
uint32_t bmp_community(const struct bmp_update *u, size_t i);
struct bmp_large_community {
	uint32_t global, local1, local2;
};
struct bmp_large_community bmp_large_community(const struct bmp_update *u, size_t i);

/* Iterates a validated TLV span (Initiation, Termination, Peer Up, Peer Down reason 6,
 * Statistics, Route Mirroring). */
struct bmp_tlv_iter {
	const uint8_t *p, *end;
};
struct bmp_tlv {
	uint16_t type, len;
	const uint8_t *value;
};
void bmp_tlv_begin(struct bmp_tlv_iter *it, const struct bmp_span *s);
bool bmp_tlv_next(struct bmp_tlv_iter *it, struct bmp_tlv *out);
/* A Statistics counter (4 bytes) or gauge (8 bytes; AFI/SAFI gauges: the 8 bytes after the
 * 3-byte AFI/SAFI) as a number. */
uint64_t bmp_stat_value(const struct bmp_tlv *t);

/* ---- The station ---------------------------------------------------------------------- */

struct ev_loop;
struct bmp_station;

#define BMP_DEFAULT_MAX_SESSIONS 16
#define BMP_DEFAULT_MAX_ROUTES 65536
#define BMP_DEFAULT_MAX_VANTAGES 1024
#define BMP_READ_BUDGET (1u << 20)
#define BMP_ASPATH_TEXT 96      /* AS path text kept per route; longer ones end in "..." */
#define BMP_NAME_MAX 64         /* router sysName kept, printable ASCII only */

struct bmp_conf {
	const char *listen_addr;    /* numeric address to listen on */
	unsigned listen_port;       /* 0: any free port (bmp_station_port tells which) */
	const struct cidr *allow;   /* routers that may connect (usually /32 or /128); copied */
	size_t nallow;              /* must be > 0 */
	size_t max_msg;             /* 0: BMP_MSG_MAX; at most BMP_MSG_MAX */
	size_t max_sessions;        /* 0: BMP_DEFAULT_MAX_SESSIONS */
	size_t max_routes;          /* 0: BMP_DEFAULT_MAX_ROUTES */
	size_t max_vantages;        /* 0: BMP_DEFAULT_MAX_VANTAGES */
};

/* A prefix of ours and the origin AS that may announce it (0: any origin is ours). */
struct bmp_watch {
	struct cidr prefix;
	uint32_t origin_as;
};

struct bmp_vantage {
	struct cidr router;         /* the BMP session's remote address */
	char router_name[BMP_NAME_MAX];  /* sysName from its Initiation, "" before */
	uint8_t peer_type, view;
	uint64_t distinguisher;
	struct cidr peer_addr;
	uint32_t peer_as, peer_bgp_id;
};

enum bmp_relation {
	BMP_REL_EXACT = 0,
	BMP_REL_MORE_SPECIFIC = 1,
	BMP_REL_LESS_SPECIFIC = 2,
};

enum bmp_verdict {
	BMP_VERDICT_OK = 0,                     /* exact prefix, our origin */
	BMP_VERDICT_ORIGIN_MISMATCH = 1,        /* exact prefix, another origin: hijack */
	BMP_VERDICT_MORE_SPECIFIC = 2,          /* more-specific from our origin */
	BMP_VERDICT_MORE_SPECIFIC_OTHER = 3,    /* more-specific from another origin: hijack */
	BMP_VERDICT_LESS_SPECIFIC = 4,          /* a covering route */
	BMP_VERDICT_ORIGIN_UNKNOWN = 5,         /* the path ends in an AS_SET */
};

struct bmp_route {
	struct cidr prefix;
	struct bmp_vantage vantage;
	bool origin_known;
	uint32_t origin_as, first_as;
	char as_path[BMP_ASPATH_TEXT];
	double since;               /* ev_now() when this vantage got it with this origin/path */
	struct cidr watched;        /* the watched prefix it concerns (the longest covering, or
	                             * for a less-specific the first one inside it) */
	uint32_t expected_origin;   /* that watch's origin_as */
	uint8_t relation;           /* enum bmp_relation, of prefix to watched */
	uint8_t verdict;            /* enum bmp_verdict */
};

enum bmp_event_type {
	BMP_EV_ROUTE_UP = 0,
	BMP_EV_ROUTE_CHANGED = 1,
	BMP_EV_ROUTE_DOWN = 2,
	BMP_EV_SESSION_UP = 3,
	BMP_EV_SESSION_DOWN = 4,
};

struct bmp_event {
	uint8_t type;               /* enum bmp_event_type */
	const struct bmp_route *route;  /* route events: as it is now (DOWN: as it was) */
	uint8_t old_verdict;        /* ROUTE_CHANGED: the verdict before */
	const struct cidr *router;  /* every event: the router's address */
	const char *reason;         /* ROUTE_DOWN: "withdrawn", "peer-down", "session-closed",
	                             * "unwatched"; SESSION_DOWN: "closed", "termination" or the
	                             * reader's code ("bmp-bad-as-path", ...) */
};

/* Called on the loop thread while the station applies a message. It may read the station
 * (bmp_visibility, bmp_station_stats) but must not free it, change its watch or subscribe. */
typedef void (*bmp_event_cb)(void *arg, const struct bmp_event *ev);

struct bmp_station_stats {
	uint64_t sessions_accepted, sessions_refused, sessions_malformed, sessions_open;
	uint64_t messages, bytes;
	uint64_t routes_seen;       /* prefixes announced or withdrawn, all sessions */
	uint64_t routes_outside;    /* of those, outside our space: not kept */
	uint64_t routes_dropped;    /* in our space but over max_routes / max_vantages */
	uint64_t routes_kept;       /* now */
	uint64_t vantages;          /* now */
};

/* Makes a station listening on conf->listen_addr:listen_port. Returns it, or NULL with e:
 * "invalid-argument" (no allow list, a bad address) or "listen-failed". */
struct bmp_station *bmp_station_new(struct ev_loop *loop, const struct bmp_conf *conf,
    struct err *e);
/* Closes every session and the listener and frees all. NULL is a no-op. No events. */
void bmp_station_free(struct bmp_station *s);
/* The port it listens on. */
unsigned bmp_station_port(const struct bmp_station *s);
/* Replaces the watched prefixes (copied). Returns 0, or -1 with "invalid-argument" when
 * two watches have the same prefix. Routes no longer in scope are forgotten with a
 * ROUTE_DOWN "unwatched" each. */
int bmp_set_watch(struct bmp_station *s, const struct bmp_watch *w, size_t n, struct err *e);
/* The subscriber (NULL cb: none). */
void bmp_subscribe(struct bmp_station *s, bmp_event_cb cb, void *arg);
/* The kept routes whose prefix overlaps q (equal, inside or covering), in prefix order, as
 * many as fit in out[max]. Returns how many there are (may exceed max). */
size_t bmp_visibility(const struct bmp_station *s, const struct cidr *q, struct bmp_route *out,
    size_t max);
void bmp_station_stats(const struct bmp_station *s, struct bmp_station_stats *out);
const char *bmp_verdict_name(int verdict);

#endif
