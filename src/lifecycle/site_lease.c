/*
 * site_lease — keeps this instance's site lease (the contract is in site_lease.h).
 */
#include "site_lease.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "store.h"
#include "xmalloc.h"

struct site_lease {
	struct ev_loop *loop;
	struct store *store;
	char site[STORE_SITE_NAME_MAX + 1];
	char holder[STORE_HOLDER_MAX + 1];
	unsigned renew, ttl;
	ev_timer timer;
	struct store_lease seen;        /* the lease row as last read */
	bool held;                      /* the last renewal made us the holder */
	double held_until;              /* ev_now() of that renewal + ttl (monotonic) */
	uint64_t acquired, lost;        /* times it became / stopped being the writer */
};

static void
site_lease_try(struct site_lease *s)
{
	struct err e = { 0 };
	double now = ev_now(s->loop);
	int rc = store_lease_acquire(s->store, s->site, s->holder, (int64_t)time(NULL), s->ttl,
	    &s->seen, &e);
	bool was = site_lease_may_write(s);

	if (rc < 0) {
		log_warnx("site %s: lease not renewed: %s", s->site, e.msg);
		return;                 /* may_write runs out by itself at held_until */
	}
	if (rc == 0) {
		s->held = true;
		s->held_until = now + s->ttl;
		if (!was) {
			s->acquired++;
			log_info("site %s: this instance (%s) writes the site's BIRD, lease epoch "
			    "%llu", s->site, s->holder, (unsigned long long)s->seen.epoch);
		}
		return;
	}
	if (s->held) {
		s->lost++;
		log_warnx("site %s: lease lost to %s (epoch %llu): no more BIRD writes here",
		    s->site, s->seen.holder, (unsigned long long)s->seen.epoch);
	}
	s->held = false;
}

static void
site_lease_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	site_lease_try(w->data);
}

struct site_lease *
site_lease_new(const struct site_lease_deps *d)
{
	struct site_lease *s = calloc(1, sizeof(*s));
	char host[64] = "host";

	if (s == NULL)
		fatal("calloc");
	s->loop = d->loop;
	s->store = d->store;
	snprintf(s->site, sizeof(s->site), "%s", d->site);
	if (d->holder != NULL)
		snprintf(s->holder, sizeof(s->holder), "%s", d->holder);
	else {
		gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		snprintf(s->holder, sizeof(s->holder), "%s:%ld:%lld", host, (long)getpid(),
		    (long long)time(NULL));
	}
	s->renew = d->renew ? d->renew : 2;
	s->ttl = 3 * s->renew;
	ev_timer_init(&s->timer, site_lease_tick, s->renew, s->renew);
	s->timer.data = s;
	ev_timer_start(s->loop, &s->timer);
	site_lease_try(s);
	return s;
}

void
site_lease_free(struct site_lease *s)
{
	struct err e = { 0 };

	if (s == NULL)
		return;
	ev_timer_stop(s->loop, &s->timer);
	if (s->held && store_lease_release(s->store, s->site, s->holder, &e) < 0)
		log_warnx("site %s: lease not released (the standby waits for expiry): %s",
		    s->site, e.msg);
	free(s);
}

const char *
site_lease_site(const struct site_lease *s)
{
	return s->site;
}

const char *
site_lease_holder(const struct site_lease *s)
{
	return s->holder;
}

bool
site_lease_may_write(const struct site_lease *s)
{
	/* ev_time, not ev_now: after a SIGSTOP the loop's cached time is stale */
	return s != NULL && s->held && ev_time() < s->held_until;
}

uint64_t
site_lease_epoch(const struct site_lease *s)
{
	return s != NULL && s->held ? s->seen.epoch : 0;
}

void
site_lease_renew_now(struct site_lease *s)
{
	ev_now_update(s->loop);
	site_lease_try(s);
}

json_t *
site_lease_status(const struct site_lease *s)
{
	bool w = site_lease_may_write(s);

	return json_pack("{s:s, s:s, s:s, s:I, s:s?, s:I, s:I, s:I, s:I}", "name", s->site,
	    "holder", s->holder, "role", w ? "writer" : s->seen.holder[0] ? "standby" :
	    "unknown", "epoch", (json_int_t)s->seen.epoch,
	    "lease_holder", s->seen.holder[0] ? s->seen.holder : NULL,
	    "lease_expires", (json_int_t)s->seen.expires, "renew", (json_int_t)s->renew,
	    "acquired", (json_int_t)s->acquired, "lost", (json_int_t)s->lost);
}

void
site_lease_metrics(const struct site_lease *s, FILE *out)
{
	char site[2 * STORE_SITE_NAME_MAX + 2];

	metrics_esc(s->site, site, sizeof(site));
	fprintf(out, "# HELP prefixd_site_lease_held 1 while this instance holds its site's "
	    "writer lease (writes the site's BIRD).\n# TYPE prefixd_site_lease_held gauge\n"
	    "prefixd_site_lease_held{site=\"%s\"} %d\n", site, site_lease_may_write(s));
	fprintf(out, "# HELP prefixd_site_lease_epoch The site lease's epoch as last read.\n"
	    "# TYPE prefixd_site_lease_epoch gauge\nprefixd_site_lease_epoch{site=\"%s\"} %llu\n",
	    site, (unsigned long long)s->seen.epoch);
	fprintf(out, "# HELP prefixd_site_lease_acquired_total Times this instance became the "
	    "site's writer.\n# TYPE prefixd_site_lease_acquired_total counter\n"
	    "prefixd_site_lease_acquired_total{site=\"%s\"} %llu\n", site,
	    (unsigned long long)s->acquired);
	fprintf(out, "# HELP prefixd_site_lease_lost_total Times this instance found its lease "
	    "taken by another.\n# TYPE prefixd_site_lease_lost_total counter\n"
	    "prefixd_site_lease_lost_total{site=\"%s\"} %llu\n", site,
	    (unsigned long long)s->lost);
}
