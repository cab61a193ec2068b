/* dbwrite.c: changing the module database safely.
 *
 * The database is shared by concurrent runs (make -j, cron).  An update
 * takes an exclusive lock on DB.lock, reads the database afresh (so that
 * additions by other runs are kept), applies the change, writes a temporary
 * file in the same directory, fsyncs it, renames it over the database and
 * fsyncs the directory.  A run killed at any instant leaves the old or the
 * new database, never a torn one. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmp.h"

static int
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
fsync_dir(const char *path)
{
	char *copy = lmp_xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY), rc = 0;

	free(copy);
	if (fd < 0)
		return -1;
	if (fsync(fd) && errno != EINVAL)
		rc = -1;
	close(fd);
	return rc;
}

/* Write text to path atomically: temporary file, fsync, rename, fsync dir. */
int
lmp_write_atomic(const char *path, const char *text, size_t len, lmp_err *e)
{
	char *tmp = lmp_xmalloc(strlen(path) + 48);
	int fd, i;

	/* A fresh name, created exclusively and never through a symlink: a
	 * shared directory cannot redirect the write. */
	for (i = 0, fd = -1; fd < 0 && i < 100; i++) {
		sprintf(tmp, "%s.tmp.%ld.%d", path, (long)getpid(), i);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (write_all(fd, text, len) || fsync(fd) || close(fd)) {
		lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (rename(tmp, path) || fsync_dir(path)) {
		lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int
lmp_db_writable(const char *path, lmp_err *e)
{
	char *copy = lmp_xstrdup(path);
	const char *dir = dirname(copy);
	int ok = access(dir, W_OK) == 0 && (access(path, F_OK) != 0 || access(path, W_OK) == 0);

	if (!ok)
		lmp_fail(e, LMP_EXIT_SYSTEM, "%s is not writable (an installed database is read-only: "
			"pass --db FILE or set LMP_DB to a database of your own)", path);
	free(copy);
	return ok ? 0 : -1;
}

int
lmp_db_update(const char *path, lmp_db_change fn, void *ctx, lmp_err *e)
{
	char *lock = lmp_xmalloc(strlen(path) + 8);
	int fd, rc = -1;
	cJSON *doc;
	char *text;
	lmp_buf b = {0};

	sprintf(lock, "%s.lock", path);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", lock, strerror(errno));
		free(lock);
		return -1;
	}
	while (flock(fd, LOCK_EX) && errno == EINTR)
		;
	/* Read afresh under the lock: another run may have added entries. */
	if (!(doc = lmp_json_load_file(path, e)))
		goto out;
	if (fn(doc, ctx, e)) {
		cJSON_Delete(doc);
		goto out;
	}
	lmp_json_print_buf(doc, 1, &b);
	lmp_buf_putc(&b, '\n');
	text = b.s;
	rc = lmp_write_atomic(path, text, b.len, e);
	lmp_buf_free(&b);
	cJSON_Delete(doc);
out:
	close(fd); /* releases the lock */
	free(lock);
	return rc;
}
