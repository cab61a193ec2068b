/* lmp-roofline: time, bound and memory fit of eval documents on a device. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmp.h"

static const char usage_text[] =
	"usage: lmp-roofline --hardware NAME|FILE [--devices N] [--gpus-per-node N] [--compute-efficiency X]\n"
	"                    [--memory-efficiency X] [--calibration FILE|none] [--ideal] [--unfused] [--pretty]\n"
	"                    [FILE]\n"
	"       lmp-roofline --list-hardware\n"
	"       lmp-roofline --help | --version\n";

struct opts {
	const char *hardware, *file, *calibration;
	int list, pretty, ideal;
	lmp_roof_opts r;
};



/* A fraction of peak in (0, 1]. */
static double
fraction(const char *opt, const char *s)
{
	lmp_num v, one = lmp_num_int(1);
	char msg[160];

	if (lmp_num_parse(s, strlen(s), &v) || lmp_num_sign(&v) <= 0 || lmp_num_cmp(&v, &one) > 0) {
		snprintf(msg, sizeof msg, "%s: '%s' is not a fraction in (0, 1]", opt, s);
		lmp_usage_error(msg);
	}
	return lmp_num_to_double(&v);
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_HW = 256, O_DEV, O_GPN, O_CE, O_ME, O_UNF, O_CAL, O_IDEAL, O_LIST, O_PRETTY, O_HELP, O_VERSION };
	static const struct option longs[] = {
		{"hardware", required_argument, 0, O_HW},
		{"devices", required_argument, 0, O_DEV},
		{"gpus-per-node", required_argument, 0, O_GPN},
		{"compute-efficiency", required_argument, 0, O_CE},
		{"memory-efficiency", required_argument, 0, O_ME},
		{"unfused", no_argument, 0, O_UNF},
		{"calibration", required_argument, 0, O_CAL},
		{"ideal", no_argument, 0, O_IDEAL},
		{"list-hardware", no_argument, 0, O_LIST},
		{"pretty", no_argument, 0, O_PRETTY},
		{"help", no_argument, 0, O_HELP},
		{"version", no_argument, 0, O_VERSION},
		{0, 0, 0, 0},
	};
	char msg[256];
	int64_t n;
	int c;

	o->r.devices = 1;
	o->r.compute_eff = o->r.memory_eff = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case O_HW: o->hardware = optarg; break;
		case O_DEV:
			if (lmp_parse_i64(optarg, 1, 65536, &n))
				lmp_usage_error("--devices: not an integer in [1, 65536]");
			o->r.devices = (int)n;
			o->r.devices_given = 1;
			break;
		case O_GPN:
			if (lmp_parse_i64(optarg, 1, 65536, &n))
				lmp_usage_error("--gpus-per-node: not an integer in [1, 65536]");
			o->r.gpus_per_node = (int)n;
			break;
		case O_CE: o->r.compute_eff = fraction("--compute-efficiency", optarg); break;
		case O_ME: o->r.memory_eff = fraction("--memory-efficiency", optarg); break;
		case O_UNF: o->r.unfused = 1; break;
		case O_CAL: o->calibration = optarg; break;
		case O_IDEAL: o->ideal = 1; break;
		case O_LIST: o->list = 1; break;
		case O_PRETTY: o->pretty = 1; break;
		case O_HELP: fputs(usage_text, stdout); exit(lmp_close_stdout());
		case O_VERSION: puts("lmp-roofline " LMP_VERSION); exit(lmp_close_stdout());
		default:
			snprintf(msg, sizeof msg, "unknown or incomplete option '%s'", argv[optind - 1]);
			lmp_usage_error(msg);
		}
	}
	if (argc - optind > 1)
		lmp_usage_error("at most one input file");
	o->file = optind < argc ? argv[optind] : NULL;
	if (!o->list && !o->hardware)
		lmp_usage_error("--hardware NAME is required; --list-hardware names the devices");
}

/* Where the time model's terms come from (lmp-roofline(1) TIME MODEL):
 * --ideal, else --calibration or LMP_CALIBRATION (none: the ideal terms),
 * else the shipped calibration, which may be absent (uncalibrated). */
static void
choose_calibration(struct opts *o)
{
	const char *path;
	lmp_err e = {0};
	int dflt;

	if (o->ideal) {
		o->r.tmode = LMP_TM_IDEAL;
		return;
	}
	path = lmp_calibration_path(o->calibration, &dflt);
	if (!path) {
		o->r.tmode = LMP_TM_NONE;
		return;
	}
	o->r.tmode = LMP_TM_DEFAULT;
	if (dflt && access(path, F_OK))
		return;
	if (!(o->r.cal = lmp_calibration_load(path, &e)))
		lmp_die(&e);
}

/* id, name, bf16 (or best 16-bit) dense FLOP/s, bandwidth, capacity. */
static int
list_hardware(void)
{
	char **ids;
	int n, i;
	lmp_err e = {0};

	ids = lmp_data_list("hardware", &n);
	for (i = 0; i < n; i++) {
		lmp_hw *hw = lmp_hw_load(ids[i], &e);
		if (!hw)
			lmp_die(&e);
		int p = lmp_hw_precision(hw, 16, 16);
		printf("%s\t%s\t%s %.4g TFLOP/s\t%.4g TB/s\t%.4g GiB\n", hw->id, hw->name, lmp_prec_name(p),
			hw->peak[p] / 1e12, hw->bandwidth / 1e12, hw->capacity / 1073741824.0);
		lmp_hw_free(hw);
		free(ids[i]);
	}
	free(ids);
	return lmp_close_stdout();
}

int
main(int argc, char **argv)
{
	struct opts o = {0};
	lmp_err e = {0};
	lmp_buf out = {0};
	lmp_json_reader rd;
	cJSON *doc;
	lmp_hw *hw;
	int n = 0, rc = 0;

	lmp_start("lmp-roofline");
	parse_opts(argc, argv, &o);
	if (o.list)
		return list_hardware();
	if (!(hw = lmp_hw_load(o.hardware, &e)))
		lmp_die(&e);
	o.r.hw = hw;
	choose_calibration(&o);
	if (lmp_json_reader_open(&rd, o.file, lmp_chain(), &e))
		lmp_die(&e);
	/* A stream filter: a document is read, annotated and written before the
	 * next is read, so memory stays flat over a sweep of millions of points. */
	while (!rc && (doc = lmp_json_read(&rd, &e))) {
		n++;
		if (!(rc = lmp_roofline(doc, &o.r, &e))) {
			lmp_json_print_buf(doc, o.pretty, &out);
			lmp_buf_putc(&out, '\n');
			if (out.len > 65536) {
				if (fwrite(out.s, 1, out.len, stdout) != out.len)
					rc = lmp_fail(&e, LMP_EXIT_SYSTEM, "write error on stdout");
				out.len = 0;
			}
		}
		cJSON_Delete(doc);
	}
	if (!rc && e.status)
		rc = -1;
	if (!rc && !n)
		rc = lmp_fail(&e, LMP_EXIT_INPUT, "%s: no document on input", rd.name);
	/* Whole documents only: those done before an error are written too. */
	if (out.len && fwrite(out.s, 1, out.len, stdout) != out.len && !rc)
		rc = lmp_fail(&e, LMP_EXIT_SYSTEM, "write error on stdout");
	lmp_json_reader_free(&rd);
	lmp_buf_free(&out);
	lmp_hw_free(hw);
	lmp_calibration_free((lmp_calibration *)o.r.cal);
	if (rc)
		lmp_die(&e);
	return lmp_close_stdout();
}
