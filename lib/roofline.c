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
	double time, compute, memory, flops, bytes, act_peak, comm;
};

/* The document's parallel layout (lmp-eval(1) PARALLELISM): the devices
 * its rows are one of, and how many GPUs share a node's links. */
struct lay {
	int on;
	double tp, pp, ep, dp, devices;
	int gpn;
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

/* A level's link figures; an unknown latency is written null with the
 * assumption made, an unknown bandwidth null (a group that needs it is
 * refused). */
static void
link_figures(cJSON *k, const char *level, double bw, double lat)
{
	char key[64];

	if (bw == 0)
		return;
	snprintf(key, sizeof key, "%s_bytes_per_s", level);
	if (isnan(bw))
		cJSON_AddNullToObject(k, key);
	else
		add_num(k, key, bw);
	snprintf(key, sizeof key, "%s_latency_s", level);
	if (isnan(lat)) {
		cJSON_AddNullToObject(k, key);
		snprintf(key, sizeof key, "%s_latency_note", level);
		cJSON_AddStringToObject(k, key, "unknown in the hardware file: taken as 0, so the collectives' time is "
			"their bandwidth term alone (a lower bound)");
	} else {
		add_num(k, key, lat);
	}
}

/* A collective row, timed on the link its group uses (collective.c):
 * inside a node (scale-up) unless the group spans nodes.  Its bytes are
 * summed over the phase's steps; each step pays the latencies again. */
static int
time_collective(cJSON *r, const cJSON *c, const lmp_roof_opts *o, const struct lay *L, double steps, double count,
	struct sums *s, lmp_err *e)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(c, "kind"), *g = cJSON_GetObjectItemCaseSensitive(c, "group");
	double n = num_at(c, "size"), bytes = num_at(c, "bytes"), bw, lat, t;
	int kind = cJSON_IsString(k) ? lmp_coll_kind(k->valuestring) : 0, cross;

	if (!kind || !cJSON_IsString(g) || !(n >= 1 && n <= 65536) || !(bytes >= 0) || !isfinite(bytes))
		return lmp_fail(e, LMP_EXIT_INPUT, "a collective row without a known kind, group, size and bytes");
	/* ranks are numbered TP first, then DP, then PP (Megatron-LM's and
	 * vLLM's order): a TP or EP group is consecutive; a pipeline's
	 * transfers stay in a node only when the whole layout does */
	cross = !strcmp(g->valuestring, "pp") ? L->devices > L->gpn : n > L->gpn;
	bw = cross ? o->hw->scaleout_bw : o->hw->scaleup_bw;
	lat = cross ? o->hw->scaleout_latency : o->hw->scaleup_latency;
	if (!(bw > 0))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: the hardware file has %s interconnect.%s.bytes_per_s to time "
			"the collectives of a group of %g%s", o->hw->id, isnan(bw) ? "an unknown" : "no",
			cross ? "scale_out" : "scale_up", n, cross ? " across nodes (--gpus-per-node lifts it if they share "
			"one scale-up domain)" : "");
	if (isnan(lat))
		lat = 0; /* unknown: the bandwidth term alone, a lower bound (lmp-hardware(5)) */
	t = lmp_coll_time(kind, (int)n, bytes, bw, 0) + steps * lmp_coll_steps(kind, (int)n) * lat;
	annotate(r, 0, 0, 0, 0, t, 0, bw);
	cJSON_ReplaceItemInObjectCaseSensitive(r, "bound", cJSON_CreateString("link"));
	cJSON_AddStringToObject(r, "link", cross ? "scale_out" : "scale_up");
	s->time += count * t;
	s->comm += count * t;
	return 0;
}

/* A step or a phase.  With rows, its time is the sum of its layers' times
 * and its collectives' (not overlapped with compute); without (lmp-eval
 * --totals), the whole step is timed as one kernel. */
static int
time_phase(cJSON *ph, const lmp_roof_opts *o, const struct lay *L, double steps, int abit, double peak, double bw,
	struct sums *s, lmp_err *e)
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
		const cJSON *coll = cJSON_GetObjectItemCaseSensitive(r, "collective");
		if (coll) {
			if (time_collective(r, coll, o, L, steps, count, s, e))
				return -1;
			continue;
		}
		double rp = peak;
		int prec = row_precision(r, o, abit);
		if (work(r, o->unfused, &f, &by, &act, e))
			return -1;
		if (prec >= 0) {
			rp = o->hw->peak[prec] * (L->on ? 1 : o->devices) * o->compute_eff;
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
		if (L->on && num_at(tot, "collective_bytes") > 0)
			return lmp_fail(e, LMP_EXIT_INPUT, "a layout's collectives are timed per row: evaluate without --totals");
		s->compute = f / peak;
		s->memory = by / bw;
		s->time = s->compute > s->memory ? s->compute : s->memory;
		s->act_peak = NAN; /* unknown without layers */
	}
	if (!isfinite(s->time))
		return lmp_fail(e, LMP_EXIT_INPUT, "time is not finite (bytes or FLOPs beyond any device)");
	annotate(tot, f, by, s->compute, s->memory, s->time, peak, bw);
	if (L->on)
		add_num(tot, "collective_time_s", s->comm);
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
	double block; /* runtime.kv_block: the state grows in whole blocks (1: by the token) */
	int nwin, nact;
	double win_max[MAXCURVES], win_slope[MAXCURVES];
	double act_fixed[MAXCURVES], act_slope[MAXCURVES], act_max[MAXCURVES]; /* act_max INFINITY: unbounded */
};

static double
need_at(const struct curve *k, double c)
{
	double cp = k->block > 1 ? ceil(c / k->block) * k->block : c; /* the cache in whole blocks */
	double n = k->fixed + k->slope * cp, act = k->a0 + k->a1 * c;
	int i;

	for (i = 0; i < k->nwin; i++)
		n += k->win_slope[i] * (cp < k->win_max[i] ? cp : k->win_max[i]);
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

/* The engine's memory (lmp-engine(5)), where the document names a
 * fraction of the device (runtime.gpu_memory_utilization) and a profile
 * run: what is left for the KV cache once the weights, the profile run's
 * activation peak and what the engine holds outside its tensors are in
 * place, by the engine's rule (runtime.memory_rule), in whole blocks of
 * per-token bytes across layers: the figure the engine sizes at start-up
 * (vLLM prints "GPU KV cache size: N tokens").
 *   total (vLLM):   fraction x capacity - reserve - weights - peak
 *   static (SGLang): fraction x capacity - reserve - weights (the
 *                    activations live in the rest of the device)
 *   free (TensorRT-LLM): fraction x (capacity - reserve - weights - peak)
 * Writes the fit's engine members and returns the memory the fit is judged
 * against (weights, the activations the fraction holds and the KV memory),
 * with in *act the activations held inside it (the peak, or 0 for static)
 * and in *seqs the sequences of the document's context the blocks hold; or
 * returns the device's capacity, *act and *seqs untouched, where the
 * document has no engine memory. */
static double
engine_memory(cJSON *f, const cJSON *doc, double cap, double w, double kv, double batch, double context,
	double *act, double *seqs)
{
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(doc, "runtime");
	const cJSON *tot = cJSON_GetObjectItemCaseSensitive(doc, "totals");
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(tot, "state_growth"), *win;
	const char *rule = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rt, "memory_rule"));
	double util = num_at(rt, "gpu_memory_utilization"), reserve = num_at(rt, "reserve_bytes");
	double block = num_at(rt, "kv_block"), peak = num_at(cJSON_GetObjectItemCaseSensitive(tot, "profile_run"),
		"activation_bytes");
	double per, avail, blocks, inside;

	if (!(util > 0 && util <= 1) || !(peak >= 0))
		return cap;
	if (!(reserve >= 0))
		reserve = 0;
	if (!(block >= 1))
		block = 1;
	/* one token in every layer: the state's growth per token of the batch */
	per = num_at(g, "per_token");
	cJSON_ArrayForEach(win, cJSON_GetObjectItemCaseSensitive(g, "windows"))
		per += num_at(win, "per_token");
	per = cJSON_IsObject(g) && per >= 0 ? per / batch : kv / context / batch;
	inside = rule && !strcmp(rule, "static") ? 0 : peak;
	if (rule && !strcmp(rule, "free"))
		avail = floor(util * (cap - reserve - w - peak));
	else
		avail = floor(util * cap) - reserve - w - inside;
	if (avail < 0)
		avail = 0;
	add_num(f, "engine_memory_bytes", reserve + w + inside + avail);
	add_num(f, "reserve_bytes", reserve);
	add_num(f, "profile_activation_bytes", peak);
	add_num(f, "kv_cache_memory_bytes", avail);
	add_num(f, "kv_bytes_per_token", per);
	blocks = per > 0 ? floor(avail / (per * block)) : 0;
	add_num(f, "kv_cache_blocks", blocks);
	add_num(f, "kv_cache_tokens", blocks * block);
	/* requests of the document's context held at once */
	add_num(f, "max_concurrency", context > 0 ? blocks * block / (ceil(context / block) * block) : 0);
	*seqs = context > 0 ? floor(blocks / ceil(context / block)) : NAN;
	*act = inside;
	return w + inside + avail;
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
	const cJSON *dev = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "parallel"), "device");
	int laid = !isnan(num_at(cJSON_GetObjectItemCaseSensitive(doc, "runtime"), "tp"));
	double cap = o->hw->capacity * (laid ? 1 : o->devices), w, kv = num_at(tot, "state_bytes"), grow, need, mem, limit;
	double share = 1; /* a pipeline stage's device: its share of the state */
	double seqs = NAN, profile = NAN; /* under an engine: the sequences of this context its KV blocks hold */
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
	if (laid && dev) {
		/* the device that holds the most: its stage's weights and state */
		double dw = num_at(dev, "weight_bytes"), ds = num_at(dev, "state_bytes");
		if (!(dw >= 0) || !(ds >= 0))
			return lmp_fail(e, LMP_EXIT_INPUT, "parallel.device without weight_bytes and state_bytes");
		share = kv > 0 ? ds / kv : 1;
		w = dw;
		kv = ds;
		wbj = NULL;
	}
	f = cJSON_AddObjectToObject(doc, "fit");
	if (!known)
		act = 0;
	add_num(f, "capacity_bytes", cap);
	{
		/* under an engine that sizes its memory, the capacity is its own
		 * and the activations those it holds, whatever the step */
		cap = engine_memory(f, doc, cap, w, kv, batch, context, &profile, &seqs);
		if (profile >= 0) {
			act = profile;
			known = 1;
		}
	}
	need = w + kv + act;
	grow = kv + act;
	if (wbj)
		cJSON_AddItemToObject(f, "weights_bytes", cJSON_Duplicate(wbj, 1));
	else
		add_num(f, "weights_bytes", w);
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
	k.block = num_at(cJSON_GetObjectItemCaseSensitive(doc, "runtime"), "kv_block");
	if (!known) {
		k.a0 = 0;
	} else if (grown < context) {
		k.a1 = act / (context - grown);
		k.a0 = -k.a1 * grown;
	} else if (read_activations(tot, o->unfused ? "with_intermediates" : "writes", &k)) {
		k.nact = 0; /* no curves: the step's activations stay as they are */
		k.a0 = act;
	}
	if (seqs >= 0) {
		/* the engine holds its profile run's peak whatever the context */
		k.nact = 0;
		k.a0 = profile;
		k.a1 = 0;
	}
	if (!read_growth(tot, &k)) {
		k.fixed = w + (k.fixed - w) * share;
		k.slope *= share;
		for (int i = 0; i < k.nwin; i++)
			k.win_slope[i] *= share;
	} else {
		/* a layer whose state lmp-eval could not describe: all of it grows */
		k.fixed = w;
		k.slope = kv / context;
		k.nwin = 0;
	}
	mem = w > cap ? 0 : longest_context(&k, cap);
	limit = num_at(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "model"), "positions"), "limit");
	if (w > cap) {
		add_num(f, "max_batch_size", 0);
	} else if (seqs >= 0) {
		/* the engine's activations are one reserve, not per sequence */
		add_num(f, "max_batch_size", seqs > 1073741824.0 ? 1073741824.0 : seqs);
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

/* The layout from the runtime object (lmp-eval records it where one was
 * given); --devices must agree with it, and alone is refused: N devices
 * are a layout, not one device N times as large. */
static int
read_layout(const cJSON *doc, const lmp_roof_opts *o, struct lay *L, lmp_err *e)
{
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(doc, "runtime");

	L->tp = num_at(rt, "tp");
	L->pp = num_at(rt, "pp");
	L->ep = num_at(rt, "ep");
	L->dp = num_at(rt, "dp");
	L->devices = num_at(rt, "devices");
	L->on = !isnan(L->tp);
	L->gpn = o->gpus_per_node ? o->gpus_per_node : o->hw->gpus_per_node;
	if (!L->gpn)
		L->gpn = 1 << 30; /* no figure: every group within a node */
	if (!L->on) {
		if (o->devices > 1)
			return lmp_fail(e, LMP_EXIT_USAGE, "--devices %d: give the layout to lmp-eval (--tp %d, with --pp "
				"and --dp as wanted); --devices then must equal tp x pp x dp", o->devices, o->devices);
		return 0;
	}
	if (!(L->tp >= 1 && L->pp >= 1 && L->ep >= 1 && L->dp >= 1 && L->devices == L->tp * L->pp * L->dp))
		return lmp_fail(e, LMP_EXIT_INPUT, "runtime tp, pp, ep, dp and devices are not a layout");
	if (o->devices_given && o->devices != L->devices)
		return lmp_fail(e, LMP_EXIT_USAGE, "--devices %d disagrees with the document's layout: tp x pp x dp = %g",
			o->devices, L->devices);
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
	double peak_raw, bw_raw, peak, bw, context, mult;
	struct sums s = {0}, pre = {0}, dec = {0};
	struct lay L = {0};
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
	if (read_layout(doc, o, &L, e))
		return -1;
	/* a layout's rows are one device's work; else --devices 1 */
	mult = L.on ? 1 : o->devices;
	/* lmp-eval --attention eager: what --unfused says of every document */
	if (cJSON_IsString(attn) && !strcmp(attn->valuestring, "eager")) {
		eager = *o;
		eager.unfused = 1;
		o = &eager;
	}
	prec = lmp_hw_precision(o->hw, (int)wbit, (int)abit);
	peak_raw = o->hw->peak[prec] * mult;
	bw_raw = o->hw->bandwidth * mult;
	peak = peak_raw * o->compute_eff;
	bw = bw_raw * o->memory_eff;
	cJSON_ReplaceItemInObjectCaseSensitive(doc, "lmp", cJSON_CreateString("roofline"));
	h = cJSON_AddObjectToObject(doc, "roofline");
	cJSON_AddStringToObject(h, "hardware", o->hw->id);
	cJSON_AddStringToObject(h, "hardware_name", o->hw->name);
	add_num(h, "devices", L.on ? L.devices : o->devices);
	cJSON_AddStringToObject(h, "compute_precision", lmp_prec_name(prec));
	add_num(h, "peak_flops", peak_raw);
	add_num(h, "memory_bandwidth_bytes_per_s", bw_raw);
	add_num(h, "ridge_point", peak / bw);
	add_num(h, "compute_efficiency", o->compute_eff);
	add_num(h, "memory_efficiency", o->memory_eff);
	cJSON_AddStringToObject(h, "bytes_moved", o->unfused ? "reads + writes + 2 x intermediates" : "reads + writes");
	if (L.on) {
		cJSON *k = cJSON_AddObjectToObject(h, "links");
		add_num(k, "gpus_per_node", L.gpn);
		link_figures(k, "scale_up", o->hw->scaleup_bw, o->hw->scaleup_latency);
		link_figures(k, "scale_out", o->hw->scaleout_bw, o->hw->scaleout_latency);
		snprintf(note, sizeof note, "per device of %g; collectives timed alpha-beta on the links, "
			"not overlapped with compute", L.devices);
		cJSON_AddStringToObject(h, "note", note);
	}
	if (cJSON_IsObject(phases)) {
		cJSON *p = cJSON_GetObjectItemCaseSensitive(phases, "prefill");
		cJSON *d = cJSON_GetObjectItemCaseSensitive(phases, "decode");
		double steps = num_at(d, "steps"), gen = num_at(rt, "gen_len"), prompt = num_at(rt, "prompt_len");
		if (!cJSON_IsObject(p) || !cJSON_IsObject(d) || isnan(steps) || isnan(gen) || isnan(prompt))
			return lmp_fail(e, LMP_EXIT_INPUT, "generation without prefill and decode phases");
		if (time_phase(p, o, &L, 1, (int)abit, peak, bw, &pre, e) ||
		    time_phase(d, o, &L, steps, (int)abit, peak, bw, &dec, e))
			return -1;
		s.time = pre.time + dec.time;
		s.flops = pre.flops + dec.flops;
		s.bytes = pre.bytes + dec.bytes;
		add_num(tot, "time_s", s.time);
		add_num(tot, "ttft_s", pre.time);
		if (steps > 0)
			add_num(tot, "tpot_s", dec.time / steps);
		add_num(tot, "e2e_latency_s", s.time);
		if (L.on)
			add_num(tot, "collective_time_s", pre.comm + dec.comm);
		add_num(tot, "tokens_per_s", s.time > 0 ? batch * gen / s.time : 0);
		utilisation(tot, &s, peak_raw, bw_raw);
		/* a longer context is a longer prompt: the prefill's activations grow */
		context = prompt + gen - 1;
		return fit(doc, o, pre.act_peak, batch, context, gen - 1, e);
	}
	if (time_phase(doc, o, &L, 1, (int)abit, peak, bw, &s, e))
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
