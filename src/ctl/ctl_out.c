/*
 * ctl_out — prefixctl's human output: aligned tables, key/value blocks and refusals.
 *
 * Called by the command handlers' printers (ctl_ipam.c, ...) with the daemon's parsed JSON;
 * --json output never comes here (ctl_request prints the reply as it arrived). It owns only
 * temporary cell buffers. Anything the daemon sends is printed through ctl_out_cell() or
 * ctl_out_text(), the one terminal escaper: a hostile reply cannot drive the terminal (C0 and
 * C1 controls, which VTE acts on also as UTF-8 CSI/OSC/ST) nor reorder what it shows (bidi
 * overrides and isolates, zero-width and line-separator characters): each such character is
 * printed as its code point, "\u202e", and a byte that is not UTF-8 as "\xff".
 */
#include "ctl.h"

#include <stdlib.h>
#include <string.h>

#define CELL_MAX 1024

/* Decodes the well-formed UTF-8 sequence at s into *cp; its length, or 0 if it is not one. */
static size_t
utf8_decode(const unsigned char *s, unsigned *cp)
{
	size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 :
	    (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	static const unsigned min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	unsigned v = n == 1 ? s[0] : n == 2 ? s[0] & 0x1fu : n == 3 ? s[0] & 0x0fu : s[0] & 0x07u;

	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3fu);
	}
	if (n == 0 || v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* A code point a terminal acts on or that changes how the line reads. */
static bool
term_unsafe(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

/* Appends s to buf, escaped for a terminal; keeps buf NUL-terminated, never overflows and
 * never cuts an escape or a character in two. */
static void
cell_put(char *buf, size_t len, size_t *at, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	char esc[8];
	unsigned cp = 0;
	size_t n, k;

	while (*u != '\0') {
		const char *out = (const char *)u;

		if ((n = utf8_decode(u, &cp)) == 0) {
			k = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *u);
			out = esc, n = 1;
		} else if (term_unsafe(cp)) {
			k = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", cp);
			out = esc;
		} else
			k = n;
		if (*at + k >= len)
			break;
		memcpy(buf + *at, out, k);
		*at += k;
		u += n;
	}
	buf[*at] = '\0';
}

const char *
ctl_out_text(const char *s, char *buf, size_t len)
{
	size_t at = 0;

	if (len == 0)
		return "";
	buf[0] = '\0';
	cell_put(buf, len, &at, s != NULL ? s : "-");
	return buf;
}

static void cell_render(json_t *v, char *buf, size_t len, size_t *at, int depth);

/* An array: elements joined with ','; an object element shows its cidr (or name) if it has one. */
static void
cell_array(json_t *v, char *buf, size_t len, size_t *at, int depth)
{
	size_t i;
	json_t *el;

	json_array_foreach(v, i, el) {
		json_t *key = json_is_object(el) ? json_object_get(el, "cidr") : NULL;

		if (json_is_object(el) && key == NULL)
			key = json_object_get(el, "name");
		if (i > 0)
			cell_put(buf, len, at, ",");
		cell_render(key != NULL ? key : el, buf, len, at, depth + 1);
	}
}

static void
cell_object(json_t *v, char *buf, size_t len, size_t *at, int depth)
{
	const char *k;
	json_t *el;
	bool first = true;

	json_object_foreach(v, k, el) {
		if (!first)
			cell_put(buf, len, at, ",");
		first = false;
		cell_put(buf, len, at, k);
		cell_put(buf, len, at, "=");
		cell_render(el, buf, len, at, depth + 1);
	}
}

static void
cell_render(json_t *v, char *buf, size_t len, size_t *at, int depth)
{
	char num[64];

	if (depth > 8) {
		cell_put(buf, len, at, "...");
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		cell_put(buf, len, at, json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		cell_put(buf, len, at, num);
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.2f", json_real_value(v));
		cell_put(buf, len, at, num);
		break;
	case JSON_TRUE:
		cell_put(buf, len, at, "yes");
		break;
	case JSON_FALSE:
		cell_put(buf, len, at, "no");
		break;
	case JSON_ARRAY:
		cell_array(v, buf, len, at, depth);
		break;
	case JSON_OBJECT:
		cell_object(v, buf, len, at, depth);
		break;
	default:
		cell_put(buf, len, at, "-");
		break;
	}
}

void
ctl_out_cell(json_t *v, char *buf, size_t len)
{
	size_t at = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (v == NULL || json_is_null(v) ||
	    (json_is_array(v) && json_array_size(v) == 0) ||
	    (json_is_object(v) && json_object_size(v) == 0) ||
	    (json_is_string(v) && json_string_length(v) == 0)) {
		cell_put(buf, len, &at, "-");
		return;
	}
	cell_render(v, buf, len, &at, 0);
}

/* The rows: rows itself when an array, else the first array member of the object. */
static json_t *
table_rows(json_t *rows)
{
	const char *k;
	json_t *v;

	if (json_is_array(rows))
		return rows;
	json_object_foreach(rows, k, v)
		if (json_is_array(v))
			return v;
	return NULL;
}

/* A member of a row, "a.b" reaching into a nested object. */
static json_t *
row_get(json_t *row, const char *key)
{
	const char *dot = strchr(key, '.');
	char head[64];

	if (!json_is_object(row))
		return NULL;
	if (dot == NULL || (size_t)(dot - key) >= sizeof(head))
		return json_object_get(row, key);
	memcpy(head, key, (size_t)(dot - key));
	head[dot - key] = '\0';
	return row_get(json_object_get(row, head), dot + 1);
}

static void
table_print_row(FILE *f, char **cells, const size_t *width, size_t ncol)
{
	size_t c;

	for (c = 0; c < ncol; c++) {
		if (c + 1 < ncol)
			fprintf(f, "%-*s  ", (int)width[c], cells[c]);
		else
			fprintf(f, "%s\n", cells[c]);
	}
}

void
ctl_out_table(FILE *f, json_t *rows, const struct ctl_col *cols)
{
	json_t *arr = table_rows(rows), *row;
	size_t ncol = 0, nrow, r, c, width[32] = { 0 };
	char **cells;

	while (ncol < 32 && cols[ncol].head != NULL)
		ncol++;
	nrow = arr != NULL ? json_array_size(arr) : 0;
	if ((cells = calloc((nrow + 1) * ncol, sizeof(*cells))) == NULL)
		return;
	for (c = 0; c < ncol; c++)
		cells[c] = strdup(cols[c].head);
	json_array_foreach(arr, r, row)
		for (c = 0; c < ncol; c++) {
			char buf[CELL_MAX];

			ctl_out_cell(row_get(row, cols[c].key), buf, sizeof(buf));
			cells[(r + 1) * ncol + c] = strdup(buf);
		}
	for (r = 0; r < (nrow + 1) * ncol; r++)
		if (cells[r] == NULL)
			goto out;
	for (r = 0; r <= nrow; r++)
		for (c = 0; c < ncol; c++)
			if (strlen(cells[r * ncol + c]) > width[c])
				width[c] = strlen(cells[r * ncol + c]);
	for (r = 0; r <= nrow; r++)
		table_print_row(f, cells + r * ncol, width, ncol);
out:
	for (r = 0; r < (nrow + 1) * ncol; r++)
		free(cells[r]);
	free(cells);
}

static void
object_print(FILE *f, json_t *obj, int indent, int depth)
{
	const char *k;
	json_t *v;
	size_t w = 0;
	char buf[CELL_MAX], name[CELL_MAX];

	json_object_foreach(obj, k, v)
		if (strlen(k) > w)
			w = strlen(k);
	if (w > 40)
		w = 40;
	json_object_foreach(obj, k, v) {
		size_t at = 0;

		name[0] = '\0';
		cell_put(name, sizeof(name) - 1, &at, k);    /* room for the ":" */
		if (json_is_object(v) && json_object_size(v) > 0 && depth < 4) {
			fprintf(f, "%*s%s:\n", indent, "", name);
			object_print(f, v, indent + 2, depth + 1);
			continue;
		}
		ctl_out_cell(v, buf, sizeof(buf));
		fprintf(f, "%*s%-*s  %s\n", indent, "", (int)w + 1, strcat(name, ":"), buf);
	}
}

void
ctl_out_object(FILE *f, json_t *obj)
{
	if (!json_is_object(obj)) {
		char buf[CELL_MAX];

		ctl_out_cell(obj, buf, sizeof(buf));
		fprintf(f, "%s\n", buf);
		return;
	}
	object_print(f, obj, 0, 0);
}

void
ctl_out_refusal(FILE *f, long status, const char *body)
{
	json_t *j = body != NULL ? json_loads(body, JSON_DECODE_ANY, NULL) : NULL;
	json_t *er = json_object_get(j, "error");
	json_t *code = json_object_get(er, "code"), *msg = json_object_get(er, "message");
	char c[CELL_MAX], m[CELL_MAX];

	if (json_is_string(code)) {
		ctl_out_cell(code, c, sizeof(c));
		ctl_out_cell(msg, m, sizeof(m));
		fprintf(f, "prefixctl: %s: %s\n", c, json_is_string(msg) ? m : "");
	} else {
		size_t at = 0;

		m[0] = '\0';
		if (body != NULL)
			cell_put(m, 200, &at, body);
		fprintf(f, "prefixctl: HTTP %ld%s%s\n", status, at > 0 ? ": " : "", m);
	}
	json_decref(j);
}
