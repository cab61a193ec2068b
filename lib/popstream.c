/* popstream.c: lmp-populate's stream, architectures in, populated
 * documents (or the explain table) out. */
#include "lmp.h"

static int
populate_all(lmp_json_stream *st, lmp_db *db, const lmp_fixed *fixed, int flags, lmp_buf *out, lmp_buf *warn,
	lmp_err *e)
{
	lmp_buf ex = {0};
	cJSON *doc;
	int ndocs = 0, rc = -1;

	if (flags & LMP_POP_EXPLAIN)
		lmp_buf_puts(out, "path\tparameter\tvalue\trule\tfield\n");
	while ((doc = lmp_json_next(st, e))) {
		ndocs++;
		if (lmp_populate_warn(doc, db, fixed, flags & LMP_POP_EXPLAIN ? &ex : NULL, warn, e)) {
			cJSON_Delete(doc);
			goto out;
		}
		if (flags & LMP_POP_EXPLAIN) {
			if (ex.s)
				lmp_buf_puts(out, ex.s);
			ex.len = 0;
		} else {
			lmp_json_print_buf(doc, flags & LMP_POP_PRETTY, out);
			lmp_buf_putc(out, '\n');
		}
		cJSON_Delete(doc);
	}
	if (!e->status && !ndocs)
		lmp_fail(e, LMP_EXIT_INPUT, "%s: no document on input", st->name);
	rc = e->status ? -1 : 0;
out:
	lmp_buf_free(&ex);
	return rc;
}

int
lmp_populate_stream(const char *file, const char *dbpath, const lmp_fixed *fixed, int flags, lmp_buf *out,
	lmp_buf *warn, lmp_err *e)
{
	lmp_buf in = {0};
	lmp_json_stream st;
	lmp_db_ahead ahead;
	lmp_db *db = NULL;
	int rc = -1;

	/* the database read while lmp-ensure works, taken (or read again)
	 * once it has finished adding to it and the input has ended */
	lmp_db_ahead_open(&ahead, dbpath);
	if (lmp_read_input(file, flags & LMP_POP_EMPTY_FAILS, &in, e))
		goto out;
	if (!(db = lmp_db_ahead_take(&ahead, e)))
		goto out;
	lmp_json_stream_init(&st, in.s, in.len, file ? file : "<stdin>");
	rc = populate_all(&st, db, fixed, flags, out, warn, e);
out:
	lmp_db_ahead_free(&ahead);
	lmp_db_free(db);
	lmp_buf_free(&in);
	return rc;
}
