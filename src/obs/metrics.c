/*
 * metrics — counters and histograms kept in fixed tables, rendered as Prometheus text.
 * See metrics.h. Tables are small and bounded (routes x methods x statuses); a lookup is a
 * linear scan, which costs less than the request it counts.
 */
#include "metrics.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"
#include "log.h"

#define METRICS_MAX_SERIES 512
#define METRICS_NBUCKETS 12
#define METRICS_MAX_RENDERERS 16

static const double metrics_buckets[METRICS_NBUCKETS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
};

struct metrics_hist {
	unsigned long long bucket[METRICS_NBUCKETS];
	unsigned long long count;
	double sum;
};

struct metrics_req {
	const char *route;
	const char *method;             /* one of metrics_methods */
	int status;
	unsigned long long n;
};

struct metrics_route_hist {
	const char *route;
	struct metrics_hist h;
};

/* The method label is drawn from this closed set: anything else a client sends is "other"
 * (a method is a client's free text; as a label it could break the page or fill the table). */
static const char *const metrics_methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
};

static const char *
metrics_method(const char *m)
{
	size_t n = sizeof(metrics_methods) / sizeof(metrics_methods[0]);

	for (size_t i = 0; i + 1 < n; i++)
		if (strcmp(m, metrics_methods[i]) == 0)
			return metrics_methods[i];
	return metrics_methods[n - 1];
}
struct metrics_renderer_slot {
	metrics_renderer fn;
	void *arg;
};

struct metrics {
	double started;                 /* ev_time() at start: prefixd_uptime_seconds */
	struct metrics_req reqs[METRICS_MAX_SERIES];
	size_t nreqs;
	struct metrics_route_hist rhist[METRICS_MAX_ROUTES];
	size_t nrhist;
	struct metrics_hist commit_hist;
	unsigned long long commit_changes, commit_failures;
	unsigned long long series_dropped;      /* samples a full series table refused */
	struct metrics_renderer_slot renderers[METRICS_MAX_RENDERERS];
	size_t nrenderers;
};

struct metrics *
metrics_new(double started)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		fatal("calloc");
	m->started = started;
	return m;
}

void
metrics_free(struct metrics *m)
{
	free(m);
}

static void
metrics_observe(struct metrics_hist *h, double v)
{
	for (int i = 0; i < METRICS_NBUCKETS; i++)
		if (v <= metrics_buckets[i])
			h->bucket[i]++;
	h->count++;
	h->sum += v;
}

void
metrics_request(struct metrics *m, const char *route, const char *method, int status,
    double seconds)
{
	size_t i;

	if (m == NULL || status == 0)
		return;         /* suspended (a long poll): counted when it is answered */
	method = metrics_method(method);
	for (i = 0; i < m->nreqs; i++)
		if (m->reqs[i].route == route && m->reqs[i].status == status &&
		    m->reqs[i].method == method)
			break;
	if (i == m->nreqs && m->nreqs < METRICS_MAX_SERIES) {
		m->reqs[i].route = route;
		m->reqs[i].method = method;
		m->reqs[i].status = status;
		m->nreqs++;
	}
	if (i < m->nreqs)
		m->reqs[i].n++;
	else
		m->series_dropped++;
	for (i = 0; i < m->nrhist; i++)
		if (m->rhist[i].route == route)
			break;
	if (i == m->nrhist && m->nrhist < METRICS_MAX_ROUTES)
		m->rhist[m->nrhist++].route = route;
	if (i < m->nrhist)
		metrics_observe(&m->rhist[i].h, seconds);
}

void
metrics_commit(struct metrics *m, double seconds, size_t n, int failed)
{
	if (m == NULL)
		return;
	metrics_observe(&m->commit_hist, seconds);
	m->commit_changes += n;
	m->commit_failures += failed != 0;
}

int
metrics_add_renderer(struct metrics *m, metrics_renderer fn, void *arg)
{
	if (m->nrenderers == METRICS_MAX_RENDERERS)
		return -1;
	m->renderers[m->nrenderers].fn = fn;
	m->renderers[m->nrenderers++].arg = arg;
	return 0;
}

static void
metrics_hist_print(FILE *out, const char *name, const char *labels, const struct metrics_hist *h)
{
	const char *sep = labels[0] ? "," : "";

	for (int i = 0; i < METRICS_NBUCKETS; i++)
		fprintf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, metrics_buckets[i],
		    h->bucket[i]);
	fprintf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, h->count);
	if (labels[0] != '\0')
		fprintf(out, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels, h->sum, name, labels,
		    h->count);
	else
		fprintf(out, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name, h->count);
}

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t
metrics_utf8_len(const unsigned char *s)
{
	size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2 ? 2 :
	    (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4 ? 4 : 0;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

const char *
metrics_esc(const char *s, char *buf, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0, n;

	while (*u != '\0' && o + 5 < len) {
		if (*u == '\\' || *u == '"' || *u == '\n') {
			buf[o++] = '\\';
			buf[o++] = *u == '\n' ? 'n' : (char)*u;
			u++;
		} else if (*u < 0x20 || *u == 0x7f || (n = metrics_utf8_len(u)) == 0) {
			buf[o++] = '?';         /* control byte or broken UTF-8 */
			u++;
		} else {
			memcpy(buf + o, u, n);
			o += n;
			u += n;
		}
	}
	buf[o] = '\0';
	return buf;
}

/* The per-pool families; each is written whole (one pass over the pools per family). */
enum metrics_pool_family { MP_PROVISIONED, MP_ALLOCATED, MP_RATIO, MP_ALARM_AT, MP_ALARM, MP_N };

static const char *const metrics_pool_family[MP_N][2] = {
	{ "prefixd_pool_provisioned_addresses", "Addresses provisioned into the pool." },
	{ "prefixd_pool_allocated_addresses", "Addresses allocated out of the pool (allocations "
	  "and child pools)." },
	{ "prefixd_pool_utilization_ratio", "Allocated over provisioned addresses (0..1)." },
	{ "prefixd_pool_alarm_threshold_ratio", "The pool's alarm_at (0..1)." },
	{ "prefixd_pool_alarm", "1 while utilization is at or above alarm_at." },
};

struct metrics_pool_arg {
	FILE *out;
	enum metrics_pool_family f;
};

static int
metrics_pool_cb(void *arg, struct ipam_pool *p)
{
	struct metrics_pool_arg *a = arg;
	struct ipam_util u;
	char name[160], scope[160], n[CIDR_U128_STRLEN];

	ipam_pool_util(p, &u);
	fprintf(a->out, "%s{pool=\"%s\",scope=\"%s\"} ", metrics_pool_family[a->f][0],
	    metrics_esc(p->name, name, sizeof(name)), metrics_esc(p->scope->name, scope,
	    sizeof(scope)));
	switch (a->f) {
	case MP_PROVISIONED:
		fprintf(a->out, "%s\n", cidr_u128_format(u.provisioned, n, sizeof(n)));
		break;
	case MP_ALLOCATED:
		fprintf(a->out, "%s\n", cidr_u128_format(u.allocated, n, sizeof(n)));
		break;
	case MP_RATIO:
		fprintf(a->out, "%.6f\n", u.percent / 100.0);
		break;
	case MP_ALARM_AT:
		fprintf(a->out, "%.2f\n", u.alarm_at / 100.0);
		break;
	default:
		fprintf(a->out, "%d\n", u.alarm ? 1 : 0);
		break;
	}
	return 0;
}

void
metrics_ipam(void *ipam, FILE *out)
{
	struct metrics_pool_arg a = { out, MP_PROVISIONED };

	fprintf(out, "# HELP prefixd_allocations Allocations in all pools (child pools included).\n"
	    "# TYPE prefixd_allocations gauge\nprefixd_allocations %zu\n", ipam_alloc_count(ipam));
	for (a.f = 0; a.f < MP_N; a.f++) {
		fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", metrics_pool_family[a.f][0],
		    metrics_pool_family[a.f][1], metrics_pool_family[a.f][0]);
		ipam_pool_foreach(ipam, NULL, metrics_pool_cb, &a);
	}
}

void
metrics_render(struct metrics *m, FILE *out)
{
	char lab[256], esc[160];

	fprintf(out, "# HELP prefixd_build_info prefixd version.\n# TYPE prefixd_build_info gauge\n"
	    "prefixd_build_info{version=\"%s\"} 1\n", PREFIXD_VERSION);
	fprintf(out, "# HELP prefixd_uptime_seconds Seconds since start.\n# TYPE prefixd_uptime_seconds gauge\n"
	    "prefixd_uptime_seconds %.0f\n", ev_time() - m->started);
	fprintf(out, "# HELP prefixd_metrics_series_dropped_total Samples not counted because "
	    "the series table (%d) was full.\n# TYPE prefixd_metrics_series_dropped_total counter\n"
	    "prefixd_metrics_series_dropped_total %llu\n", METRICS_MAX_SERIES,
	    m->series_dropped);
	fprintf(out, "# HELP prefixd_api_requests_total API requests answered.\n"
	    "# TYPE prefixd_api_requests_total counter\n");
	for (size_t i = 0; i < m->nreqs; i++)
		fprintf(out, "prefixd_api_requests_total{route=\"%s\",method=\"%s\",code=\"%d\"} %llu\n",
		    metrics_esc(m->reqs[i].route, esc, sizeof(esc)), m->reqs[i].method,
		    m->reqs[i].status, m->reqs[i].n);
	fprintf(out, "# HELP prefixd_api_request_duration_seconds Time from request to answer.\n"
	    "# TYPE prefixd_api_request_duration_seconds histogram\n");
	for (size_t i = 0; i < m->nrhist; i++) {
		snprintf(lab, sizeof(lab), "route=\"%s\"", metrics_esc(m->rhist[i].route, esc, sizeof(esc)));
		metrics_hist_print(out, "prefixd_api_request_duration_seconds", lab, &m->rhist[i].h);
	}
	fprintf(out, "# HELP prefixd_store_commit_duration_seconds Group-commit transaction time.\n"
	    "# TYPE prefixd_store_commit_duration_seconds histogram\n");
	metrics_hist_print(out, "prefixd_store_commit_duration_seconds", "", &m->commit_hist);
	fprintf(out, "# HELP prefixd_store_commit_changes_total Changes committed in group commits.\n"
	    "# TYPE prefixd_store_commit_changes_total counter\nprefixd_store_commit_changes_total %llu\n",
	    m->commit_changes);
	fprintf(out, "# HELP prefixd_store_commit_failures_total Group commits that failed.\n"
	    "# TYPE prefixd_store_commit_failures_total counter\nprefixd_store_commit_failures_total %llu\n",
	    m->commit_failures);
	for (size_t i = 0; i < m->nrenderers; i++)
		m->renderers[i].fn(m->renderers[i].arg, out);
}
