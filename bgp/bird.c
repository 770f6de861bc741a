/*
 * bird — the router's face (contract in bird.h): owns one birdc, one bird_apply and one
 * reconcile and forwards to them. No logic of its own beyond the order of start and stop.
 */
#include "bird.h"

#include <stdio.h>
#include <stdlib.h>

#include "log.h"

struct bird {
	struct birdc *birdc;
	struct bird_apply *apply;
	struct reconcile *reconcile;
	char socket[256];               /* for status */
};

struct bird *
bird_start(struct ev_loop *loop, const struct bird_config *cfg, reconcile_desired_fn desired,
    void *desired_arg)
{
	struct birdc_config cc = { .socket_path = cfg->socket };
	struct bird_apply_config ac = { .include_path = cfg->include,
	    .check_config = cfg->config, .confirm_timeout = cfg->confirm_timeout };
	struct reconcile_config rc = { .interval = cfg->reconcile_interval };
	struct bird *b;

	if (cfg->socket == NULL || cfg->include == NULL)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatalx("bird_start: out of memory");
	snprintf(b->socket, sizeof(b->socket), "%s", cfg->socket);
	b->birdc = birdc_new(loop, &cc);
	b->apply = bird_apply_new(loop, b->birdc, &ac);
	b->reconcile = reconcile_new(loop, b->birdc, b->apply, &rc, desired, desired_arg);
	reconcile_start(b->reconcile);
	birdc_start(b->birdc);
	return b;
}

void
bird_stop(struct bird *b)
{
	if (b == NULL)
		return;
	birdc_free(b->birdc);           /* in-flight commands fail: runs and transactions end */
	bird_apply_free(b->apply);      /* pending requesters (the reconciler too) are told */
	reconcile_free(b->reconcile);
	free(b);
}

bool
bird_is_up(const struct bird *b)
{
	return b != NULL && birdc_is_up(b->birdc);
}

int
bird_on_connect(struct bird *b, birdc_event_fn fn, void *arg)
{
	return birdc_add_listener(b->birdc, fn, arg);
}

int
bird_apply(struct bird *b, const struct bird_routeset *desired, bird_apply_fn done, void *arg)
{
	return bird_apply_request(b->apply, desired, done, arg);
}

int
bird_dry_run(struct bird *b, const struct bird_routeset *desired, bird_apply_fn done,
    void *arg, struct err *e)
{
	return bird_apply_dry_run(b->apply, desired, done, arg, e);
}

int
bird_other_origins(struct bird *b, const char *prefix, uint32_t expected_asn,
    rib_origins_fn done, void *arg, struct err *e)
{
	return rib_other_origins(b->birdc, prefix, expected_asn, done, arg, e);
}

void
bird_reconcile_now(struct bird *b, reconcile_fn done, void *arg)
{
	reconcile_run(b->reconcile, done, arg);
}

void
bird_get_stats(const struct bird *b, struct bird_stats *out)
{
	snprintf(out->socket, sizeof(out->socket), "%s", b->socket);
	out->up = birdc_is_up(b->birdc);
	out->busy = bird_apply_busy(b->apply);
	birdc_get_stats(b->birdc, &out->client);
	bird_apply_get_stats(b->apply, &out->apply);
	reconcile_get_stats(b->reconcile, &out->reconcile);
}
