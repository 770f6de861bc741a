/*
 * api_ui — serves the dashboard's embedded static files (see api_ui.h).
 */
#include "api_ui.h"

#include <string.h>

#include "api.h"

static const char *const ui_headers[] = {
	"Content-Security-Policy",
	"default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options", "nosniff",
	"Cache-Control", "no-cache",
	"Referrer-Policy", "no-referrer",
	NULL,
};

static const char *
ui_type(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static void
ui_get(struct api_ctx *ctx)
{
	const char *name = ctx->nparams > 0 ? ctx->params[0] : "index.html";

	for (size_t i = 0; i < api_ui_nfiles; i++) {
		if (strcmp(api_ui_files[i].name, name) != 0)
			continue;
		http_reply(ctx->req, 200, ui_type(name), (const char *)api_ui_files[i].data,
		    api_ui_files[i].len);
		http_reply_headers(ctx->req, ui_headers);
		return;
	}
	api_error(ctx, "not-found", "no file '%.64s' in /ui/", name);
}

static void
ui_redirect(struct api_ctx *ctx)
{
	static const char *const loc[] = { "Location", "/ui/", NULL };

	http_reply(ctx->req, 308, "text/plain; charset=utf-8", "/ui/\n", 5);
	http_reply_headers(ctx->req, loc);
}

static const struct api_route ui_routes[] = {
	{ "GET", "/ui", HTTP_ROLE_NONE, ui_redirect },
	{ "GET", "/ui/", HTTP_ROLE_NONE, ui_get },
	{ "GET", "/ui/{file}", HTTP_ROLE_NONE, ui_get },
};
API_TABLE(api_ui_routes, ui_routes);
