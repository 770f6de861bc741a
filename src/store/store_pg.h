/*
 * store_pg — the PostgreSQL backend of store.h (issue 16): several prefixd instances share one
 * address plan, and the database itself refuses a double allocation. See store_pg.c for the
 * schema and which constraint holds which invariant.
 */
#ifndef PREFIXD_STORE_PG_H
#define PREFIXD_STORE_PG_H

#include "err.h"
#include "store.h"

/*
 * Connects with the libpq connection string dsn, runs pending migrations (one transaction,
 * serialised between instances starting together) and prepares the statements. Returns 0 and
 * *out, or -1 with e "store-failed" naming the cause: a malformed DSN, the server libpq could
 * not reach, a migration the database refused (its message), or a schema newer than this
 * prefixd knows. A failed open changes nothing in the database.
 */
int store_pg_open(const char *dsn, struct store **out, struct err *e);

/* Current schema version of the PostgreSQL backend (the number of migrations). */
int store_pg_schema_version(void);

/* "postgresql DB on HOST": names the store in messages and /v1/status (no password). */
const char *store_pg_name(const struct store *st);

#endif
