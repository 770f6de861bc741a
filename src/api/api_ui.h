/*
 * api_ui — the read-only dashboard's static files under /ui/ (issue 20).
 *
 *   GET /ui       308 to /ui/
 *   GET /ui/      index.html
 *   GET /ui/{f}   one embedded file (index.html, app.js, style.css, favicon.svg)
 *
 * The files live in src/api/ui/ and are compiled into the binary (cmake/embed.cmake writes
 * api_ui_files.c in the build directory): no runtime download, nothing to install. They hold
 * no data; the page reads everything through the public /v1/ API with the caller's own
 * credentials. So the routes need no role (HTTP_ROLE_NONE): on TCP they are served without a
 * bearer token (the page then asks for one when /v1/ answers 401); on the unix sockets any
 * peer may read them. Only GET: any other method on these paths is 405 (the route table).
 * Replies carry Content-Security-Policy default-src 'self' (no inline script or style, no
 * other origin), X-Content-Type-Options nosniff and Cache-Control no-cache.
 */
#ifndef PREFIXD_API_UI_H
#define PREFIXD_API_UI_H

#include <stddef.h>

struct api_ui_file {
	const char *name;
	const unsigned char *data;
	size_t len;
};

/* Generated (api_ui_files.c): the embedded files, sorted by name. */
extern const struct api_ui_file api_ui_files[];
extern const size_t api_ui_nfiles;

#endif
