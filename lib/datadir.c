/* datadir.c: find the shipped data from the executable's own location, so a
 * checkout works without installing and an install works from any PREFIX.
 *   checkout:  ROOT/bin/lmp-x   ROOT/module_db.json   ROOT/share/lmp/
 *   install:   PREFIX/bin/lmp-x PREFIX/share/lmp/module_db.json
 * LMP_DATADIR overrides both (for tests and relocated data). */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmp.h"

static char datadir[PATH_MAX + 64], dbpath[PATH_MAX + 64];

static int
exists(const char *p)
{
	return access(p, R_OK) == 0;
}

static void
locate(void)
{
	char exe[PATH_MAX], *slash;
	const char *env = getenv("LMP_DATADIR");
	ssize_t n;

	if (datadir[0])
		return;
	if (env && *env) {
		snprintf(datadir, sizeof datadir, "%s", env);
		snprintf(dbpath, sizeof dbpath, "%s/module_db.json", env);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		snprintf(datadir, sizeof datadir, "/usr/local/share/lmp");
		snprintf(dbpath, sizeof dbpath, "/usr/local/share/lmp/module_db.json");
		return;
	}
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')))
		*slash = '\0'; /* .../bin */
	if ((slash = strrchr(exe, '/')))
		*slash = '\0'; /* ROOT or PREFIX */
	snprintf(dbpath, sizeof dbpath, "%s/module_db.json", exe);
	if (exists(dbpath)) {
		snprintf(datadir, sizeof datadir, "%s/share/lmp", exe);
		return;
	}
	snprintf(datadir, sizeof datadir, "%s/share/lmp", exe);
	snprintf(dbpath, sizeof dbpath, "%s/share/lmp/module_db.json", exe);
}

const char *
lmp_datadir(void)
{
	locate();
	return datadir;
}

const char *
lmp_default_db(void)
{
	locate();
	return dbpath;
}

int
lmp_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
lmp_json_names(const char *dir, char ***names, int *n)
{
	struct dirent *de;
	size_t len;
	DIR *d;
	int had = *n;

	if (!(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		*names = lmp_xrealloc(*names, sizeof **names * (size_t)(*n + 1));
		(*names)[(*n)++] = lmp_xstrndup(de->d_name, len - 5);
	}
	closedir(d);
	return *n - had;
}

char **
lmp_data_list(const char *sub, int *n)
{
	char dir[PATH_MAX + 128], **names = NULL;

	*n = 0;
	snprintf(dir, sizeof dir, "%s/%s", lmp_datadir(), sub);
	lmp_json_names(dir, &names, n);
	if (*n)
		qsort(names, (size_t)*n, sizeof *names, lmp_cmp_str);
	return names;
}

char *
lmp_names_join(char **names, int n)
{
	lmp_buf b = {0};

	for (int i = 0; i < n; i++) {
		lmp_buf_printf(&b, "%s%s", i ? " " : "", names[i]);
		free(names[i]);
	}
	free(names);
	if (!b.s)
		lmp_buf_puts(&b, "none");
	return b.s;
}

char *
lmp_data_names(const char *sub)
{
	int n;
	char **names = lmp_data_list(sub, &n);

	return lmp_names_join(names, n);
}
