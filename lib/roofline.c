/* roofline.c: time, bound and fit of eval documents on a device.
 *
 * Each basic layer is one kernel per step: it takes the longer of its
 * compute time (FLOPs at the device's peak in the precision the GEMMs run
 * in) and its memory time (bytes moved at the memory bandwidth), each
 * scaled by the fraction of peak a real kernel reaches.  A phase of many
 * decode steps is timed on its summed work, which is exact when no layer
 * crosses the ridge point during the phase (a projection's intensity does
 * not depend on the context, attention's stays far below the ridge). */
#include <math.h>
#include <string.h>

#include "lmp.h"

struct sums {
	double time, compute, memory, flops, bytes, act_peak;
};

static double
num_at(const cJSON *obj, const char *key)
{
	lmp_num v;

	if (lmp_json_num(cJSON_GetObjectItemCaseSensitive(obj, key), &v))
		return NAN;
	return lmp_num_to_double(&v);
}

static void
add_num(cJSON *obj, const char *key, double x)
{
	lmp_num v;

	if (lmp_num_double(x, &v))
		cJSON_AddNullToObject(obj, key);
	else
		cJSON_AddItemToObject(obj, key, lmp_json_new_num(&v));
}

/* Bytes a kernel moves: reads and writes, and with --unfused the
 * temporaries written and read back. */
static double
moved(const cJSON *q, int unfused)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(q, "bytes");

	return num_at(b, "reads") + num_at(b, "writes") + (unfused ? 2 * num_at(b, "intermediates") : 0);
}

static void
annotate(cJSON *q, double f, double by, double ct, double mt, double t, double peak, double bw)
{
	add_num(q, "intensity", by > 0 ? f / by : 0);
	add_num(q, "attainable_flops", by > 0 && f / by * bw < peak ? f / by * bw : peak);
	add_num(q, "compute_time_s", ct);
	add_num(q, "memory_time_s", mt);
	add_num(q, "time_s", t);
	cJSON_AddStringToObject(q, "bound", ct >= mt ? "compute" : "memory");
}

static int
work(const cJSON *q, int unfused, double *f, double *by, double *act, lmp_err *e)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(q, "bytes");

	*f = num_at(q, "flops");
	*by = moved(q, unfused);
	/* What a layer holds beyond its input: its output, and with --unfused
	 * the temporaries of the eager forward. */
	*act = num_at(b, "writes") + (unfused ? num_at(b, "intermediates") : 0);
	if (!isfinite(*f) || !isfinite(*by) || !isfinite(*act) || *f < 0 || *by < 0)
		return lmp_fail(e, LMP_EXIT_INPUT, "a row or totals without finite, non-negative flops and bytes");
	return 0;
}

/* A row in its own weight format (lmp-eval's weight_format) computes where
 * the format does: fp8 weights in fp8 where the device has it, int8 in
 * int8 likewise, a weight-only format (4-bit groups, nf4, MXFP4) at the
 * activation precision, its weights dequantized in the kernel.  -1 for a
 * row without a format: the document's precision. */
static int
row_precision(const cJSON *r, const lmp_roof_opts *o, int abit)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "weight_format"), "compute");

	if (!cJSON_IsString(c))
		return -1;
	if (!strcmp(c->valuestring, "fp8") && o->hw->peak[LMP_FP8] > 0)
		return LMP_FP8;
	if (!strcmp(c->valuestring, "int8") && o->hw->peak[LMP_INT8] > 0)
		return LMP_INT8;
	return lmp_hw_precision(o->hw, abit, abit);
}

/* A step or a phase.  With rows, its time is the sum of its layers' times;
 * without (lmp-eval --totals), the whole step is timed as one kernel. */
static int
time_phase(cJSON *ph, const lmp_roof_opts *o, int abit, double peak, double bw, struct sums *s, lmp_err *e)
{
	cJSON *rows = cJSON_GetObjectItemCaseSensitive(ph, "rows"), *r;
	cJSON *tot = cJSON_GetObjectItemCaseSensitive(ph, "totals");
	double f, by, act, count, ct, mt;

	memset(s, 0, sizeof *s);
	if (!cJSON_IsObject(tot))
		return lmp_fail(e, LMP_EXIT_INPUT, "eval document without \"totals\"");
	cJSON_ArrayForEach(r, rows) {
		count = num_at(r, "count");
		if (isnan(count) || count < 0)
			return lmp_fail(e, LMP_EXIT_INPUT, "a row without a count");
		double rp = peak;
		int prec = row_precision(r, o, abit);
		if (work(r, o->unfused, &f, &by, &act, e))
			return -1;
		if (prec >= 0) {
			rp = o->hw->peak[prec] * o->devices * o->compute_eff;
			cJSON_AddStringToObject(r, "compute_precision", lmp_prec_name(prec));
		}
		ct = f / rp;
		mt = by / bw;
		annotate(r, f, by, ct, mt, ct > mt ? ct : mt, rp, bw);
		s->time += count * (ct > mt ? ct : mt);
		s->compute += count * ct;
		s->memory += count * mt;
		if (act > s->act_peak)
			s->act_peak = act;
	}
	if (work(tot, o->unfused, &f, &by, &act, e))
		return -1;
	s->flops = f;
	s->bytes = by;
	if (cJSON_GetArraySize(rows) == 0) {
		s->compute = f / peak;
		s->memory = by / bw;
		s->time = s->compute > s->memory ? s->compute : s->memory;
		s->act_peak = NAN; /* unknown without layers */
	}
	if (!isfinite(s->time))
		return lmp_fail(e, LMP_EXIT_INPUT, "time is not finite (bytes or FLOPs beyond any device)");
	annotate(tot, f, by, s->compute, s->memory, s->time, peak, bw);
	return 0;
}

static void
utilisation(cJSON *tot, const struct sums *s, double peak_raw, double bw_raw)
{
	add_num(tot, "mfu", s->time > 0 ? s->flops / (s->time * peak_raw) : 0);
	add_num(tot, "mbu", s->time > 0 ? s->bytes / (s->time * bw_raw) : 0);
}

/* Memory at context c (every sequence holding c tokens) for the document's
 * batch: the stored weights, the state as totals.state_growth describes it
 * (fixed + per_token x c + each window's per_token x min(c, max_tokens): a
 * sliding-window or chunked layer stops growing at its window) and the
 * activations: the largest of totals.activation_growth's curves for a
 * decode step, else a0 + a1 x c. */
#define MAXCURVES 256

struct curve {
	double fixed, slope, a0, a1; /* weights + fixed state; unbounded state per token; activations */
	int nwin, nact;
	double win_max[MAXCURVES], win_slope[MAXCURVES];
	double act_fixed[MAXCURVES], act_slope[MAXCURVES], act_max[MAXCURVES]; /* act_max INFINITY: unbounded */
};

static double
need_at(const struct curve *k, double c)
{
	double n = k->fixed + k->slope * c, act = k->a0 + k->a1 * c;
	int i;

	for (i = 0; i < k->nwin; i++)
		n += k->win_slope[i] * (c < k->win_max[i] ? c : k->win_max[i]);
	for (i = 0; i < k->nact; i++) {
		double a = k->act_fixed[i] + k->act_slope[i] * (c < k->act_max[i] ? c : k->act_max[i]);
		if (a > act)
			act = a;
	}
	return n + act;
}

/* The longest context that fits in cap (need_at never decreases), or -1
 * where memory never limits it (the need stops growing within 2^40). */
static double
longest_context(const struct curve *k, double cap)
{
	double lo = 0, hi = 1099511627776.0; /* 2^40, lmp-eval's longest */

	if (need_at(k, hi) <= cap)
		return -1;
	if (need_at(k, 1) > cap)
		return 0;
	lo = 1;
	while (hi - lo > 1) {
		double mid = floor((lo + hi) / 2);
		if (need_at(k, mid) <= cap)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* totals.state_growth (and, for a decode step, activation_growth[which]),
 * written by lmp-eval: 0, or -1 if absent or malformed. */
static int
read_growth(const cJSON *tot, struct curve *k)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(tot, "state_growth"), *w;
	double f = num_at(g, "fixed"), s = num_at(g, "per_token");

	if (!cJSON_IsObject(g) || !(f >= 0) || !(s >= 0) || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(g, "windows")))
		return -1;
	k->fixed += f;
	k->slope = s;
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(g, "windows")) {
		double m = num_at(w, "max_tokens"), ws = num_at(w, "per_token");
		if (k->nwin == MAXCURVES || !(m >= 1) || !(ws >= 0))
			return -1;
		k->win_max[k->nwin] = m;
		k->win_slope[k->nwin++] = ws;
	}
	return 0;
}

static int
read_activations(const cJSON *tot, const char *which, struct curve *k)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tot, "activation_growth"), which), *c;

	if (!cJSON_IsArray(a))
		return -1;
	cJSON_ArrayForEach(c, a) {
		const cJSON *mx = cJSON_GetObjectItemCaseSensitive(c, "max_tokens");
		double f = num_at(c, "fixed"), s = num_at(c, "per_token"), m = cJSON_IsNull(mx) ? INFINITY : num_at(c, "max_tokens");
		if (k->nact == MAXCURVES || !(f >= 0) || !(s >= 0) || !(m >= 1))
			return -1;
		k->act_fixed[k->nact] = f;
		k->act_slope[k->nact] = s;
		k->act_max[k->nact++] = m;
	}
	return 0;
}

/* Memory needed at the end of the request against the device's capacity,
 * and how far batch and context can grow.  The batch: the KV cache and the
 * activations grow in proportion.  The context: each layer's cache as it
 * grows (not past its window); the activations of a step with new tokens
 * only (a prefill, or a request's prompt) grow with the context, a decode
 * step's stay; and never past the model's position limit.  Without rows
 * the activations are unknown: null. */
static int
fit(cJSON *doc, const lmp_roof_opts *o, double act, double batch, double context, double grown, lmp_err *e)
{
	const cJSON *tot = cJSON_GetObjectItemCaseSensitive(doc, "totals");
	const cJSON *wbj = cJSON_GetObjectItemCaseSensitive(tot, "weight_bytes");
	double cap = o->hw->capacity * o->devices, w, kv = num_at(tot, "state_bytes"), grow, need, mem, limit;
	int known = !isnan(act);
	cJSON *f;
	struct curve k = {0};
	lmp_num wb;

	if (!wbj)
		return lmp_fail(e, LMP_EXIT_INPUT, "eval document without totals.weight_bytes "
			"(written by an older lmp-eval: evaluate it again)");
	if (lmp_json_num(wbj, &wb) || lmp_num_sign(&wb) < 0 || !isfinite(kv) || kv < 0)
		return lmp_fail(e, LMP_EXIT_INPUT, "eval document without weight_bytes or state_bytes");
	w = lmp_num_to_double(&wb);
	f = cJSON_AddObjectToObject(doc, "fit");
	if (!known)
		act = 0;
	need = w + kv + act;
	grow = kv + act;
	add_num(f, "capacity_bytes", cap);
	cJSON_AddItemToObject(f, "weights_bytes", cJSON_Duplicate(wbj, 1));
	add_num(f, "kv_cache_bytes", kv);
	if (known)
		add_num(f, "activation_bytes", act);
	else
		cJSON_AddNullToObject(f, "activation_bytes");
	add_num(f, "needed_bytes", need);
	cJSON_AddBoolToObject(f, "fits", need <= cap);
	/* the activations at context c: a decode step's as lmp-eval described
	 * them; else act x (c - grown) / (context - grown) where the new tokens
	 * grow with the context (grown < context), else act */
	k.fixed = w;
	if (!known) {
		k.a0 = 0;
	} else if (grown < context) {
		k.a1 = act / (context - grown);
		k.a0 = -k.a1 * grown;
	} else if (read_activations(tot, o->unfused ? "with_intermediates" : "writes", &k)) {
		k.nact = 0; /* no curves: the step's activations stay as they are */
		k.a0 = act;
	}
	if (read_growth(tot, &k)) {
		/* a layer whose state lmp-eval could not describe: all of it grows */
		k.fixed = w;
		k.slope = kv / context;
		k.nwin = 0;
	}
	mem = w > cap ? 0 : longest_context(&k, cap);
	limit = num_at(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "model"), "positions"), "limit");
	if (w > cap) {
		add_num(f, "max_batch_size", 0);
	} else if (grow > 0) {
		double mb = floor((cap - w) / (grow / batch));
		add_num(f, "max_batch_size", mb > 1073741824.0 ? 1073741824.0 : mb);
	} else {
		cJSON_AddNullToObject(f, "max_batch_size"); /* nothing grows: unbounded */
	}
	if (mem >= 0 && !(limit < mem))
		add_num(f, "max_context_len", mem);
	else if (limit >= 1)
		add_num(f, "max_context_len", limit);
	else
		cJSON_AddNullToObject(f, "max_context_len"); /* nothing bounds it */
	if (mem >= 0)
		add_num(f, "memory_context_len", mem);
	else
		cJSON_AddNullToObject(f, "memory_context_len");
	if (limit >= 1)
		add_num(f, "position_limit", limit);
	if (!known)
		cJSON_AddStringToObject(f, "note", "activations need per-layer rows: evaluate without --totals");
	else if (!cJSON_GetObjectItemCaseSensitive(tot, "state_growth"))
		cJSON_AddStringToObject(f, "note", "the state's growth with the context is unknown: all of it is assumed to grow");
	return 0;
}

int
lmp_roofline(cJSON *doc, const lmp_roof_opts *o, lmp_err *e)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "lmp");
	cJSON *rt = cJSON_GetObjectItemCaseSensitive(doc, "runtime");
	cJSON *phases = cJSON_GetObjectItemCaseSensitive(doc, "phases");
	cJSON *tot = cJSON_GetObjectItemCaseSensitive(doc, "totals"), *h;
	double wbit = num_at(rt, "w_bit"), abit = num_at(rt, "a_bit"), batch = num_at(rt, "batch_size");
	double peak_raw, bw_raw, peak, bw, context;
	struct sums s = {0}, pre = {0}, dec = {0};
	const cJSON *attn = cJSON_GetObjectItemCaseSensitive(rt, "attention");
	lmp_roof_opts eager;
	char note[256];
	int prec;

	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "eval"))
		return lmp_fail(e, LMP_EXIT_INPUT, "input is not an eval document%s",
			cJSON_IsString(kind) && !strcmp(kind->valuestring, "populated") ? " (run lmp-eval first)" : "");
	if (!cJSON_IsObject(tot))
		return lmp_fail(e, LMP_EXIT_INPUT, "eval document without totals");
	if (!(wbit >= 1 && wbit <= 64 && wbit == floor(wbit)) || !(abit >= 1 && abit <= 64 && abit == floor(abit)))
		return lmp_fail(e, LMP_EXIT_INPUT, "runtime w_bit and a_bit must be integers in [1, 64]");
	if (!(batch >= 1 && batch == floor(batch) && batch <= 1073741824.0))
		return lmp_fail(e, LMP_EXIT_INPUT, "runtime batch_size must be an integer in [1, 2^30]");
	/* lmp-eval --attention eager: what --unfused says of every document */
	if (cJSON_IsString(attn) && !strcmp(attn->valuestring, "eager")) {
		eager = *o;
		eager.unfused = 1;
		o = &eager;
	}
	prec = lmp_hw_precision(o->hw, (int)wbit, (int)abit);
	peak_raw = o->hw->peak[prec] * o->devices;
	bw_raw = o->hw->bandwidth * o->devices;
	peak = peak_raw * o->compute_eff;
	bw = bw_raw * o->memory_eff;
	cJSON_ReplaceItemInObjectCaseSensitive(doc, "lmp", cJSON_CreateString("roofline"));
	h = cJSON_AddObjectToObject(doc, "roofline");
	cJSON_AddStringToObject(h, "hardware", o->hw->id);
	cJSON_AddStringToObject(h, "hardware_name", o->hw->name);
	add_num(h, "devices", o->devices);
	cJSON_AddStringToObject(h, "compute_precision", lmp_prec_name(prec));
	add_num(h, "peak_flops", peak_raw);
	add_num(h, "memory_bandwidth_bytes_per_s", bw_raw);
	add_num(h, "ridge_point", peak / bw);
	add_num(h, "compute_efficiency", o->compute_eff);
	add_num(h, "memory_efficiency", o->memory_eff);
	cJSON_AddStringToObject(h, "bytes_moved", o->unfused ? "reads + writes + 2 x intermediates" : "reads + writes");
	if (o->devices > 1) {
		snprintf(note, sizeof note, "%d devices modelled as one with %d times the compute, bandwidth and memory; "
			"parallelism and its communication are not modelled yet", o->devices, o->devices);
		cJSON_AddStringToObject(h, "note", note);
	}
	if (cJSON_IsObject(phases)) {
		cJSON *p = cJSON_GetObjectItemCaseSensitive(phases, "prefill");
		cJSON *d = cJSON_GetObjectItemCaseSensitive(phases, "decode");
		double steps = num_at(d, "steps"), gen = num_at(rt, "gen_len"), prompt = num_at(rt, "prompt_len");
		if (!cJSON_IsObject(p) || !cJSON_IsObject(d) || isnan(steps) || isnan(gen) || isnan(prompt))
			return lmp_fail(e, LMP_EXIT_INPUT, "generation without prefill and decode phases");
		if (time_phase(p, o, (int)abit, peak, bw, &pre, e) || time_phase(d, o, (int)abit, peak, bw, &dec, e))
			return -1;
		s.time = pre.time + dec.time;
		s.flops = pre.flops + dec.flops;
		s.bytes = pre.bytes + dec.bytes;
		add_num(tot, "time_s", s.time);
		add_num(tot, "ttft_s", pre.time);
		if (steps > 0)
			add_num(tot, "tpot_s", dec.time / steps);
		add_num(tot, "e2e_latency_s", s.time);
		add_num(tot, "tokens_per_s", s.time > 0 ? batch * gen / s.time : 0);
		utilisation(tot, &s, peak_raw, bw_raw);
		/* a longer context is a longer prompt: the prefill's activations grow */
		context = prompt + gen - 1;
		return fit(doc, o, pre.act_peak, batch, context, gen - 1, e);
	}
	if (time_phase(doc, o, (int)abit, peak, bw, &s, e))
		return -1;
	utilisation(tot, &s, peak_raw, bw_raw);
	context = num_at(rt, "seq_len") + num_at(rt, "cache_len");
	if (isnan(context))
		context = num_at(rt, "kv_tokens") / batch;
	/* a prefill's new tokens are its context and grow with it; a step over
	 * a cache keeps its new tokens and its activations */
	return fit(doc, o, s.act_peak, batch, context,
		num_at(rt, "kv_tokens") == num_at(rt, "tokens") ? 0 : context, e);
}
