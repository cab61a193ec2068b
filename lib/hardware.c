/* hardware.c: device descriptions.  Every figure carries its datasheet
 * source; a file with a missing, non-positive or absurd figure is refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmp.h"

static const char *const prec_names[LMP_NPREC] = {
	"fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4",
};

const char *
lmp_prec_name(int prec)
{
	return prec_names[prec];
}

/* A figure {"value": positive number <= max, "source": "..."}; 0 if absent
 * and optional, -1 on error. */
static int
figure(const cJSON *parent, const char *key, double max, int required, double *out, const char *file, lmp_err *e)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(parent, key);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, "value");
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(f, "source");
	lmp_num n;

	*out = 0;
	if (!f) {
		if (!required)
			return 0;
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: missing %s", file, key);
	}
	if (lmp_json_num(v, &n) || lmp_num_sign(&n) <= 0 || lmp_num_to_double(&n) > max)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s.value must be a number in (0, %g]", file, key, max);
	if (!cJSON_IsString(src) || strlen(src->valuestring) < 4)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s has no \"source\"", file, key);
	*out = lmp_num_to_double(&n);
	return 0;
}

/* A link figure that may be unknown (lmp-hardware(5)): "value": null with
 * a note beginning "unknown:" gives NAN; otherwise as figure(). */
static int
link_figure(const cJSON *parent, const char *key, double max, double *out, const char *file, lmp_err *e)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(parent, key);
	const cJSON *note = cJSON_GetObjectItemCaseSensitive(f, "note");

	if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(f, "value"))) {
		if (!cJSON_IsString(note) || strncmp(note->valuestring, "unknown:", 8))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: %s.value is null without a note beginning \"unknown:\"",
				file, key);
		*out = NAN;
		return 0;
	}
	return figure(parent, key, max, 1, out, file, e);
}

/* interconnect.scale_up and .scale_out (lmp-hardware(5)): the per-GPU
 * bandwidth in one direction and the latency of the links inside a node
 * and between nodes, and how many GPUs a node holds; optional, each
 * figure sourced. */
static int
links(const cJSON *doc, lmp_hw *hw, const char *file, lmp_err *e)
{
	const cJSON *ic = cJSON_GetObjectItemCaseSensitive(doc, "interconnect");
	const cJSON *up = cJSON_GetObjectItemCaseSensitive(ic, "scale_up");
	const cJSON *out = cJSON_GetObjectItemCaseSensitive(ic, "scale_out");
	double g = 0;

	if (!ic)
		return 0;
	if (!cJSON_IsObject(ic) || (up && !cJSON_IsObject(up)) || (out && !cJSON_IsObject(out)))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: interconnect, scale_up and scale_out must be objects", file);
	if (up && (figure(up, "bytes_per_s", 1e14, 1, &hw->scaleup_bw, file, e) ||
		   link_figure(up, "latency_s", 1, &hw->scaleup_latency, file, e) ||
		   figure(up, "gpus_per_node", 1e6, 1, &g, file, e)))
		return lmp_prefix(e, "interconnect.scale_up: ");
	if (g != (int)g)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: interconnect.scale_up.gpus_per_node must be a whole number", file);
	hw->gpus_per_node = (int)g;
	if (out && (link_figure(out, "bytes_per_s", 1e14, &hw->scaleout_bw, file, e) ||
		    link_figure(out, "latency_s", 1, &hw->scaleout_latency, file, e)))
		return lmp_prefix(e, "interconnect.scale_out: ");
	return 0;
}

/* compute_units and achievable (lmp-hardware(5)): optional, each figure
 * sourced; an achievable figure is never above the datasheet's. */
static int
kernels(const cJSON *doc, lmp_hw *hw, const char *file, lmp_err *e)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "achievable");
	const cJSON *fl = cJSON_GetObjectItemCaseSensitive(a, "flops"), *p;
	double cu;
	int i;

	if (figure(doc, "compute_units", 1e6, 0, &cu, file, e))
		return -1;
	if (cu != (int)cu)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: compute_units.value must be a whole number", file);
	hw->compute_units = (int)cu;
	if (!a)
		return 0;
	if (!cJSON_IsObject(a) || (fl && !cJSON_IsObject(fl)))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: achievable and achievable.flops must be objects", file);
	if (figure(a, "memory_bytes_per_s", 1e15, 0, &hw->achievable_bandwidth, file, e))
		return lmp_prefix(e, "achievable: ");
	if (hw->achievable_bandwidth > hw->bandwidth)
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: achievable.memory_bytes_per_s is above the datasheet's bandwidth", file);
	cJSON_ArrayForEach(p, fl) {
		for (i = 0; i < LMP_NPREC && strcmp(p->string, prec_names[i]); i++)
			;
		if (i == LMP_NPREC)
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: unknown precision achievable.flops.%s", file, p->string);
		if (figure(fl, prec_names[i], 1e18, 1, &hw->achievable_peak[i], file, e))
			return lmp_prefix(e, "achievable.flops: ");
		if (!(hw->peak[i] > 0) || hw->achievable_peak[i] > hw->peak[i])
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: achievable.flops.%s is above the datasheet's peak_flops.%s "
				"(or the device has none)", file, p->string, p->string);
	}
	return 0;
}

static lmp_hw *
from_doc(cJSON *doc, const char *file, lmp_err *e)
{
	lmp_hw *hw = lmp_xcalloc(1, sizeof *hw);
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "lmp");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(doc, "name");
	const cJSON *peak = cJSON_GetObjectItemCaseSensitive(doc, "peak_flops"), *p;
	int i, any = 0;

	hw->doc = doc;
	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "hardware")) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: not a hardware description (needs \"lmp\": \"hardware\")", file);
		goto fail;
	}
	if (!cJSON_IsString(id) || !cJSON_IsString(name) || !cJSON_IsObject(peak)) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: needs \"id\", \"name\" and \"peak_flops\"", file);
		goto fail;
	}
	hw->id = id->valuestring;
	hw->name = name->valuestring;
	cJSON_ArrayForEach(p, peak) {
		for (i = 0; i < LMP_NPREC && strcmp(p->string, prec_names[i]); i++)
			;
		if (i == LMP_NPREC) {
			lmp_fail(e, LMP_EXIT_INPUT, "%s: unknown precision peak_flops.%s (known: fp32 tf32 bf16 fp16 fp8 int8 int4)",
				file, p->string);
			goto fail;
		}
	}
	/* Bounds a hundred times beyond any device of 2026: a figure past them
	 * is a unit mistake. */
	for (i = 0; i < LMP_NPREC; i++) {
		if (figure(peak, prec_names[i], 1e18, 0, &hw->peak[i], file, e))
			goto fail;
		any |= hw->peak[i] > 0;
	}
	if (!any) {
		lmp_fail(e, LMP_EXIT_INPUT, "%s: peak_flops has no precision", file);
		goto fail;
	}
	if (figure(doc, "memory_capacity_bytes", 1e14, 1, &hw->capacity, file, e) ||
	    figure(doc, "memory_bandwidth_bytes_per_s", 1e15, 1, &hw->bandwidth, file, e) ||
	    figure(doc, "onchip_buffer_bytes", 1e12, 1, &hw->onchip, file, e) ||
	    figure(doc, "interconnect_bytes_per_s", 1e15, 1, &hw->interconnect, file, e) || links(doc, hw, file, e) ||
	    kernels(doc, hw, file, e))
		goto fail;
	return hw;
fail:
	lmp_hw_free(hw);
	return NULL;
}

static int
is_path(const char *name)
{
	size_t n = strlen(name);

	return strchr(name, '/') || (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

lmp_hw *
lmp_hw_load(const char *name, lmp_err *e)
{
	char path[4096];
	cJSON *doc;
	lmp_hw *hw;
	char *known;
	int i;

	if (is_path(name)) {
		snprintf(path, sizeof path, "%s", name);
	} else {
		for (i = 0; name[i]; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-_.", name[i]))
				break;
		snprintf(path, sizeof path, "%s/hardware/%s.json", lmp_datadir(), name);
		if (name[i] || !*name || access(path, R_OK) != 0) {
			known = lmp_data_names("hardware");
			lmp_fail(e, LMP_EXIT_INPUT, "unknown device '%s' (known: %s)", name, known);
			free(known);
			return NULL;
		}
	}
	if (!(doc = lmp_json_load_file(path, e)))
		return NULL;
	hw = from_doc(doc, path, e);
	return hw;
}

void
lmp_hw_free(lmp_hw *hw)
{
	if (!hw)
		return;
	cJSON_Delete(hw->doc);
	free(hw);
}

/* GEMM operands meet at the wider of the two widths: 4-bit weights with
 * 16-bit activations are dequantized and run at 16 bits; W8A8 runs in fp8
 * where the device has it, else int8.  Where the natural precision is
 * missing, the next wider one the device has. */
int
lmp_hw_precision(const lmp_hw *hw, int w_bit, int a_bit)
{
	static const int order4[] = {LMP_INT4, LMP_INT8, LMP_FP8, LMP_BF16, LMP_FP16, LMP_FP32, -1};
	static const int order8[] = {LMP_FP8, LMP_INT8, LMP_BF16, LMP_FP16, LMP_FP32, -1};
	static const int order16[] = {LMP_BF16, LMP_FP16, LMP_FP32, -1};
	static const int order32[] = {LMP_FP32, LMP_TF32, LMP_BF16, LMP_FP16, -1};
	int c = w_bit > a_bit ? w_bit : a_bit;
	const int *o = c <= 4 ? order4 : c <= 8 ? order8 : c <= 16 ? order16 : order32;

	for (; *o >= 0; o++)
		if (hw->peak[*o] > 0)
			return *o;
	for (int i = 0; i < LMP_NPREC; i++)
		if (hw->peak[i] > 0)
			return i;
	return LMP_BF16;
}
