/* roofargs.c: the options that choose a device and the time model's terms,
 * shared by lmp-roofline and lmp-eval --hardware (the fused sweep), so both
 * read them alike and time a document alike. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmp.h"

const lmp_roofopt lmp_roofopts[] = {
	{"hardware", 1}, {"devices", 1}, {"gpus-per-node", 1}, {"compute-efficiency", 1},
	{"memory-efficiency", 1}, {"unfused", 0}, {"calibration", 1}, {"ideal", 0}, {NULL, 0},
};

/* A fraction of peak in (0, 1]. */
static int
fraction(const char *opt, const char *s, double *out, lmp_err *e)
{
	lmp_num v, one = lmp_num_int(1);

	if (lmp_num_parse(s, strlen(s), &v) || lmp_num_sign(&v) <= 0 || lmp_num_cmp(&v, &one) > 0)
		return lmp_fail(e, LMP_EXIT_USAGE, "%s: '%s' is not a fraction in (0, 1]", opt, s);
	*out = lmp_num_to_double(&v);
	return 0;
}

void
lmp_roofargs_init(lmp_roofargs *a)
{
	memset(a, 0, sizeof *a);
	a->r.devices = 1;
	a->r.compute_eff = a->r.memory_eff = 1;
}

int
lmp_roofargs_set(lmp_roofargs *a, int i, const char *arg, lmp_err *e)
{
	int64_t n;

	switch (i) {
	case 0: a->hardware = arg; break;
	case 1:
		if (lmp_parse_i64(arg, 1, 65536, &n))
			return lmp_fail(e, LMP_EXIT_USAGE, "--devices: not an integer in [1, 65536]");
		a->r.devices = (int)n;
		a->r.devices_given = 1;
		break;
	case 2:
		if (lmp_parse_i64(arg, 1, 65536, &n))
			return lmp_fail(e, LMP_EXIT_USAGE, "--gpus-per-node: not an integer in [1, 65536]");
		a->r.gpus_per_node = (int)n;
		break;
	case 3: return fraction("--compute-efficiency", arg, &a->r.compute_eff, e);
	case 4: return fraction("--memory-efficiency", arg, &a->r.memory_eff, e);
	case 5: a->r.unfused = 1; break;
	case 6: a->calibration = arg; break;
	case 7: a->ideal = 1; break;
	}
	a->given = 1;
	return 0;
}

/* The device, and where the time model's terms come from (lmp-roofline(1)
 * TIME MODEL): --ideal, else --calibration or LMP_CALIBRATION (none: the
 * ideal terms), else the shipped calibration, which may be absent
 * (uncalibrated). */
int
lmp_roofargs_load(lmp_roofargs *a, lmp_err *e)
{
	const char *path;
	int dflt;

	if (!(a->hw = lmp_hw_load(a->hardware, e)))
		return -1;
	a->r.hw = a->hw;
	if (a->ideal) {
		a->r.tmode = LMP_TM_IDEAL;
		return 0;
	}
	path = lmp_calibration_path(a->calibration, &dflt);
	if (!path) {
		a->r.tmode = LMP_TM_NONE;
		return 0;
	}
	a->r.tmode = LMP_TM_DEFAULT;
	if (dflt && access(path, F_OK))
		return 0;
	if (!(a->cal = lmp_calibration_load(path, e)))
		return -1;
	a->r.cal = a->cal;
	return 0;
}

void
lmp_roofargs_free(lmp_roofargs *a)
{
	lmp_hw_free(a->hw);
	lmp_calibration_free(a->cal);
	a->hw = NULL;
	a->cal = NULL;
}
