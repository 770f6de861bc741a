/*
 * unit_sqlite — for unit tests that look at a store file behind the store's back, as the
 * sqlite3 CLI would (a second connection, so they see committed state only).
 */
#ifndef PREFIXD_UNIT_SQLITE_H
#define PREFIXD_UNIT_SQLITE_H

#include <sqlite3.h>

/* The first column of the first row of sql as an integer; -1 when there is no row. */
static inline long
unit_sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	long v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

#endif
