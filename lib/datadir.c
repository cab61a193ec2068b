/* datadir.c: find the shipped data from the executable's own location, so a
 * checkout works without installing and an install works from any PREFIX.
 *   checkout:  ROOT/bin/lmp-x   ROOT/module_db.json   ROOT/share/lmp/
 *   install:   PREFIX/bin/lmp-x PREFIX/share/lmp/module_db.json
 * LMP_DATADIR overrides both (for tests and relocated data). */
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
