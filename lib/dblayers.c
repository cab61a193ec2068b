/* dblayers.c: which module database the tools read, and where lmp-ensure
 * adds what the agent wrote.
 *
 * --db FILE or LMP_DB names one database: read and written alone.  Without
 * them the user's database in the data home ($XDG_DATA_HOME/lmp/module_db.json,
 * by default ~/.local/share/lmp/module_db.json) is layered over the shipped
 * one: its entries first, then the shipped entries it does not replace.
 * lmp-ensure writes the user's file, so an installed, read-only lmp learns
 * new classes.  Every tool opens the database through lmp_db_layers, so all
 * read the layers the same way. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lmp.h"

const char *
lmp_db_explicit(const char *opt)
{
	const char *env = getenv("LMP_DB");

	if (opt)
		return opt;
	return env && *env ? env : NULL;
}

const char *
lmp_data_home(void)
{
	static char dir[PATH_MAX];
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	/* XDG Base Directory: an unset, empty or relative value means the default */
	if (xdg && xdg[0] == '/')
		snprintf(dir, sizeof dir, "%.*s/lmp", PATH_MAX - 8, xdg);
	else if (home && *home)
		snprintf(dir, sizeof dir, "%.*s/.local/share/lmp", PATH_MAX - 24, home);
	else
		return NULL;
	return dir;
}

const char *
lmp_user_db(void)
{
	static char path[PATH_MAX + 32];
	const char *home = lmp_data_home();

	if (!home)
		return NULL;
	snprintf(path, sizeof path, "%s/module_db.json", home);
	return path;
}

/* mkdir -p */
static int
make_dirs(const char *dir, lmp_err *e)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s", dir);
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || !*s) {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0755) && errno != EEXIST)
				return lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", p, strerror(errno));
			*s = c;
			if (!c)
				break;
		}
	}
	return 0;
}

int
lmp_mkdirs(const char *dir, lmp_err *e)
{
	return make_dirs(dir, e);
}

/* The user's database, created empty when it is not there: written beside
 * and linked into place, so a concurrent run's file is never replaced. */
int
lmp_user_db_create(lmp_err *e)
{
	static const char empty[] = "{\n  \"lmp\": \"module_db\",\n  \"version\": 1,\n  \"entries\": {}\n}\n";
	const char *path = lmp_user_db(), *home = lmp_data_home();
	char tmp[PATH_MAX + 64];
	int fd;

	if (!path)
		return lmp_fail(e, LMP_EXIT_SYSTEM, "no data home (HOME and XDG_DATA_HOME are unset): "
			"pass --db FILE or set LMP_DB");
	if (access(path, F_OK) == 0)
		return 0;
	if (make_dirs(home, e))
		return -1;
	snprintf(tmp, sizeof tmp, "%s.new.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", tmp, strerror(errno));
	if (write(fd, empty, sizeof empty - 1) != (ssize_t)(sizeof empty - 1) || fsync(fd)) {
		close(fd);
		unlink(tmp);
		return lmp_fail(e, LMP_EXIT_SYSTEM, "%s: write error", tmp);
	}
	close(fd);
	if (link(tmp, path) && errno != EEXIST) {
		unlink(tmp);
		return lmp_fail(e, LMP_EXIT_SYSTEM, "%s: %s", path, strerror(errno));
	}
	unlink(tmp);
	return 0;
}

const char *
lmp_db_write_path(const char *explicit)
{
	return explicit ? explicit : lmp_user_db();
}

/* The user's entries, then the shipped ones it does not name. */
static lmp_db *
layered(const char *user, lmp_err *e)
{
	static char name[2 * PATH_MAX + 16];
	cJSON *u = lmp_json_load_file(user, e), *s, *ue, *se, *c, *next;

	if (!u)
		return NULL;
	if (!(s = lmp_json_load_file(lmp_default_db(), e))) {
		cJSON_Delete(u);
		return NULL;
	}
	ue = cJSON_GetObjectItemCaseSensitive(u, "entries");
	se = cJSON_GetObjectItemCaseSensitive(s, "entries");
	if (!cJSON_IsObject(ue) || !cJSON_IsObject(se)) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: not a module database (needs \"lmp\": \"module_db\" and \"entries\")",
			cJSON_IsObject(ue) ? lmp_default_db() : user);
		cJSON_Delete(u);
		cJSON_Delete(s);
		return NULL;
	}
	for (c = se->child; c; c = next) {
		next = c->next;
		cJSON *it = cJSON_DetachItemViaPointer(se, c);
		if (cJSON_GetObjectItemCaseSensitive(ue, it->string))
			cJSON_Delete(it);
		else
			cJSON_AddItemToArray(ue, it); /* keeps its key */
	}
	cJSON_Delete(s);
	snprintf(name, sizeof name, "%s (over %s)", user, lmp_default_db());
	return lmp_db_from_json(u, name, e);
}

lmp_db *
lmp_db_layers(const char *explicit, int full, lmp_err *e)
{
	const char *user = explicit ? NULL : lmp_user_db();

	if (explicit)
		return full ? lmp_db_load(explicit, e) : lmp_db_open(explicit, e);
	if (user && access(user, F_OK) == 0)
		return layered(user, e);
	return full ? lmp_db_load(lmp_default_db(), e) : lmp_db_open(lmp_default_db(), e);
}

/* The files lmp_db_layers reads (explicit, or the user's and the shipped
 * one), each as it stands: there or not, and which file with what
 * contents by its device, inode, size and times (the change time moves
 * with any write and cannot be set back). */
static void
stamp_take(const char *explicit, lmp_db_stamp *s)
{
	const char *paths[2] = {explicit ? explicit : lmp_user_db(), explicit ? NULL : lmp_default_db()};
	struct stat st;

	memset(s, 0, sizeof *s);
	for (int i = 0; i < 2; i++) {
		if (!paths[i])
			continue;
		s->f[i].there = !stat(paths[i], &st);
		if (s->f[i].there) {
			s->f[i].dev = st.st_dev, s->f[i].ino = st.st_ino, s->f[i].size = st.st_size;
			s->f[i].mtim = st.st_mtim, s->f[i].ctim = st.st_ctim;
		}
	}
}

static int
stamp_same(const lmp_db_stamp *a, const lmp_db_stamp *b)
{
	for (int i = 0; i < 2; i++) {
		const struct lmp_db_file *x = &a->f[i], *y = &b->f[i];
		if (x->there != y->there || (x->there && (x->dev != y->dev || x->ino != y->ino ||
			x->size != y->size || x->mtim.tv_sec != y->mtim.tv_sec || x->mtim.tv_nsec != y->mtim.tv_nsec ||
			x->ctim.tv_sec != y->ctim.tv_sec || x->ctim.tv_nsec != y->ctim.tv_nsec)))
			return 0;
	}
	return 1;
}

void
lmp_db_ahead_open(lmp_db_ahead *a, const char *explicit)
{
	lmp_err quiet = {0};

	a->explicit = explicit;
	stamp_take(explicit, &a->stamp); /* before the read: a change during it shows */
	a->db = lmp_db_layers(explicit, 0, &quiet);
}

lmp_db *
lmp_db_ahead_take(lmp_db_ahead *a, lmp_err *e)
{
	lmp_db_stamp now;
	lmp_db *db = a->db;

	a->db = NULL;
	if (db) {
		stamp_take(a->explicit, &now);
		if (stamp_same(&a->stamp, &now))
			return db;
		lmp_db_free(db);
	}
	/* changed, or it failed: read now, as if never read ahead (a failure
	 * says so now, after the input, as it always did) */
	return lmp_db_layers(a->explicit, 0, e);
}

void
lmp_db_ahead_free(lmp_db_ahead *a)
{
	lmp_db_free(a->db);
	a->db = NULL;
}
