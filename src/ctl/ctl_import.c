/*
 * ctl_import — reads the resource list of `prefixctl import --file F` (CSV or JSON).
 *
 * Called by the import handler in ctl_ipam.c. The file is outside input: sizes are bounded,
 * every record is checked (CIDR syntax, non-empty name, K=V tags, no unknown fields) and the
 * first bad one is refused with its line (CSV) or index (JSON), so that nothing is sent.
 *
 * Formats (chosen here; documented in doc/walkthrough.md):
 *   JSON  an array of {"cidr", "name", "tags": {K: V}} or an object {"resources": [...]}
 *   CSV   a header naming the columns cidr, name and optionally tags (any order, any case);
 *         tags as K=V pairs separated by ';'. RFC 4180 quoting ("a,b", "say ""hi""").
 *         Blank lines and lines starting with '#' are skipped.
 */
#include "ctl.h"
#include "cidr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMPORT_MAX_RECORDS 100000
#define IMPORT_FIELD_MAX 4096

char *
ctl_read_file(const char *path, size_t max, size_t *len, struct err *e)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		err_set(e, "usage", "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		fclose(f);
		err_set(e, "usage", "out of memory");
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		err_set(e, "usage", ferror(f) ? "cannot read %s" : "%s is larger than %zu bytes",
		    path, max);
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Adds "K=V" to the tags object; refuses a bad shape. */
static int
tag_add(json_t *tags, const char *kv, const char *where, struct err *e)
{
	const char *eq = strchr(kv, '=');
	char key[IMPORT_FIELD_MAX];

	if (eq == NULL || eq == kv || (size_t)(eq - kv) >= sizeof(key))
		return err_set(e, "usage", "%s: tag '%s' is not KEY=VALUE", where, kv);
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	if (json_object_set_new(tags, key, json_string(eq + 1)) < 0)
		return err_set(e, "usage", "%s: tag '%s' is not valid UTF-8", where, kv);
	return 0;
}

/* err_set() for functions that return a pointer: always NULL. */
static json_t *refuse(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static json_t *
refuse(struct err *e, const char *fmt, ...)
{
	va_list ap;
	char msg[ERR_MSG_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(e, "usage", "%s", msg);
	return NULL;
}

/* One resource from its fields; tags_text ("K=V;K=V") may be NULL. */
static json_t *
record_new(const char *cidr, const char *name, const char *tags_text, const char *where,
    struct err *e)
{
	struct cidr c;
	struct err ce;
	json_t *r;
	char buf[IMPORT_FIELD_MAX];
	char *save = NULL, *tok;

	if (cidr == NULL || cidr[0] == '\0')
		return refuse(e, "%s: missing cidr", where);
	if (cidr_parse(cidr, &c, &ce) < 0 && strcmp(ce.code, "cidr-not-canonical") != 0)
		return refuse(e, "%s: %s", where, ce.msg);
	if (name == NULL || name[0] == '\0')
		return refuse(e, "%s: missing name", where);
	if ((r = json_pack("{s:s, s:s, s:{}}", "cidr", cidr, "name", name, "tags")) == NULL)
		return refuse(e, "%s: not valid UTF-8", where);
	snprintf(buf, sizeof(buf), "%s", tags_text != NULL ? tags_text : "");
	for (tok = strtok_r(buf, ";", &save); tok != NULL; tok = strtok_r(NULL, ";", &save)) {
		tok += strspn(tok, " ");
		if (*tok != '\0' && tag_add(json_object_get(r, "tags"), tok, where, e) < 0) {
			json_decref(r);
			return NULL;
		}
	}
	return r;
}

/* Copies a JSON record's tags into r's; refuses anything but string values. */
static int
json_tags(json_t *r, json_t *tags, const char *where, struct err *e)
{
	const char *k;
	json_t *v;

	if (tags != NULL && !json_is_object(tags))
		return err_set(e, "usage", "%s: tags must be an object", where);
	json_object_foreach(tags, k, v) {
		if (!json_is_string(v) || k[0] == '\0')
			return err_set(e, "usage", "%s: tag '%s' must be a non-empty key with a string",
			    where, k);
		json_object_set(json_object_get(r, "tags"), k, v);
	}
	return 0;
}

/* One JSON record: checks its members and copies the three known ones. */
static json_t *
json_record(json_t *in, size_t idx, struct err *e)
{
	char where[48];
	const char *k;
	json_t *v, *cidr, *name, *r;

	snprintf(where, sizeof(where), "record %zu", idx);
	if (!json_is_object(in))
		return refuse(e, "%s: not an object", where);
	json_object_foreach(in, k, v)
		if (strcmp(k, "cidr") != 0 && strcmp(k, "name") != 0 && strcmp(k, "tags") != 0)
			return refuse(e, "%s: unknown field '%s'", where, k);
	cidr = json_object_get(in, "cidr");
	name = json_object_get(in, "name");
	if ((cidr != NULL && !json_is_string(cidr)) || (name != NULL && !json_is_string(name)))
		return refuse(e, "%s: cidr and name must be strings", where);
	r = record_new(json_string_value(cidr), json_string_value(name), NULL, where, e);
	if (r != NULL && json_tags(r, json_object_get(in, "tags"), where, e) < 0) {
		json_decref(r);
		return NULL;
	}
	return r;
}

static json_t *
parse_json(const char *text, size_t len, struct err *e)
{
	json_error_t je;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *arr, *out, *el;
	size_t i;

	if (doc == NULL)
		return refuse(e, "JSON line %d: %s", je.line, je.text);
	arr = json_is_array(doc) ? doc : json_object_get(doc, "resources");
	if (!json_is_array(arr) || (json_is_object(doc) && json_object_size(doc) != 1)) {
		json_decref(doc);
		return refuse(e, "JSON: want an array of resources or {\"resources\": [...]}");
	}
	if (json_array_size(arr) > IMPORT_MAX_RECORDS) {
		json_decref(doc);
		return refuse(e, "more than %d resources", IMPORT_MAX_RECORDS);
	}
	out = json_array();
	json_array_foreach(arr, i, el) {
		json_t *r = json_record(el, i, e);

		if (r == NULL) {
			json_decref(out);
			json_decref(doc);
			return NULL;
		}
		json_array_append_new(out, r);
	}
	json_decref(doc);
	return out;
}

/*
 * Reads one CSV field at *p into out. Sets *eol when the field ended its line (or the text).
 * Returns 0, or -1 for an unterminated quote or an over-long field.
 */
static int
csv_field(const char **p, const char *end, char *out, size_t outlen, bool *eol)
{
	const char *s = *p;
	size_t n = 0;
	bool quoted = s < end && *s == '"';

	if (quoted)
		s++;
	for (;; s++) {
		if (s >= end) {
			if (quoted)
				return -1;
			break;
		}
		if (quoted && *s == '"') {
			if (s + 1 < end && s[1] == '"') {
				s++;
			} else {
				quoted = false;
				continue;
			}
		} else if (!quoted && (*s == ',' || *s == '\n' || *s == '\r')) {
			break;
		}
		if (n + 1 >= outlen)
			return -1;
		out[n++] = *s;
	}
	out[n] = '\0';
	*eol = s >= end || *s != ',';
	if (s < end && *s == '\r')
		s++;
	*p = s < end ? s + 1 : s;
	return 0;
}

enum csv_col { CSV_CIDR, CSV_NAME, CSV_TAGS, CSV_NCOL };

/* Reads one line of at most 8 fields; returns the count, or -1 with e set. */
static int
csv_line(const char **p, const char *end, char fields[][IMPORT_FIELD_MAX], int line,
    struct err *e)
{
	bool eol = false;
	int n = 0;

	while (!eol) {
		if (n == 8)
			return err_set(e, "usage", "CSV line %d: too many fields", line);
		if (csv_field(p, end, fields[n], IMPORT_FIELD_MAX, &eol) < 0)
			return err_set(e, "usage", "CSV line %d: unterminated quote or field too long",
			    line);
		n++;
	}
	return n;
}

static int
csv_header(char fields[][IMPORT_FIELD_MAX], int n, int col[CSV_NCOL], struct err *e)
{
	static const char *const names[CSV_NCOL] = { "cidr", "name", "tags" };
	int i, k;

	for (k = 0; k < CSV_NCOL; k++)
		col[k] = -1;
	for (i = 0; i < n; i++) {
		for (k = 0; k < CSV_NCOL; k++)
			if (strcasecmp(fields[i], names[k]) == 0 && col[k] < 0)
				break;
		if (k == CSV_NCOL)
			return err_set(e, "usage", "CSV header: unknown or repeated column '%s'",
			    fields[i]);
		col[k] = i;
	}
	if (col[CSV_CIDR] < 0 || col[CSV_NAME] < 0)
		return err_set(e, "usage", "CSV header must name the columns cidr and name");
	return 0;
}

static json_t *
parse_csv(const char *text, size_t len, struct err *e)
{
	char fields[8][IMPORT_FIELD_MAX];
	const char *p = text, *end = text + len;
	int line = 0, n, col[CSV_NCOL] = { -1, -1, -1 };
	bool have_header = false;
	json_t *out = json_array(), *r;

	while (p < end) {
		char where[48];

		line++;
		if (*p == '\n' || *p == '\r' || *p == '#') {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			p = nl != NULL ? nl + 1 : end;
			continue;
		}
		if ((n = csv_line(&p, end, fields, line, e)) < 0)
			goto fail;
		if (!have_header) {
			if (csv_header(fields, n, col, e) < 0)
				goto fail;
			have_header = true;
			continue;
		}
		snprintf(where, sizeof(where), "CSV line %d", line);
		if (n <= col[CSV_CIDR] || n <= col[CSV_NAME]) {
			err_set(e, "usage", "%s: %d fields, the header names more", where, n);
			goto fail;
		}
		r = record_new(fields[col[CSV_CIDR]], fields[col[CSV_NAME]],
		    col[CSV_TAGS] >= 0 && col[CSV_TAGS] < n ? fields[col[CSV_TAGS]] : NULL, where, e);
		if (r == NULL || json_array_size(out) >= IMPORT_MAX_RECORDS) {
			if (r != NULL)
				err_set(e, "usage", "more than %d resources", IMPORT_MAX_RECORDS);
			json_decref(r);
			goto fail;
		}
		json_array_append_new(out, r);
	}
	if (!have_header) {
		err_set(e, "usage", "CSV: no header line (cidr,name,tags)");
		goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

json_t *
ctl_import_parse(const char *text, size_t len, struct err *e)
{
	const char *p = text;
	json_t *out;

	if (memchr(text, '\0', len) != NULL)
		return refuse(e, "the file holds a NUL byte");
	while (p < text + len && strchr(" \t\r\n", *p) != NULL)
		p++;
	if (p < text + len && (*p == '[' || *p == '{'))
		out = parse_json(text, len, e);
	else
		out = parse_csv(text, len, e);
	if (out != NULL && json_array_size(out) == 0) {
		json_decref(out);
		return refuse(e, "no resources in the file");
	}
	return out;
}
