/* err.c: error values.  Library code fills an lmp_err and returns -1; only
 * tools print them. */
#include <stdarg.h>
#include <string.h>

#include "lmp.h"

int
lmp_fail(lmp_err *e, int status, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->status = status;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* Put context in front of an existing message: "node X: " + old. */
int
lmp_prefix(lmp_err *e, const char *fmt, ...)
{
	char old[sizeof e->msg];
	size_t n, k;
	va_list ap;

	if (!e)
		return -1;
	memcpy(old, e->msg, sizeof old);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	k = strnlen(old, sizeof e->msg - 1 - n);
	memcpy(e->msg + n, old, k);
	e->msg[n + k] = '\0';
	return -1;
}
