/* roofline.c: time, bound and fit of eval documents on a device.
 *
 * Each basic layer is one kernel per step, timed by the time model
 * (timemodel.c, lmp-roofline(1) TIME MODEL): the longer of its compute
 * time and its memory time at the ceilings the terms give, and of its
 * launches' floor; each step adds the engine's own time.  A phase of many
 * decode steps is timed on its summed work, which is exact when no layer
 * crosses the ridge point during the phase (a projection's intensity does
 * not depend on the context, attention's stays far below the ridge).  The
 * kernels are read and summed by timed.c, which lmp-calibrate times
 * through too. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "timed.h"

/* A level's link figures; an unknown latency is written null with the
 * assumption made, an unknown bandwidth null (a group that needs it is
 * refused). */
static void
link_figures(lmp_emit *k, const char *level, double bw, double lat)
{
	char key[64];

	if (bw == 0)
		return;
	snprintf(key, sizeof key, "%s_bytes_per_s", level);
	if (isnan(bw))
		lmp_emit_null(k, key);
	else
		lmp_emit_num(k, key, bw);
	snprintf(key, sizeof key, "%s_latency_s", level);
	if (isnan(lat)) {
		lmp_emit_null(k, key);
		snprintf(key, sizeof key, "%s_latency_note", level);
		lmp_emit_str(k, key, "unknown in the hardware file: taken as 0, so the collectives' time is "
			"their bandwidth term alone (a lower bound)");
	} else {
		lmp_emit_num(k, key, lat);
	}
}

static void
utilisation(lmp_emit *tot, double time, double flops, double bytes, double peak_raw, double bw_raw)
{
	lmp_emit_num(tot, "mfu", time > 0 ? flops / (time * peak_raw) : 0);
	lmp_emit_num(tot, "mbu", time > 0 ? bytes / (time * bw_raw) : 0);
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
/* The same curve and capacity give the same answer: a sweep's points of
 * one batch under an engine that sizes its memory share them, so the last
 * one is kept (its members in use compared, not the arrays' tails). */
static int
same_curve(const struct curve *a, const struct curve *b)
{
	return a->fixed == b->fixed && a->slope == b->slope && a->a0 == b->a0 && a->a1 == b->a1 &&
		a->block == b->block && a->nwin == b->nwin && a->nact == b->nact &&
		!memcmp(a->win_max, b->win_max, sizeof *a->win_max * (size_t)a->nwin) &&
		!memcmp(a->win_slope, b->win_slope, sizeof *a->win_slope * (size_t)a->nwin) &&
		!memcmp(a->act_fixed, b->act_fixed, sizeof *a->act_fixed * (size_t)a->nact) &&
		!memcmp(a->act_slope, b->act_slope, sizeof *a->act_slope * (size_t)a->nact) &&
		!memcmp(a->act_max, b->act_max, sizeof *a->act_max * (size_t)a->nact);
}

static double search_context(const struct curve *k, double cap);

static double
longest_context(const struct curve *k, double cap)
{
	static struct curve last;
	static double last_cap, last_len;
	static int kept;

	if (kept && cap == last_cap && same_curve(k, &last))
		return last_len;
	last_len = search_context(k, cap);
	/* the members in use: not 10 KB of arrays at every point */
	last.fixed = k->fixed, last.slope = k->slope, last.a0 = k->a0, last.a1 = k->a1, last.block = k->block;
	last.nwin = k->nwin, last.nact = k->nact;
	memcpy(last.win_max, k->win_max, sizeof *k->win_max * (size_t)k->nwin);
	memcpy(last.win_slope, k->win_slope, sizeof *k->win_slope * (size_t)k->nwin);
	memcpy(last.act_fixed, k->act_fixed, sizeof *k->act_fixed * (size_t)k->nact);
	memcpy(last.act_slope, k->act_slope, sizeof *k->act_slope * (size_t)k->nact);
	memcpy(last.act_max, k->act_max, sizeof *k->act_max * (size_t)k->nact);
	last_cap = cap;
	kept = 1;
	return last_len;
}

static double
search_context(const struct curve *k, double cap)
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

/* What the fit reads of a document's runtime and totals, read once: the
 * direct path keeps it while the settings and the growth members stay the
 * same (a sweep's points share it), lmp_roofline reads it per document. */
struct fitpre {
	int laid;               /* runtime.tp: a layout */
	double block;           /* runtime.kv_block as written (NAN: none) */
	double util, reserve, peak, per; /* the engine's knobs; the profile run's peak; state per token, summed */
	int g_obj, rule;        /* state_growth is an object; memory_rule: 0 total (or none), 1 static, 2 free */
	int growth;             /* read_growth's answer: 0, or -1 */
	int has_growth;         /* totals.state_growth is there (the note) */
	double gfixed, gslope;
	int acts;               /* read_activations' answer for the fit's curves */
	int nwin, nact;
	double win_max[MAXCURVES], win_slope[MAXCURVES];
	double act_fixed[MAXCURVES], act_slope[MAXCURVES], act_max[MAXCURVES];
};

/* totals.state_growth (and, for a decode step, activation_growth[which]),
 * written by lmp-eval: 0, or -1 if absent or malformed. */
static int
read_growth(const cJSON *tot, struct fitpre *k)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(tot, "state_growth"), *w;
	double f = lmp_tnum_at(g, "fixed"), s = lmp_tnum_at(g, "per_token");

	k->nwin = 0;
	if (!cJSON_IsObject(g) || !(f >= 0) || !(s >= 0) || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(g, "windows")))
		return -1;
	k->gfixed = f;
	k->gslope = s;
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(g, "windows")) {
		double m = lmp_tnum_at(w, "max_tokens"), ws = lmp_tnum_at(w, "per_token");
		if (k->nwin == MAXCURVES || !(m >= 1) || !(ws >= 0))
			return -1;
		k->win_max[k->nwin] = m;
		k->win_slope[k->nwin++] = ws;
	}
	return 0;
}

static int
read_activations(const cJSON *tot, const char *which, struct fitpre *k)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tot, "activation_growth"), which), *c;

	k->nact = 0;
	if (!cJSON_IsArray(a))
		return -1;
	cJSON_ArrayForEach(c, a) {
		const cJSON *mx = cJSON_GetObjectItemCaseSensitive(c, "max_tokens");
		double f = lmp_tnum_at(c, "fixed"), s = lmp_tnum_at(c, "per_token"), m = cJSON_IsNull(mx) ? INFINITY : lmp_tnum_at(c, "max_tokens");
		if (k->nact == MAXCURVES || !(f >= 0) || !(s >= 0) || !(m >= 1))
			return -1;
		k->act_fixed[k->nact] = f;
		k->act_slope[k->nact] = s;
		k->act_max[k->nact++] = m;
	}
	return 0;
}

/* The fit's reading of runtime rt and totals tot (fit_input's), the
 * activation curves those of --unfused or not. */
static void
fit_prepare(struct fitpre *p, const cJSON *rt, const cJSON *tot, int unfused)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(tot, "state_growth"), *win;
	const char *rule = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rt, "memory_rule"));

	p->laid = !isnan(lmp_tnum_at(rt, "tp"));
	p->block = lmp_tnum_at(rt, "kv_block");
	p->util = lmp_tnum_at(rt, "gpu_memory_utilization");
	p->reserve = lmp_tnum_at(rt, "reserve_bytes");
	p->peak = lmp_tnum_at(cJSON_GetObjectItemCaseSensitive(tot, "profile_run"), "activation_bytes");
	/* one token in every layer: the state's growth per token of the batch */
	p->per = lmp_tnum_at(g, "per_token");
	cJSON_ArrayForEach(win, cJSON_GetObjectItemCaseSensitive(g, "windows"))
		p->per += lmp_tnum_at(win, "per_token");
	p->g_obj = cJSON_IsObject(g);
	p->has_growth = g != NULL;
	p->rule = rule && !strcmp(rule, "static") ? 1 : rule && !strcmp(rule, "free") ? 2 : 0;
	p->growth = read_growth(tot, p);
	p->acts = read_activations(tot, unfused ? "with_intermediates" : "writes", p);
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
/* The engine members that depend on the capacity, the weights and the
 * batch alone (where the state's per-token bytes are known), as text: a
 * sweep's points of one batch write the same, so the direct path keeps
 * the last. */
struct fitmemo {
	int ok;
	double cap, w, batch;  /* the key */
	double block, blocks, avail, inside;
	lmp_buf text;          /* ,"engine_memory_bytes":...,"kv_cache_tokens":... */
};

static double
engine_memory(lmp_emit *f, const struct fitpre *p, struct fitmemo *memo, double cap, double w, double kv,
	double batch, double context, double *act, double *seqs)
{
	double util = p->util, reserve = p->reserve, block = p->block, peak = p->peak;
	double per, avail, blocks, inside;
	size_t start = 0;

	if (!(util > 0 && util <= 1) || !(peak >= 0))
		return cap;
	/* the text kept holds a leading comma: capacity_bytes is written first */
	if (!f->b || !f->n || f->want || !(p->g_obj && p->per >= 0))
		memo = NULL;
	if (memo && memo->ok && memo->cap == cap && memo->w == w && memo->batch == batch) {
		lmp_buf_add(f->b, memo->text.s, memo->text.len);
		f->n += 7;
		block = memo->block;
		blocks = memo->blocks;
		avail = memo->avail;
		inside = memo->inside;
		goto held;
	}
	if (memo)
		start = f->b->len;
	if (!(reserve >= 0))
		reserve = 0;
	if (!(block >= 1))
		block = 1;
	per = p->g_obj && p->per >= 0 ? p->per / batch : kv / context / batch;
	inside = p->rule == 1 ? 0 : peak;
	if (p->rule == 2)
		avail = floor(util * (cap - reserve - w - peak));
	else
		avail = floor(util * cap) - reserve - w - inside;
	if (avail < 0)
		avail = 0;
	lmp_emit_num(f, "engine_memory_bytes", reserve + w + inside + avail);
	lmp_emit_num(f, "reserve_bytes", reserve);
	lmp_emit_num(f, "profile_activation_bytes", peak);
	lmp_emit_num(f, "kv_cache_memory_bytes", avail);
	lmp_emit_num(f, "kv_bytes_per_token", per);
	blocks = per > 0 ? floor(avail / (per * block)) : 0;
	lmp_emit_num(f, "kv_cache_blocks", blocks);
	lmp_emit_num(f, "kv_cache_tokens", blocks * block);
	if (memo) {
		memo->text.len = 0;
		lmp_buf_add(&memo->text, f->b->s + start, f->b->len - start);
		memo->cap = cap;
		memo->w = w;
		memo->batch = batch;
		memo->block = block;
		memo->blocks = blocks;
		memo->avail = avail;
		memo->inside = inside;
		memo->ok = 1;
	}
held:
	/* requests of the document's context held at once */
	lmp_emit_num(f, "max_concurrency", context > 0 ? blocks * block / (ceil(context / block) * block) : 0);
	*seqs = context > 0 ? floor(blocks / ceil(context / block)) : NAN;
	*act = inside;
	return w + inside + avail;
}

/* What the fit reads of a document: its runtime and totals (pre, above),
 * its weight bytes (the number as written, wb) and state bytes,
 * parallel.device and the model's position limit. */
struct fitin {
	const cJSON *rt, *tot;
	const struct fitpre *pre;
	struct fitmemo *memo;     /* the direct path's engine members kept, or NULL */
	int dev;                  /* parallel.device: the device that holds the most, */
	double dev_wb, dev_state; /* its weight and state bytes */
	const cJSON *wbj; /* the weight bytes' own text, where the document is a tree */
	lmp_num wb;
	double kv, limit;
};

/* Memory needed at the end of the request against the device's capacity,
 * and how far batch and context can grow.  The batch: the KV cache and the
 * activations grow in proportion.  The context: each layer's cache as it
 * grows (not past its window); the activations of a step with new tokens
 * only (a prefill, or a request's prompt) grow with the context, a decode
 * step's stay; and never past the model's position limit.  Without rows
 * the activations are unknown: null.  Written as the document's "fit". */
static int
fit(lmp_emit *dw, const struct fitin *in, const lmp_roof_opts *o, double act, double batch, double context,
	double grown, lmp_err *e)
{
	const struct fitpre *p = in->pre;
	int laid = p->laid, own = 1;
	double cap = o->hw->capacity * (laid ? 1 : o->devices), w, kv = in->kv, grow, need, mem, limit = in->limit;
	double share = 1; /* a pipeline stage's device: its share of the state */
	double seqs = NAN, profile = NAN; /* under an engine: the sequences of this context its KV blocks hold */
	int known = !isnan(act);
	lmp_emit f;
	struct curve k; /* its arrays are filled as far as nwin and nact say: not cleared (10 KB) at every point */

	if (lmp_num_sign(&in->wb) < 0 || !isfinite(kv) || kv < 0)
		return lmp_fail(e, LMP_EXIT_INPUT, "eval document without weight_bytes or state_bytes");
	w = lmp_num_to_double(&in->wb);
	if (laid && in->dev) {
		/* the device that holds the most: its stage's weights and state */
		double dwb = in->dev_wb, ds = in->dev_state;
		if (!(dwb >= 0) || !(ds >= 0))
			return lmp_fail(e, LMP_EXIT_INPUT, "parallel.device without weight_bytes and state_bytes");
		share = kv > 0 ? ds / kv : 1;
		w = dwb;
		kv = ds;
		own = 0;
	}
	f = lmp_emit_open(dw, "fit");
	if (!known)
		act = 0;
	lmp_emit_num(&f, "capacity_bytes", cap);
	{
		/* under an engine that sizes its memory, the capacity is its own
		 * and the activations those it holds, whatever the step */
		cap = engine_memory(&f, p, in->memo, cap, w, kv, batch, context, &profile, &seqs);
		if (profile >= 0) {
			act = profile;
			known = 1;
		}
	}
	need = w + kv + act;
	grow = kv + act;
	if (own && in->wbj)
		lmp_emit_item(&f, "weights_bytes", in->wbj);
	else if (own)
		lmp_emit_numtext(&f, "weights_bytes", &in->wb);
	else
		lmp_emit_num(&f, "weights_bytes", w);
	lmp_emit_num(&f, "kv_cache_bytes", kv);
	if (known)
		lmp_emit_num(&f, "activation_bytes", act);
	else
		lmp_emit_null(&f, "activation_bytes");
	lmp_emit_num(&f, "needed_bytes", need);
	lmp_emit_bool(&f, "fits", need <= cap);
	/* the activations at context c: a decode step's as lmp-eval described
	 * them; else act x (c - grown) / (context - grown) where the new tokens
	 * grow with the context (grown < context), else act */
	k.fixed = w;
	k.slope = k.a0 = k.a1 = 0;
	k.nwin = k.nact = 0;
	k.block = p->block;
	if (!known) {
		k.a0 = 0;
	} else if (grown < context) {
		k.a1 = act / (context - grown);
		k.a0 = -k.a1 * grown;
	} else if (p->acts) {
		k.nact = 0; /* no curves: the step's activations stay as they are */
		k.a0 = act;
	} else {
		k.nact = p->nact;
		memcpy(k.act_fixed, p->act_fixed, sizeof *k.act_fixed * (size_t)p->nact);
		memcpy(k.act_slope, p->act_slope, sizeof *k.act_slope * (size_t)p->nact);
		memcpy(k.act_max, p->act_max, sizeof *k.act_max * (size_t)p->nact);
	}
	if (seqs >= 0) {
		/* the engine holds its profile run's peak whatever the context */
		k.nact = 0;
		k.a0 = profile;
		k.a1 = 0;
	}
	if (!p->growth) {
		k.fixed += p->gfixed;
		k.slope = p->gslope;
		k.nwin = p->nwin;
		memcpy(k.win_max, p->win_max, sizeof *k.win_max * (size_t)p->nwin);
		k.fixed = w + (k.fixed - w) * share;
		k.slope *= share;
		for (int i = 0; i < k.nwin; i++)
			k.win_slope[i] = p->win_slope[i] * share;
	} else {
		/* a layer whose state lmp-eval could not describe: all of it grows */
		k.fixed = w;
		k.slope = kv / context;
		k.nwin = 0;
	}
	mem = w > cap ? 0 : longest_context(&k, cap);
	if (w > cap) {
		lmp_emit_num(&f, "max_batch_size", 0);
	} else if (seqs >= 0) {
		/* the engine's activations are one reserve, not per sequence */
		lmp_emit_num(&f, "max_batch_size", seqs > 1073741824.0 ? 1073741824.0 : seqs);
	} else if (grow > 0) {
		double mb = floor((cap - w) / (grow / batch));
		lmp_emit_num(&f, "max_batch_size", mb > 1073741824.0 ? 1073741824.0 : mb);
	} else {
		lmp_emit_null(&f, "max_batch_size"); /* nothing grows: unbounded */
	}
	if (mem >= 0 && !(limit < mem))
		lmp_emit_num(&f, "max_context_len", mem);
	else if (limit >= 1)
		lmp_emit_num(&f, "max_context_len", limit);
	else
		lmp_emit_null(&f, "max_context_len"); /* nothing bounds it */
	if (mem >= 0)
		lmp_emit_num(&f, "memory_context_len", mem);
	else
		lmp_emit_null(&f, "memory_context_len");
	if (limit >= 1)
		lmp_emit_num(&f, "position_limit", limit);
	if (!known)
		lmp_emit_str(&f, "note", "activations need per-layer rows: evaluate without --totals");
	else if (!p->has_growth)
		lmp_emit_str(&f, "note", "the state's growth with the context is unknown: all of it is assumed to grow");
	lmp_emit_close(&f);
	return 0;
}

/* The fit's inputs from a document. */
static int
fit_input(const cJSON *doc, struct fitin *in, lmp_err *e)
{
	const cJSON *wbj, *dev;

	in->rt = cJSON_GetObjectItemCaseSensitive(doc, "runtime");
	in->tot = cJSON_GetObjectItemCaseSensitive(doc, "totals");
	dev = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "parallel"), "device");
	if ((in->dev = dev != NULL)) {
		in->dev_wb = lmp_tnum_at(dev, "weight_bytes");
		in->dev_state = lmp_tnum_at(dev, "state_bytes");
	}
	in->kv = lmp_tnum_at(in->tot, "state_bytes");
	in->limit = lmp_tnum_at(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "model"),
		"positions"), "limit");
	if (!(in->wbj = wbj = cJSON_GetObjectItemCaseSensitive(in->tot, "weight_bytes")))
		return lmp_fail(e, LMP_EXIT_INPUT, "eval document without totals.weight_bytes "
			"(written by an older lmp-eval: evaluate it again)");
	if (lmp_json_num(wbj, &in->wb))
		return lmp_fail(e, LMP_EXIT_INPUT, "eval document without weight_bytes or state_bytes");
	return 0;
}

/* The terms of a document (lmp-roofline(1) TIME MODEL) and where they
 * come from: S->tp, S->ceilings (uncalibrated: the kernels start from the
 * hardware file's achievable figures), and what time_model says of them. */
static void
choose_terms(const cJSON *doc, struct lmp_roofset *S)
{
	const lmp_roof_opts *o = &S->oo;
	const cJSON *eng = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "runtime"), "engine");
	const char *engine = cJSON_IsString(eng) ? eng->valuestring : "transformers";
	double wb = lmp_tnum_at(cJSON_GetObjectItemCaseSensitive(doc, "runtime"), "w_bit");
	const cJSON *en = o->tmode == LMP_TM_DEFAULT && o->cal ?
		lmp_calibration_select(o->cal, o->hw->id, engine, wb > 0 ? (int)wb : 0) : NULL;

	S->ceilings = 0;
	S->en = NULL;
	if (o->tmode == LMP_TM_TERMS) {
		S->tp = o->tp;
		S->status = "given";
		snprintf(S->note, sizeof S->note, "given: terms set by the caller");
		return;
	}
	if (en) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(en, "engine");
		double n = lmp_tnum_at(en, "measurements");
		double med = lmp_tnum_at(cJSON_GetObjectItemCaseSensitive(en, "heldout"), "median_abs_error");
		double eb = lmp_tnum_at(en, "weight_bits");
		char who[160];
		lmp_calibration_terms(en, &S->tp);
		S->status = "calibrated";
		S->en = en;
		/* an entry of one weight precision says which */
		snprintf(who, sizeof who, isnan(eb) ? "%s" : "%s, %g-bit weights",
			cJSON_IsString(e) ? e->valuestring : "every engine pooled", eb);
		if (isnan(med))
			snprintf(S->note, sizeof S->note, "calibrated on %g measurements (%s, %s), held-out error unknown", n,
				o->hw->id, who);
		else
			snprintf(S->note, sizeof S->note, "calibrated on %g measurements (%s, %s), held-out median error "
				"%.1f%%", n, o->hw->id, who, med * 100);
		return;
	}
	if (o->tmode == LMP_TM_DEFAULT) {
		/* no calibration of this device: what microbenchmarks say kernels
		 * reach, GEMMs in waves, no floors */
		S->tp = lmp_tparams_ideal;
		S->tp.waves = 1;
		S->ceilings = 1;
		S->status = "uncalibrated";
		snprintf(S->note, sizeof S->note, "%s", o->hw->achievable_bandwidth > 0 ?
			"uncalibrated: achievable ceilings from microbenchmarks, no per-kernel or per-step overheads: "
			"an optimistic bound" :
			"uncalibrated: datasheet peaks (the hardware file has no achievable figures), no per-kernel or "
			"per-step overheads: an optimistic bound");
		return;
	}
	S->tp = lmp_tparams_ideal;
	S->status = "ideal";
	snprintf(S->note, sizeof S->note, "ideal: datasheet peaks, an optimistic bound");
}

/* roofline.time_model: the status, the terms as applied (the fractions of
 * the datasheet figures, efficiencies not included), the calibration entry
 * they came from and the note. */
static void
time_model(lmp_emit *h, const struct lmp_roofset *S)
{
	const struct lmp_timed *t = &S->t;
	const lmp_tparams *tp = &S->tp;
	lmp_emit m = lmp_emit_open(h, "time_model"), k;

	lmp_emit_str(&m, "status", S->status);
	k = lmp_emit_open(&m, "terms");
	lmp_emit_num(&k, "compute_fraction", t->peak / S->peak_raw * tp->compute_fraction);
	lmp_emit_num(&k, "memory_fraction", t->bandwidth / S->bw_raw * tp->memory_fraction);
	lmp_emit_num(&k, "link_fraction", tp->link_fraction);
	lmp_emit_num(&k, "launch_s", tp->launch_s);
	lmp_emit_num(&k, "step_s", tp->step_s);
	lmp_emit_bool(&k, "waves", tp->waves && t->units > 0);
	if (tp->waves && t->units > 0)
		lmp_emit_num(&k, "compute_units", t->units);
	lmp_emit_close(&k);
	if (S->en) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(S->en, "engine");
		lmp_emit c = lmp_emit_open(&m, "calibration");
		lmp_emit_str(&c, "file", lmp_calibration_file(S->oo.cal));
		lmp_emit_str(&c, "device", S->oo.hw->id);
		if (cJSON_IsString(e))
			lmp_emit_str(&c, "engine", e->valuestring);
		else
			lmp_emit_null(&c, "engine");
		if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(S->en, "weight_bits")))
			lmp_emit_num(&c, "weight_bits", lmp_tnum_at(S->en, "weight_bits"));
		lmp_emit_num(&c, "measurements", lmp_tnum_at(S->en, "measurements"));
		lmp_emit_num(&c, "heldout_median_abs_error",
			lmp_tnum_at(cJSON_GetObjectItemCaseSensitive(S->en, "heldout"), "median_abs_error"));
		lmp_emit_close(&c);
	} else {
		lmp_emit_null(&m, "calibration");
	}
	lmp_emit_str(&m, "note", S->note);
	lmp_emit_close(&m);
}

/* The document's "roofline": the device, its ceilings, the layout's links
 * and the time model. */
static void
roofline_object(lmp_emit *dw, const struct lmp_roofset *S)
{
	const struct lmp_timed *t = &S->t;
	const lmp_roof_opts *o = &S->oo;
	lmp_emit h = lmp_emit_open(dw, "roofline");
	char note[256];

	lmp_emit_str(&h, "hardware", o->hw->id);
	lmp_emit_str(&h, "hardware_name", o->hw->name);
	lmp_emit_num(&h, "devices", t->on ? t->devices : o->devices);
	lmp_emit_str(&h, "compute_precision", lmp_prec_name(t->prec));
	lmp_emit_num(&h, "peak_flops", S->peak_raw);
	lmp_emit_num(&h, "memory_bandwidth_bytes_per_s", S->bw_raw);
	lmp_emit_num(&h, "ridge_point", t->peak * S->q.compute_fraction / (t->bandwidth * S->q.memory_fraction));
	lmp_emit_num(&h, "compute_efficiency", o->compute_eff);
	lmp_emit_num(&h, "memory_efficiency", o->memory_eff);
	lmp_emit_str(&h, "bytes_moved", t->unfused ? "reads + writes + 2 x intermediates" : "reads + writes");
	if (t->on) {
		lmp_emit k = lmp_emit_open(&h, "links");
		lmp_emit_num(&k, "gpus_per_node", t->gpn);
		link_figures(&k, "scale_up", o->hw->scaleup_bw, o->hw->scaleup_latency);
		link_figures(&k, "scale_out", o->hw->scaleout_bw, o->hw->scaleout_latency);
		lmp_emit_close(&k);
		snprintf(note, sizeof note, "per device of %g; collectives timed alpha-beta on the links, "
			"not overlapped with compute", t->devices);
		lmp_emit_str(&h, "note", note);
	}
	time_model(&h, S);
	lmp_emit_close(&h);
}

/* What a document's runtime settings decide: the terms, the ceilings and
 * its kernels read (lmp_timed_init). */
static int
setup(struct lmp_roofset *S, cJSON *doc, const lmp_roof_opts *o, lmp_err *e)
{
	S->oo = *o;
	if (o->tmode == LMP_TM_IDEAL) {
		/* the pure datasheet roofline: --compute-efficiency and
		 * --memory-efficiency do not apply */
		S->oo.compute_eff = S->oo.memory_eff = 1;
	}
	choose_terms(doc, S);
	if (lmp_timed_init(&S->t, doc, &S->oo, S->ceilings, e))
		return -1;
	S->oo.unfused = S->t.unfused; /* lmp-eval --attention eager: --unfused for the fit too */
	S->q = lmp_timed_terms(&S->t, &S->tp);
	S->peak_raw = S->oo.hw->peak[S->t.prec] * S->t.mult;
	S->bw_raw = S->oo.hw->bandwidth * S->t.mult;
	return 0;
}

/* What the fit of a point takes besides the document: the activations
 * held (the largest kernel output), the batch, the context and the part of
 * it that does not grow the activations (lmp-roofline(1) FIT). */
struct fitargs {
	double act, batch, context, grown;
};

/* The times of S's kernels: the totals' members through tw (each phase's
 * through pw[i] where it has phases), and what the fit takes. */
static int
times(struct lmp_roofset *S, lmp_emit *tw, lmp_emit *pw, double batch, double seq, double cache, double kv_tokens,
	double tokens, double prompt, struct fitargs *fa, lmp_err *e)
{
	struct lmp_timed *t = &S->t;
	struct lmp_tsums s[2];
	lmp_times tm;

	for (int i = 0; i < t->nph; i++) {
		lmp_timed_phase(t, i, &S->q, 1, t->gen ? &pw[i] : tw, &s[i]);
		if (!isfinite(s[i].time))
			return lmp_fail(e, LMP_EXIT_INPUT, "time is not finite (bytes or FLOPs beyond any device)");
	}
	lmp_timed_times(t, s, &tm);
	fa->act = t->ph[0].act_peak;
	fa->batch = batch;
	if (t->gen) {
		lmp_emit_num(tw, "time_s", tm.time_s);
		lmp_emit_num(tw, "ttft_s", tm.ttft_s);
		if (t->steps > 0)
			lmp_emit_num(tw, "tpot_s", tm.tpot_s);
		lmp_emit_num(tw, "e2e_latency_s", tm.e2e_s);
		if (t->on) {
			lmp_tsum c = s[0].xcomm;
			lmp_tsum_merge(&c, &s[1].xcomm);
			lmp_emit_num(tw, "collective_time_s", lmp_tsum_value(&c));
		}
		lmp_emit_num(tw, "tokens_per_s", tm.tokens_per_s);
		utilisation(tw, tm.time_s, t->ph[0].flops + t->ph[1].flops, t->ph[0].bytes + t->ph[1].bytes, S->peak_raw,
			S->bw_raw);
		/* a longer context is a longer prompt: the prefill's activations grow */
		fa->context = prompt + t->gen_len - 1;
		fa->grown = t->gen_len - 1;
		return 0;
	}
	utilisation(tw, tm.time_s, t->ph[0].flops, t->ph[0].bytes, S->peak_raw, S->bw_raw);
	fa->context = seq + cache;
	if (isnan(fa->context))
		fa->context = kv_tokens / batch;
	/* a prefill's new tokens are its context and grow with it; a step over
	 * a cache keeps its new tokens and its activations */
	fa->grown = kv_tokens == tokens ? 0 : fa->context;
	return 0;
}

int
lmp_roofline(cJSON *doc, const lmp_roof_opts *o, lmp_err *e)
{
	cJSON *rt = cJSON_GetObjectItemCaseSensitive(doc, "runtime");
	struct lmp_roofset S;
	struct fitin in;
	struct fitpre pre;
	struct fitargs fa = {0};
	lmp_emit dw = {.obj = doc}, tw = {.obj = cJSON_GetObjectItemCaseSensitive(doc, "totals")}, pw[2] = {{0}};
	int rc = -1;

	memset(&S, 0, sizeof S);
	if (setup(&S, doc, o, e))
		goto out;
	/* the document's fit reads its totals: their inputs before the times */
	if (fit_input(doc, &in, e))
		goto out;
	fit_prepare(&pre, in.rt, in.tot, S.oo.unfused);
	in.pre = &pre;
	in.memo = NULL;
	for (int i = 0; i < S.t.nph; i++)
		pw[i].obj = cJSON_GetObjectItemCaseSensitive(S.t.ph[i].ph, "totals");
	cJSON_ReplaceItemInObjectCaseSensitive(doc, "lmp", cJSON_CreateString("roofline"));
	roofline_object(&dw, &S);
	if (!times(&S, &tw, pw, lmp_tnum_at(rt, "batch_size"), lmp_tnum_at(rt, "seq_len"), lmp_tnum_at(rt, "cache_len"),
		    lmp_tnum_at(rt, "kv_tokens"), lmp_tnum_at(rt, "tokens"), lmp_tnum_at(rt, "prompt_len"), &fa, e))
		rc = fit(&dw, &in, &S.oo, fa.act, fa.batch, fa.context, fa.grown, e);
	/* a totals document's kernels are lmp-eval's hand-off (so it can be
	 * timed exactly), not a result: the roofline document drops them */
	for (int i = 0; i < S.t.nph; i++)
		if (S.t.ph[i].kernels)
			cJSON_DeleteItemFromObjectCaseSensitive(S.t.ph[i].ph, "kernels");
out:
	lmp_timed_release(&S.t);
	return rc;
}

/* The fused time sweep (lmp-eval --hardware, lmp-eval(1)): a one-step
 * --totals point timed from its numbers, the roofline members spliced into
 * the eval document's text.  What the runtime settings decide (terms,
 * ceilings, the "roofline" object's text, the runtime the fit reads) is
 * kept while they stay the same, and so are the totals' growth members;
 * the rest goes through the code lmp_roofline runs, so the document is
 * the one lmp-roofline writes. */
struct lmp_roofdirect {
	lmp_roof_opts o;
	int ready;
	char *key;            /* the runtime text the settings were read from, past its step */
	size_t keylen;
	cJSON *doc;           /* {"lmp":"eval","runtime":...,"totals":{...}} of those settings */
	struct lmp_roofset S;
	lmp_buf roof;         /* ,"roofline":{...} */
	char *grown;          /* the growth and profile members last parsed, */
	size_t glen, plen;    /* their lengths */
	cJSON *gtot;          /* those members as an object */
	lmp_buf head;         /* the model head whose position limit is kept, */
	uint64_t head_id;     /* its model's serial (0: the text's, lmp-roofline's) */
	double limit;
	lmp_buf out;
	struct fitpre pre;    /* the fit's reading of those settings and growth members, */
	int pre_ok;           /* where it is current */
	struct fitmemo memo;  /* the engine members of the last batch (fit) */
	int no_roofline, no_fit; /* --fields names neither: not written, the fit not computed */
	const lmp_fields_node *want, *want_totals; /* what --fields names of the document, of its totals */
	int totals_off;       /* --fields names nothing of the totals */
	uint64_t kgen;        /* the kernels S->t holds (lmp_evalpt's kgen), 0 none known */
	int gen;              /* the settings are a request's */
	lmp_buf phb[2];       /* a request: its phases' totals members, */
	lmp_buf whole;        /* and its document as it is rebuilt */
	lmp_buf rowann;       /* a point with rows: each row's members, */
	size_t *ann_at, nann; /* from ann_at[j] (nann of room) */
};

lmp_roofdirect *
lmp_roofdirect_new(const struct lmp_roof_opts *o)
{
	lmp_roofdirect *d = lmp_xcalloc(1, sizeof *d);

	d->o = *o;
	return d;
}

void
lmp_roofdirect_fields(lmp_roofdirect *d, const lmp_fields *f)
{
	const lmp_fields_node *top = lmp_fields_top(f);

	d->want = top;
	d->no_roofline = !lmp_fields_sub(top, "roofline", 8, NULL);
	d->no_fit = !lmp_fields_sub(top, "fit", 3, NULL);
	d->totals_off = !lmp_fields_sub(top, "totals", 6, &d->want_totals);
}

void
lmp_roofdirect_free(lmp_roofdirect *d)
{
	if (!d)
		return;
	lmp_timed_release(&d->S.t);
	cJSON_Delete(d->doc);
	cJSON_Delete(d->gtot);
	free(d->key);
	free(d->grown);
	lmp_buf_free(&d->roof);
	lmp_buf_free(&d->out);
	lmp_buf_free(&d->memo.text);
	lmp_buf_free(&d->phb[0]);
	lmp_buf_free(&d->phb[1]);
	lmp_buf_free(&d->whole);
	lmp_buf_free(&d->rowann);
	lmp_buf_free(&d->head);
	free(d->ann_at);
	free(d);
}

/* The settings of the runtime object at rt (len bytes): those of the last
 * point where its text past the step's own members is the same, else read
 * anew (the settings, the terms, the roofline object).  gen: a request's
 * (its phases' steps and lengths are the point's, set by the caller). */
#define ZERO_TOTALS "\"totals\":{\"flops\":0,\"bytes\":{\"reads\":0,\"writes\":0,\"intermediates\":0}}"
static int
direct_settings(lmp_roofdirect *d, const char *rt, size_t len, const char *from, const char *to, int gen, lmp_err *e)
{
	lmp_buf t = {0};
	cJSON *doc;
	lmp_emit w;

	if (d->key && d->gen == gen && d->keylen == (size_t)(to - from) && !memcmp(d->key, from, (size_t)(to - from)))
		return 0;
	lmp_buf_puts(&t, "{\"lmp\":\"eval\",\"runtime\":");
	lmp_buf_add(&t, rt, len);
	if (gen)
		lmp_buf_puts(&t, ",\"phases\":{\"prefill\":{\"steps\":1,\"runtime\":{},\"kernels\":[]," ZERO_TOTALS "},"
			"\"decode\":{\"steps\":1,\"runtime\":{\"cache_len_first\":0},\"kernels\":[]," ZERO_TOTALS "}},"
			ZERO_TOTALS "}");
	else
		lmp_buf_puts(&t, "," ZERO_TOTALS ",\"kernels\":[]}");
	doc = lmp_json_parse_one(t.s, t.len, "lmp-eval", e);
	lmp_buf_free(&t);
	if (!doc)
		return -1;
	lmp_timed_release(&d->S.t);
	cJSON_Delete(d->doc);
	d->doc = doc;
	free(d->key);
	d->key = NULL;
	memset(&d->S, 0, sizeof d->S);
	d->kgen = 0;
	if (setup(&d->S, doc, &d->o, e))
		return -1;
	d->roof.len = 0;
	w = (lmp_emit){.b = &d->roof, .n = 1};
	roofline_object(&w, &d->S);
	d->key = lmp_xstrndup(from, (size_t)(to - from));
	d->keylen = (size_t)(to - from);
	d->gen = gen;
	d->pre_ok = 0;
	return 0;
}

/* The totals' growth and profile-run members (as written) as an object. */
static int
direct_growth(lmp_roofdirect *d, const char *growth, const char *profile, lmp_err *e)
{
	lmp_buf t = {0};
	size_t gl = strlen(growth), pl = strlen(profile);

	if (d->grown && d->glen == gl && d->plen == pl && !memcmp(d->grown, growth, gl) && !memcmp(d->grown + gl, profile, pl))
		return 0;
	lmp_buf_puts(&t, "{\"state_bytes\":0");
	lmp_buf_puts(&t, growth);
	lmp_buf_puts(&t, profile);
	lmp_buf_putc(&t, '}');
	cJSON_Delete(d->gtot);
	free(d->grown);
	d->grown = NULL;
	d->gtot = lmp_json_parse_one(t.s, t.len, "lmp-eval", e);
	lmp_buf_free(&t);
	if (!d->gtot)
		return -1;
	d->pre_ok = 0;
	d->grown = lmp_xmalloc(gl + pl + 1);
	memcpy(d->grown, growth, gl);
	memcpy(d->grown + gl, profile, pl + 1);
	d->glen = gl;
	d->plen = pl;
	return 0;
}

/* The model's position limit, read from its document's head where the
 * head is new: another model's (lmp-eval's points, by its serial), or
 * other text (lmp-roofline's documents). */
static int
direct_model(lmp_roofdirect *d, const lmp_evalpt *pt, lmp_err *e)
{
	lmp_buf t = {0};
	cJSON *h;

	if (pt->head_id && pt->head_id == d->head_id)
		return 0;
	if (d->head.s && d->head.len == pt->headlen && !memcmp(d->head.s, pt->head, pt->headlen)) {
		d->head_id = pt->head_id;
		return 0;
	}
	lmp_buf_add(&t, pt->head, pt->headlen);
	lmp_buf_puts(&t, "null}");
	h = lmp_json_parse_one(t.s, t.len, "lmp-eval", e);
	lmp_buf_free(&t);
	if (!h)
		return -1;
	d->limit = lmp_tnum_at(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(h, "model"),
		"positions"), "limit");
	cJSON_Delete(h);
	d->head.len = 0;
	lmp_buf_add(&d->head, pt->head, pt->headlen);
	d->head_id = pt->head_id;
	return 0;
}

/* An eval document's start, and the roofline document's in its place. */
static const char eval_head[] = "{\"lmp\":\"eval\"", roof_head[] = "{\"lmp\":\"roofline\"";

size_t
lmp_doc_runtime_at(const lmp_model *m, const char *doc, size_t len)
{
	const size_t rt = sizeof "\"runtime\":" - 1, eh = sizeof eval_head - 1, rh = sizeof roof_head - 1;

	if (!m->head || m->headlen < eh + rt || len < m->headlen - eh + rh ||
	    memcmp(m->head + m->headlen - rt, "\"runtime\":", rt))
		return 0;
	if (!memcmp(doc, m->head, m->headlen))
		return m->headlen - rt;
	if (!memcmp(doc, roof_head, rh) && !memcmp(doc + rh, m->head + eh, m->headlen - eh))
		return rh + m->headlen - eh - rt;
	return 0;
}

/* The end of a direct document, after its totals (and a layout's
 * "parallel"): the roofline object, the fit and the closing brace, into
 * d->out. */
static int
direct_tail(lmp_roofdirect *d, const lmp_evalpt *pt, const struct fitargs *fa, const lmp_fields_node *want,
	int no_roofline, int no_fit, lmp_err *e)
{
	struct lmp_roofset *S = &d->S;
	struct fitin in = {0};
	lmp_emit dw;

	if (!no_roofline)
		lmp_buf_add(&d->out, d->roof.s, d->roof.len);
	in.rt = cJSON_GetObjectItemCaseSensitive(d->doc, "runtime");
	in.tot = d->gtot;
	if (!d->pre_ok) {
		fit_prepare(&d->pre, in.rt, in.tot, S->oo.unfused);
		d->pre_ok = 1;
		d->memo.ok = 0;
	}
	in.pre = &d->pre;
	in.memo = &d->memo;
	in.wb = pt->weight_bytes;
	in.kv = pt->state_bytes;
	in.limit = d->limit;
	in.dev = pt->dev;
	in.dev_wb = pt->dev_wb;
	in.dev_state = pt->dev_state;
	dw = (lmp_emit){.b = &d->out, .n = 1, .want = want};
	if (!no_fit && fit(&dw, &in, &S->oo, fa->act, fa->batch, fa->context, fa->grown, e))
		return -1;
	lmp_buf_add(&d->out, "}\n", 2);
	return 0;
}

/* Where a fused point's members go in its document of len bytes: the n
 * places at[] each past the one before (from after), each a closing brace
 * before the document's own.  The last place, or 0 where one is not. */
static size_t
braces(const char *doc, size_t len, size_t after, const size_t *at, int n)
{
	for (int j = 0; j < n; j++) {
		if (at[j] <= after || at[j] >= len - 2 || doc[at[j]] != '}')
			return 0;
		after = at[j];
	}
	return after;
}

/* d->whole gets doc from *at up to each row's closing brace ends[j] (n
 * rows), each followed by the row's members (d->rowann from ann[j] to
 * ann[j + 1]); *at is then the last brace. */
static void
put_rows(lmp_roofdirect *d, const char *doc, size_t *at, const size_t *ends, int n, const size_t *ann)
{
	for (int j = 0; j < n; j++) {
		lmp_buf_add(&d->whole, doc + *at, ends[j] - *at);
		lmp_buf_add(&d->whole, d->rowann.s + ann[j], ann[j + 1] - ann[j]);
		*at = ends[j];
	}
}

/* Room for n of each phase's rows' places in d->ann_at. */
static size_t *
ann_room(lmp_roofdirect *d, size_t n)
{
	if (n > d->nann) {
		free(d->ann_at);
		d->nann = n;
		d->ann_at = lmp_xmalloc(sizeof *d->ann_at * n);
	}
	return d->ann_at;
}

/* A request (lmp_gen_doc) timed from its numbers: each phase's kernels
 * or rows (the decode's with their pieces), the members lmp_roofline adds
 * written whole (--fields prunes the document afterwards), the document
 * rebuilt in b from start: each row's members before its brace, each
 * phase's totals' before theirs, the request's before its own, the rest
 * at the end. */
static int
roofline_gen(lmp_roofdirect *d, const lmp_evalpt *pt, lmp_buf *b, size_t start, lmp_err *e)
{
	const char *doc = b->s + start, *rt, *from, *to;
	size_t len = b->len - start, at, *ann;
	struct lmp_roofset *S = &d->S;
	struct fitargs fa = {0};
	lmp_emit tw, pw[2];
	const size_t *ends[2] = {pt->row_end, pt->drow_end}, ph_end[3] = {pt->ph_end[0], pt->ph_end[1], pt->tot_end};
	const int nrow[2] = {ends[0] ? pt->nk : 0, ends[1] ? pt->ndk : 0};
	int rc, rows;

	if (len < pt->headlen + 4 || memcmp(doc, eval_head, sizeof eval_head - 1) || memcmp(doc + len - 2, "}\n", 2))
		return lmp_fail(e, LMP_EXIT_INPUT, "fused time sweep: a request document of another shape");
	/* every place text goes in: ascending, each a closing brace */
	at = sizeof eval_head - 1;
	for (int i = 0; i < 3; i++)
		if (!(at = braces(doc, len, at, i < 2 ? ends[i] : NULL, i < 2 ? nrow[i] : 0)) ||
		    !(at = braces(doc, len, at, &ph_end[i], 1)))
			return lmp_fail(e, LMP_EXIT_INPUT, "fused time sweep: a request document of another shape");
	rt = doc + pt->rt_at;
	from = doc + pt->rt_set[0];
	to = doc + pt->rt_set[1];
	if (!(rt < from && from < to && to < doc + ph_end[0]) || memcmp(from, ",\"w_bit\":", 9) || *to != '}')
		return lmp_fail(e, LMP_EXIT_INPUT, "fused time sweep: a request document of another shape");
	d->kgen = 0; /* the one-step kernels S->t held are gone */
	if (direct_model(d, pt, e) || direct_settings(d, rt, (size_t)(to + 1 - rt), from, to, 1, e) ||
	    direct_growth(d, pt->growth, pt->profile, e))
		return -1;
	/* what lmp_timed_init reads of the request's own document */
	S->t.batch = pt->batch;
	S->t.gen_len = pt->gen_len;
	S->t.steps = pt->steps;
	rows = pt->row_end != NULL; /* the prefill always has a step, so rows */
	if (lmp_timed_kernels(&S->t, 0, 1, 0, pt->k, pt->nk, rows, 0, pt->tot, &S->oo, pt->rt->a_bit, S->ceilings, e) ||
	    lmp_timed_kernels(&S->t, 1, pt->steps, pt->cache_first, pt->dk, pt->ndk, rows, 0, pt->dtot, &S->oo,
		    pt->rt->a_bit, S->ceilings, e))
		return -1;
	d->out.len = d->phb[0].len = d->phb[1].len = d->rowann.len = 0;
	tw = (lmp_emit){.b = &d->out, .n = 1};
	pw[0] = (lmp_emit){.b = &d->phb[0], .n = 1};
	pw[1] = (lmp_emit){.b = &d->phb[1], .n = 1};
	ann = ann_room(d, (size_t)S->t.ph[0].n + (size_t)S->t.ph[1].n + 2);
	for (int i = 0; i < 2 && rows; i++) {
		S->t.ph[i].ann = &d->rowann;
		S->t.ph[i].ann_at = i ? ann + S->t.ph[0].n + 1 : ann;
	}
	rc = times(S, &tw, pw, pt->batch, NAN, NAN, NAN, NAN, pt->prompt, &fa, e);
	for (int i = 0; i < 2; i++)
		S->t.ph[i].ann = NULL, S->t.ph[i].ann_at = NULL;
	if (rc)
		return -1;
	/* the document with the members spliced in, aside, then over b's */
	d->whole.len = 0;
	lmp_buf_add(&d->whole, roof_head, sizeof roof_head - 1);
	at = sizeof eval_head - 1;
	for (int i = 0; i < 3; i++) {
		const lmp_buf *m = i < 2 ? &d->phb[i] : &d->out;
		if (i < 2)
			put_rows(d, doc, &at, ends[i], nrow[i], i ? ann + nrow[0] + 1 : ann);
		lmp_buf_add(&d->whole, doc + at, ph_end[i] - at);
		lmp_buf_add(&d->whole, m->s, m->len);
		at = ph_end[i];
	}
	/* the totals' brace, a layout's "parallel", then the roofline and fit */
	lmp_buf_add(&d->whole, doc + at, len - 2 - at);
	d->out.len = 0;
	if (direct_tail(d, pt, &fa, NULL, 0, 0, e))
		return -1;
	lmp_buf_add(&d->whole, d->out.s, d->out.len);
	b->len = start;
	lmp_buf_add(b, d->whole.s, d->whole.len);
	return 0;
}

/* A point with rows: the document at start in b rebuilt with each row's
 * members (d->rowann) before its brace, then to the totals' brace, then
 * d->out (the totals' members and the rest). */
static int
splice_rows(lmp_roofdirect *d, const lmp_evalpt *pt, lmp_buf *b, size_t start)
{
	const char *doc = b->s + start;
	size_t at = sizeof eval_head - 1;

	d->whole.len = 0;
	lmp_buf_add(&d->whole, roof_head, sizeof roof_head - 1);
	put_rows(d, doc, &at, pt->row_end, pt->nk, d->ann_at);
	lmp_buf_add(&d->whole, doc + at, pt->tot_end - at);
	lmp_buf_add(&d->whole, d->out.s, d->out.len);
	b->len = start;
	lmp_buf_add(b, d->whole.s, d->whole.len);
	return 0;
}

int
lmp_roofline_point(lmp_roofdirect *d, const lmp_evalpt *pt, lmp_buf *b, size_t start, lmp_err *e)
{
	char *at;
	const char *doc = b->s + start, *base, *rt, *rtend, *from, *to;
	size_t len = b->len - start;
	struct lmp_roofset *S = &d->S;
	struct fitargs fa = {0};
	lmp_emit tw;
	const lmp_query *q;
	int rc;

	if (pt->gen)
		return roofline_gen(d, pt, b, start, e);
	q = pt->rt->nqueries == 1 ? &pt->rt->queries[0] : NULL;

	/* the document: the model's head, the runtime object, the totals
	 * (ending at tot_end) and a layout's "parallel", last: ...}\n
	 * (lmp-eval writes no kernels here: the roofline document has none) */
	if (len < pt->headlen + 4 || memcmp(doc, eval_head, sizeof eval_head - 1) || memcmp(doc + len - 2, "}\n", 2) ||
	    pt->tot_end >= len - 2 || doc[pt->tot_end] != '}')
		return lmp_fail(e, LMP_EXIT_INPUT, "fused time sweep: an eval document of another shape");
	/* the settings: the runtime between its step (batch_size, seq_len,
	 * cache_len) and its aggregates (tokens, kv_tokens, qk_pairs), where
	 * lmp-eval wrote them (lmp_evalpt) */
	base = pt->rtext ? pt->rtext : doc;
	rt = base + pt->rt_at;
	from = base + pt->rt_set[0];
	to = base + pt->rt_set[1];
	rtend = base + pt->rt_end;
	if (!(rt < from && from < to && to < rtend) || memcmp(from, ",\"w_bit\":", 9) || memcmp(to, ",\"tokens\":", 10))
		return lmp_fail(e, LMP_EXIT_INPUT, "fused time sweep: an eval document of another shape");
	if (direct_model(d, pt, e) || direct_settings(d, rt, (size_t)(rtend - rt), from, to, 0, e) ||
	    direct_growth(d, pt->growth, pt->profile, e) ||
	    lmp_timed_kernels(&S->t, 0, 1, 0, pt->k, pt->nk, pt->row_end != NULL, pt->kgen && pt->kgen == d->kgen,
		    pt->tot, &S->oo, pt->rt->a_bit, S->ceilings, e)) {
		d->kgen = 0;
		return -1;
	}
	d->kgen = pt->kgen;
	/* the members are written aside first (a failure leaves b as it
	 * was), then spliced into the document in place: the totals' time
	 * members before their brace, the rest at the end; a row's members
	 * (rows) aside in d->rowann */
	d->out.len = 0;
	tw = (lmp_emit){.b = &d->out, .n = 1, .want = d->want_totals, .off = d->totals_off};
	if (pt->row_end) {
		if (!braces(doc, len, sizeof eval_head - 1, pt->row_end, pt->nk) ||
		    (pt->nk && pt->row_end[pt->nk - 1] >= pt->tot_end))
			return lmp_fail(e, LMP_EXIT_INPUT, "fused time sweep: an eval document of another shape");
		d->rowann.len = 0;
		S->t.ph[0].ann = &d->rowann;
		S->t.ph[0].ann_at = ann_room(d, (size_t)pt->nk + 1);
	}
	/* a mix of queries has no one seq_len or cache_len (the fit takes
	 * its context from kv_tokens) */
	rc = times(S, &tw, NULL, (double)pt->rt->vars[LMP_V_BATCH_SIZE].n, q ? (double)q->seq_len : NAN,
		q ? (double)q->cache_len : NAN,
		(double)pt->rt->vars[LMP_V_KV_TOKENS].n, (double)pt->rt->vars[LMP_V_TOKENS].n, NAN, &fa, e);
	S->t.ph[0].ann = NULL;
	S->t.ph[0].ann_at = NULL;
	if (rc)
		return -1;
	/* the totals' brace, a layout's "parallel" */
	lmp_buf_add(&d->out, doc + pt->tot_end, len - 2 - pt->tot_end);
	if (direct_tail(d, pt, &fa, d->want, d->no_roofline, d->no_fit, e))
		return -1;
	if (pt->row_end)
		return splice_rows(d, pt, b, start);
	/* {"lmp":"eval" becomes {"lmp":"roofline": the document up to the
	 * totals' brace moves by the difference, once, within b */
	b->len = start + pt->tot_end;
	lmp_buf_grow(b, sizeof roof_head - sizeof eval_head + d->out.len);
	at = b->s + start;
	memmove(at + sizeof roof_head - 1, at + sizeof eval_head - 1, pt->tot_end - (sizeof eval_head - 1));
	memcpy(at, roof_head, sizeof roof_head - 1);
	b->len += sizeof roof_head - sizeof eval_head;
	lmp_buf_add(b, d->out.s, d->out.len);
	return 0;
}
