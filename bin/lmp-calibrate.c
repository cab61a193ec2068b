/* lmp-calibrate: the time model's terms fitted to measurements. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

static const char usage_text[] =
	"usage: lmp-calibrate [--table | --records] [--check FILE [--tolerance X]] [FILE...]\n"
	"       lmp-calibrate --help | --version\n";

struct opts {
	int table;
	const char *check;
	double tolerance;
};

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_TABLE = 256, O_RECORDS, O_CHECK, O_TOL, O_HELP, O_VERSION };
	static const struct option longs[] = {
		{"table", no_argument, 0, O_TABLE},
		{"records", no_argument, 0, O_RECORDS},
		{"check", required_argument, 0, O_CHECK},
		{"tolerance", required_argument, 0, O_TOL},
		{"help", no_argument, 0, O_HELP},
		{"version", no_argument, 0, O_VERSION},
		{0, 0, 0, 0},
	};
	char msg[256], *end;
	int c;

	o->tolerance = 0.01;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case O_TABLE: o->table = 1; break;
		case O_RECORDS: o->table = LMP_CAL_RECORDS; break;
		case O_CHECK: o->check = optarg; break;
		case O_TOL:
			o->tolerance = strtod(optarg, &end);
			if (end == optarg || *end || !(o->tolerance >= 0 && o->tolerance <= 1))
				lmp_usage_error("--tolerance: not a number in [0, 1]");
			break;
		case O_HELP: fputs(usage_text, stdout); exit(lmp_close_stdout());
		case O_VERSION: puts("lmp-calibrate " LMP_VERSION); exit(lmp_close_stdout());
		default:
			snprintf(msg, sizeof msg, "unknown or incomplete option '%s'", argv[optind - 1]);
			lmp_usage_error(msg);
		}
	}
}

static double
figure(const cJSON *h, const char *key, const char *file, lmp_err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, key);

	if (!cJSON_IsNumber(v)) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: no heldout.%s", file, key);
		return NAN;
	}
	return v->valuedouble;
}

/* The ratchet: the held-out errors now against those recorded in file. */
static int
check(const char *file, const lmp_calstats *now, double tol, lmp_buf *out, lmp_err *e)
{
	cJSON *doc = lmp_json_load_file(file, e);
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(doc, "heldout");
	double med, p90, sig;
	int rc = -1;

	if (!doc)
		return -1;
	if (isnan(med = figure(h, "median_abs_error", file, e)) || isnan(p90 = figure(h, "p90_abs_error", file, e)) ||
	    isnan(sig = figure(h, "median_signed_error", file, e)))
		goto out;
	if (now->median_abs > med + tol)
		lmp_fail(e, 1, "held-out median error %.4g is worse than the %.4g recorded in %s (tolerance %g)",
			now->median_abs, med, file, tol);
	else if (now->p90_abs > p90 + tol)
		lmp_fail(e, 1, "held-out p90 error %.4g is worse than the %.4g recorded in %s (tolerance %g)",
			now->p90_abs, p90, file, tol);
	else if (fabs(now->median_signed) > fabs(sig) + tol)
		lmp_fail(e, 1, "held-out median signed error %.4g is further from 0 than the %.4g recorded in %s "
			"(tolerance %g)", now->median_signed, sig, file, tol);
	else
		rc = 0;
	/* beside today's line "all": what the file records */
	if (!rc)
		lmp_buf_printf(out, "%-28s %5.0f %8.1f%% %8.1f%% %+9.1f%%\n", "recorded", figure(h, "n", file, e), 100 * med,
			100 * p90, 100 * sig);
out:
	cJSON_Delete(doc);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o = {0};
	lmp_err e = {0};
	lmp_buf in = {0}, out = {0};
	lmp_calset s;
	lmp_calstats held;
	lmp_progress prog;
	int i, rc = 0;

	lmp_start("lmp-calibrate");
	parse_opts(argc, argv, &o);
	lmp_calset_init(&s);
	/* on a terminal, after a few seconds: how far it has got (progress.c) */
	lmp_progress_begin(&prog);
	lmp_progress_stage(&prog, optind < argc ? argc - optind : 1, "measurement files read and predicted");
	/* every input read and predicted before anything is written */
	for (i = optind; !rc && i < (optind < argc ? argc : optind + 1); i++) {
		const char *file = i < argc ? argv[i] : NULL;
		in.len = 0;
		rc = lmp_read_input(file, lmp_chain(), &in, &e) ||
			lmp_calset_add(&s, in.s ? in.s : "", in.len, file ? file : "<stdin>", &e);
		lmp_progress_add(&prog, 1);
	}
	if (!rc && !s.nrec)
		rc = lmp_fail(&e, LMP_EXIT_INPUT, "no measurement lmp can predict on input (%d excluded)", s.nex);
	lmp_progress_stage(&prog, 0, "fitting the terms, each with its held-out error");
	if (!rc)
		rc = lmp_calibrate(&s, o.table ? o.table : o.check ? 1 : 0, &out, &held, &e);
	lmp_progress_end(&prog);
	if (!rc && o.check)
		rc = check(o.check, &held, o.tolerance, &out, &e);
	if (!rc && out.len && fwrite(out.s, 1, out.len, stdout) != out.len)
		rc = lmp_fail(&e, LMP_EXIT_SYSTEM, "write error on stdout");
	lmp_calset_free(&s);
	lmp_buf_free(&in);
	lmp_buf_free(&out);
	if (rc)
		lmp_die(&e);
	return lmp_close_stdout();
}
