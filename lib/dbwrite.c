/* dbwrite.c: changing the module database safely.
 *
 * The database is shared by concurrent runs (make -j, cron).  An update
 * takes an exclusive lock on DB.lock, reads the database afresh (so that
 * additions by other runs are kept), applies the change, writes a temporary
 * file in the same directory, fsyncs it, renames it over the database and
 * fsyncs the directory.  A run killed at any instant leaves the old or the
 * new database, never a torn one; the temporary file it may leave is removed
 * by the next update.  A database that is a symbolic link stays one: its
 * target is replaced, with its mode (and, as root, its owner). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
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

/* The replacement gets the replaced file's owner (root only can give a
 * file away; others keep the group when they belong to it) and mode. */
static int
keep_mode(int fd, const struct stat *st)
{
	if (geteuid() == 0) {
		if (fchown(fd, st->st_uid, st->st_gid))
			return -1;
	} else if (fchown(fd, (uid_t)-1, st->st_gid)) {
		/* not in its group: the file gets ours */
	}
	return fchmod(fd, st->st_mode & 07777);
}

/* Write text to path atomically: temporary file, fsync, rename, fsync dir.
 * A regular file at path keeps its mode; a symbolic link is replaced by a
 * file (lmp_db_update follows the database's link first). */
int
lmp_write_atomic(const char *path, const char *text, size_t len, lmp_err *e)
{
	char *tmp = lmp_xmalloc(strlen(path) + 48);
	struct stat old;
	int fd, i, had = lstat(path, &old) == 0 && S_ISREG(old.st_mode);

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
	if ((had && keep_mode(fd, &old)) || write_all(fd, text, len) || fsync(fd) || close(fd)) {
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

/* path with its symbolic links followed (fresh string): the file an update
 * replaces, whose directory gets the temporary file.  NULL past 40 links. */
static char *
follow_links(const char *path)
{
	char *cur = lmp_xstrdup(path), link[4096];
	struct stat st;
	ssize_t n;

	for (int hops = 0; lstat(cur, &st) == 0 && S_ISLNK(st.st_mode); hops++) {
		char *dir, *next;
		if (hops == 40 || (n = readlink(cur, link, sizeof link - 1)) < 0) {
			free(cur);
			return NULL;
		}
		link[n] = '\0';
		dir = dirname(cur);
		next = lmp_xmalloc(strlen(dir) + (size_t)n + 2);
		if (link[0] == '/')
			strcpy(next, link);
		else
			sprintf(next, "%s/%s", dir, link);
		free(cur);
		cur = next;
	}
	return cur;
}

int
lmp_db_writable(const char *path, lmp_err *e)
{
	char *real = follow_links(path), *copy = lmp_xstrdup(real ? real : path);
	const char *dir = dirname(copy);
	int ok = real && access(dir, W_OK) == 0 && (access(real, F_OK) != 0 || access(real, W_OK) == 0);

	if (!ok)
		lmp_fail(e, LMP_EXIT_SYSTEM, "%s is not writable (an installed database is read-only: "
			"pass --db FILE or set LMP_DB to a database of your own)", path);
	free(copy);
	free(real);
	return ok ? 0 : -1;
}

/* The pid of a temporary file PATH.tmp.PID.N (name is the file's name,
 * base PATH's), or 0 when name is not one. */
static long
temp_pid(const char *name, const char *base)
{
	size_t k = strlen(base);
	char *end;
	long pid;

	if (strncmp(name, base, k) || strncmp(name + k, ".tmp.", 5))
		return 0;
	name += k + 5;
	if (*name < '1' || *name > '9')
		return 0;
	pid = strtol(name, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return 0;
	strtol(end + 1, &end, 10);
	return *end ? 0 : pid;
}

/* A run killed between creating and renaming its temporary file leaves it
 * behind.  Called under the lock: every writer of this database writes its
 * temporary file under the same lock, so one found now is stale when its
 * creator is gone, or when it is older than our lock (its pid is alive
 * again, or in another pid namespace).  Others' files are left alone. */
static void
clean_stale(const char *path, const struct timespec *locked)
{
	char *c1 = lmp_xstrdup(path), *c2 = lmp_xstrdup(path);
	const char *dir = dirname(c1), *base = basename(c2);
	struct dirent *de;
	DIR *d = opendir(dir);

	while (d && (de = readdir(d))) {
		long pid = temp_pid(de->d_name, base);
		struct stat st;
		char *f;
		if (!pid)
			continue;
		f = lmp_xmalloc(strlen(dir) + strlen(de->d_name) + 2);
		sprintf(f, "%s/%s", dir, de->d_name);
		if (lstat(f, &st) == 0 && S_ISREG(st.st_mode) &&
		    ((kill((pid_t)pid, 0) && errno == ESRCH) || st.st_mtim.tv_sec < locked->tv_sec ||
		     (st.st_mtim.tv_sec == locked->tv_sec && st.st_mtim.tv_nsec < locked->tv_nsec)))
			unlink(f);
		free(f);
	}
	if (d)
		closedir(d);
	free(c1);
	free(c2);
}

int
lmp_db_update(const char *path, lmp_db_change fn, void *ctx, lmp_err *e)
{
	char *real = follow_links(path), *lock;
	int fd, rc = -1;
	cJSON *doc;
	char *text;
	lmp_buf b = {0};
	struct timespec locked;

	/* A link is followed once: the lock, the temporary file and the rename
	 * are the target's, so runs through different links share one lock. */
	if (!real)
		return lmp_fail(e, LMP_EXIT_SYSTEM, "%s: too many levels of symbolic links", path);
	lock = lmp_xmalloc(strlen(real) + 8);
	sprintf(lock, "%s.lock", real);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", lock, strerror(errno));
		free(lock);
		free(real);
		return -1;
	}
	while (flock(fd, LOCK_EX) && errno == EINTR)
		;
	clock_gettime(CLOCK_REALTIME, &locked);
	clean_stale(real, &locked);
	path = real;
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
	free(real);
	return rc;
}
