/* timed.c: an eval document's kernels, read once and timed under any
 * terms.  lmp_roofline (roofline.c) and lmp-calibrate's fit both time
 * documents through here, so both sum the same kernel times
 * (lmp_kernel_time) in the same order and agree to the bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "timed.h"

double
lmp_tnum_at(const cJSON *obj, const char *key)
{
	lmp_num v;

	if (lmp_json_num(cJSON_GetObjectItemCaseSensitive(obj, key), &v))
		return NAN;
	return lmp_num_to_double(&v);
}

void
lmp_tadd_num(cJSON *obj, const char *key, double x)
{
	lmp_num v;

	if (lmp_num_double(x, &v))
		cJSON_AddNullToObject(obj, key);
	else
		cJSON_AddItemToObject(obj, key, lmp_json_new_num(&v));
}

/* Bytes a kernel moves: reads and writes, and with --unfused the
 * temporaries written and read back; *act what it holds beyond its input
 * (its output, and with --unfused the eager forward's temporaries). */
static int
work_of(double rd, double wr, double im, double f, int unfused, double *by, double *act, lmp_err *e)
{
	*by = rd + wr + (unfused ? 2 * im : 0);
	*act = wr + (unfused ? im : 0);
	if (!isfinite(f) || !isfinite(*by) || !isfinite(*act) || f < 0 || *by < 0)
		return lmp_fail(e, LMP_EXIT_INPUT, "a row or totals without finite, non-negative flops and bytes");
	return 0;
}

static int
work(const cJSON *q, int unfused, double *f, double *by, double *act, lmp_err *e)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(q, "bytes");

	*f = lmp_tnum_at(q, "flops");
	return work_of(lmp_tnum_at(b, "reads"), lmp_tnum_at(b, "writes"), lmp_tnum_at(b, "intermediates"), *f, unfused,
		by, act, e);
}

/* A row in its own weight format (lmp-eval's weight_format) computes where
 * the format does: fp8 weights in fp8 where the device has it, int8 in
 * int8 likewise, a weight-only format (4-bit groups, nf4, MXFP4) at the
 * activation precision, its weights dequantized in the kernel.  -1 for a
 * row without a format (c NULL): the document's precision. */
static int
precision_of(const char *c, const lmp_hw *hw, int abit)
{
	if (!c)
		return -1;
	if (!strcmp(c, "fp8") && hw->peak[LMP_FP8] > 0)
		return LMP_FP8;
	if (!strcmp(c, "int8") && hw->peak[LMP_INT8] > 0)
		return LMP_INT8;
	return lmp_hw_precision(hw, abit, abit);
}

static int
row_precision(const cJSON *r, const lmp_hw *hw, int abit)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "weight_format"), "compute");

	return precision_of(cJSON_IsString(c) ? c->valuestring : NULL, hw, abit);
}

/* The ceiling a precision's kernels start from: the datasheet's, or
 * (uncalibrated) the achievable figure where the hardware file has one. */
static double
ceiling_flops(const lmp_hw *hw, int prec, int ceilings)
{
	return ceilings && hw->achievable_peak[prec] > 0 ? hw->achievable_peak[prec] : hw->peak[prec];
}

/* A GEMM shape {m, n, k, calls}, per instance over the phase; one that is
 * not all positive and finite is no shape (the row is timed on its FLOPs
 * alone). */
static void
set_gemm(lmp_kernel *k, double m, double n, double kk, double c)
{
	if (m > 0 && n > 0 && kk > 0 && c > 0 && isfinite(m * n * kk * c)) {
		k->gemm = 1;
		k->m = m;
		k->n = n;
		k->k = kk;
		k->gcalls = c;
	}
}

/* The row's "gemm" (lmp-eval(1)): {"m", "n", "k", "calls"}. */
static void
gemm_shape(const cJSON *r, lmp_kernel *k)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(r, "gemm");

	if (cJSON_IsObject(g))
		set_gemm(k, lmp_tnum_at(g, "m"), lmp_tnum_at(g, "n"), lmp_tnum_at(g, "k"), lmp_tnum_at(g, "calls"));
}

/* A kernel's item from its work: its ceilings and launches over the
 * phase (one a step, or its products'); the gemm is set before. */
static void
set_kernel(const struct lmp_timed *t, struct lmp_titem *it, double f, double by, int prec, double steps,
	const lmp_hw *hw, int ceilings)
{
	it->prec = prec;
	it->k.flops = f;
	it->k.bytes = by;
	it->k.peak = prec >= 0 ? ceiling_flops(hw, prec, ceilings) * t->mult : t->peak;
	it->k.bandwidth = t->bandwidth;
	it->k.calls = it->k.gemm ? it->k.gcalls : steps;
}

/* q[0..2] of one quantity of a piece: [q0, d] or, with block, [q0, d, j]. */
static int
coefs(const cJSON *pc, const char *name, int nq, double *q)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(pc, name);
	lmp_num v;

	q[0] = q[1] = q[2] = 0;
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != nq)
		return -1;
	for (int i = 0; i < nq; i++) {
		if (lmp_json_num(cJSON_GetArrayItem(a, i), &v))
			return -1;
		q[i] = lmp_num_to_double(&v);
		if (!isfinite(q[i]))
			return -1;
	}
	return 0;
}

/* A piece of steps as the time model takes it: its FLOPs and its bytes
 * as work_of counts them, per term [q0, d, j]. */
static void
set_piece(lmp_steppiece *p, int64_t first, int64_t last, const double *f, const double *rd, const double *wr,
	const double *im, int unfused)
{
	for (int i = 0; i < 3; i++) {
		p->flops[i] = f[i];
		p->bytes[i] = rd[i] + wr[i] + (unfused ? 2 * im[i] : 0);
	}
	p->first = first;
	p->last = last;
}

/* One step's kernel of a row timed step by step: its GEMM calls and
 * launches a step's share of the phase's. */
static void
step_kernel(struct lmp_titem *it, double steps)
{
	it->ks = it->k;
	if (it->ks.gemm)
		it->ks.gcalls /= steps;
	it->ks.calls = it->ks.gemm ? it->ks.gcalls : 1;
}

/* A decode row's per_step (lmp-eval(1)): its pieces, which must cover the
 * phase's steps in order, and one step's kernel (its GEMM calls and
 * launches a step's share).  The row is then timed step by step. */
static int
prep_steps(struct lmp_titem *it, const cJSON *r, const cJSON *ph, double steps, int unfused, lmp_err *e)
{
	const cJSON *ps = cJSON_GetObjectItemCaseSensitive(r, "per_step"), *pcs, *pc;
	double block = lmp_tnum_at(ps, "block"), c0 = lmp_tnum_at(cJSON_GetObjectItemCaseSensitive(ph, "runtime"),
		"cache_len_first"), next = 0, rd[3], wr[3], im[3];
	int nq, n;

	if (!ps)
		return 0;
	pcs = cJSON_GetObjectItemCaseSensitive(ps, "pieces");
	nq = isnan(block) ? 2 : 3;
	n = cJSON_GetArraySize(pcs);
	if (!cJSON_IsArray(pcs) || !n || !(isnan(block) || (block >= 2 && block <= 1 << 30 && block == floor(block))) ||
	    !(c0 >= 0 && c0 < 1e15) || !(steps >= 1 && steps < 1e15))
		goto bad;
	it->sw.p = lmp_xcalloc((size_t)n, sizeof *it->sw.p);
	it->sw.block = isnan(block) ? 0 : (int64_t)block;
	it->sw.off = (int64_t)c0 + 1;
	cJSON_ArrayForEach(pc, pcs) {
		lmp_steppiece *p = &it->sw.p[it->sw.n++];
		double f = lmp_tnum_at(pc, "first"), l = lmp_tnum_at(pc, "last"), fl[3];
		if (f != next || !(l >= f && l < steps) || l != floor(l) || coefs(pc, "flops", nq, fl) ||
		    coefs(pc, "reads", nq, rd) || coefs(pc, "writes", nq, wr) || coefs(pc, "intermediates", nq, im))
			goto bad;
		set_piece(p, (int64_t)f, (int64_t)l, fl, rd, wr, im, unfused);
		next = l + 1;
	}
	if (next != steps)
		goto bad;
	step_kernel(it, steps);
	return 0;
bad:
	return lmp_fail(e, LMP_EXIT_INPUT, "a decode row's per_step is not pieces covering the phase's steps "
		"(lmp-eval(1))");
}

/* A collective: the link its group uses (collective.c): inside a node
 * (scale-up) unless the group spans nodes. */
static int
set_collective(struct lmp_titem *it, int kind, const char *group, double n, double bytes, const struct lmp_timed *t,
	const lmp_hw *hw, lmp_err *e)
{
	if (!kind || !group || !(n >= 1 && n <= 65536) || !(bytes >= 0) || !isfinite(bytes))
		return lmp_fail(e, LMP_EXIT_INPUT, "a collective row without a known kind, group, size and bytes");
	/* ranks are numbered TP first, then DP, then PP (Megatron-LM's and
	 * vLLM's order): a TP or EP group is consecutive; a pipeline's
	 * transfers stay in a node only when the whole layout does */
	it->cross = !strcmp(group, "pp") ? t->devices > t->gpn : n > t->gpn;
	it->bw = it->cross ? hw->scaleout_bw : hw->scaleup_bw;
	it->lat = it->cross ? hw->scaleout_latency : hw->scaleup_latency;
	if (!(it->bw > 0))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: the hardware file has %s interconnect.%s.bytes_per_s to time "
			"the collectives of a group of %g%s", hw->id, isnan(it->bw) ? "an unknown" : "no",
			it->cross ? "scale_out" : "scale_up", n, it->cross ? " across nodes (--gpus-per-node lifts it if they "
			"share one scale-up domain)" : "");
	if (isnan(it->lat))
		it->lat = 0; /* unknown: the bandwidth term alone, a lower bound (lmp-hardware(5)) */
	it->coll = kind;
	it->n = (int)n;
	it->cbytes = bytes;
	if (it->fkind != kind || it->fn != it->n) {
		lmp_num f;
		it->fok = !lmp_coll_link_factor(kind, it->n, &f);
		it->fac = it->fok ? lmp_num_to_double(&f) : 0;
		it->fkind = kind;
		it->fn = it->n;
	}
	return 0;
}

/* lmp_coll_time(it->coll, it->n, it->cbytes, bw, 0) on the factor
 * set_collective kept */
static double
coll_time(const struct lmp_titem *it, double bw)
{
	if (it->n < 2 || !it->fok)
		return 0;
	return lmp_coll_time_at(it->fac, lmp_coll_steps(it->coll, it->n), it->cbytes, bw, 0);
}

/* A collective row of a document. */
static int
prep_collective(struct lmp_titem *it, const cJSON *c, const struct lmp_timed *t, const lmp_hw *hw, lmp_err *e)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(c, "kind"), *g = cJSON_GetObjectItemCaseSensitive(c, "group");

	return set_collective(it, cJSON_IsString(k) ? lmp_coll_kind(k->valuestring) : 0,
		cJSON_IsString(g) ? g->valuestring : NULL, lmp_tnum_at(c, "size"), lmp_tnum_at(c, "bytes"), t, hw, e);
}

/* A step or a phase: its rows, or (lmp-eval --totals) its distinct
 * kernels, each with the count of the rows it stands for: both timed
 * alike, so a totals document's times are the per-layer document's.  A
 * totals document without kernels (an older lmp-eval's) is refused. */
static int
prep_phase(struct lmp_timed *t, struct lmp_tphase *P, cJSON *ph, double steps, const lmp_roof_opts *o, int abit,
	int ceilings, lmp_err *e)
{
	cJSON *rows = cJSON_GetObjectItemCaseSensitive(ph, "rows"), *r;
	const cJSON *tot = cJSON_GetObjectItemCaseSensitive(ph, "totals");
	double f, by, act;
	int n;

	P->ph = ph;
	P->steps = steps;
	if (!cJSON_IsObject(tot))
		return lmp_fail(e, LMP_EXIT_INPUT, "eval document without \"totals\"");
	if (!cJSON_IsArray(rows)) {
		rows = cJSON_GetObjectItemCaseSensitive(ph, "kernels");
		P->kernels = 1;
	}
	if (!cJSON_IsArray(rows) && steps > 0)
		return lmp_fail(e, LMP_EXIT_INPUT, "a totals document without \"kernels\" (written by an older lmp-eval): "
			"run lmp-eval again");
	n = cJSON_GetArraySize(rows);
	P->it = n ? lmp_xcalloc((size_t)n, sizeof *P->it) : NULL;
	P->cap = n;
	cJSON_ArrayForEach(r, rows) {
		struct lmp_titem *it = &P->it[P->n++];
		const cJSON *coll = cJSON_GetObjectItemCaseSensitive(r, "collective");
		it->row = r;
		it->prec = -1;
		it->steps = steps;
		it->count = lmp_tnum_at(r, "count");
		if (isnan(it->count) || it->count < 0)
			return lmp_fail(e, LMP_EXIT_INPUT, "a row without a count");
		if (coll) {
			if (prep_collective(it, coll, t, o->hw, e))
				return -1;
			continue;
		}
		if (work(r, t->unfused, &f, &by, &act, e))
			return -1;
		gemm_shape(r, &it->k);
		set_kernel(t, it, f, by, row_precision(r, o->hw, abit), steps, o->hw, ceilings);
		if (prep_steps(it, r, ph, steps, t->unfused, e))
			return -1;
		if (act > P->act_peak)
			P->act_peak = act;
	}
	if (work(tot, t->unfused, &f, &by, &act, e))
		return -1;
	P->flops = f;
	P->bytes = by;
	return 0;
}

/* A phase's kernels from numbers (the fused time sweep, lmp-eval
 * --hardware: a one-step point's, or a request's prefill and decode):
 * what prep_phase and prep_steps read from a totals document's "kernels",
 * item for item, into t->ph[ph], whose document and other fields
 * lmp_timed_init set from a document of the same settings. */
int
lmp_timed_kernels(struct lmp_timed *t, int ph, double steps, double c0, const struct lmp_tkernel *k, int n, int rows,
	int same, const double tot[4], const lmp_roof_opts *o, int abit, int ceilings, lmp_err *e)
{
	struct lmp_tphase *P = &t->ph[ph];
	double by, act;

	if (same && n == P->n && P->kernels && P->steps == 1 && steps == 1) {
		/* the kernels of the last call, in their work and gemm alone */
		P->act_peak = 0;
		for (int i = 0; i < n; i++) {
			struct lmp_titem *it = &P->it[i];
			if (k[i].coll) {
				it->cbytes = k[i].cbytes;
				if (!(it->cbytes >= 0) || !isfinite(it->cbytes))
					return lmp_fail(e, LMP_EXIT_INPUT, "a collective row without a known kind, group, "
						"size and bytes");
				continue;
			}
			if (work_of(k[i].reads, k[i].writes, k[i].inter, k[i].flops, t->unfused, &by, &act, e))
				return -1;
			it->k.flops = k[i].flops;
			it->k.bytes = by;
			if (k[i].gemm) {
				it->k.gemm = 0;
				it->k.m = it->k.n = it->k.k = it->k.gcalls = 0;
				set_gemm(&it->k, k[i].m, k[i].n, k[i].k, k[i].calls);
				it->k.calls = it->k.gemm ? it->k.gcalls : 1;
			}
			if (act > P->act_peak)
				P->act_peak = act;
		}
		P->flops = tot[0];
		return work_of(tot[1], tot[2], tot[3], tot[0], t->unfused, &P->bytes, &act, e);
	}
	for (int i = 0; i < P->n; i++) /* the last call's pieces */
		if (P->it[i].sw.p) {
			free(P->it[i].sw.p);
			P->it[i].sw = (lmp_stepwork){0};
		}
	if (n > P->cap) {
		free(P->it);
		P->it = lmp_xcalloc((size_t)n, sizeof *P->it); /* no factor kept (fkind 0) */
		P->cap = n;
	}
	P->n = n;
	P->kernels = !rows;
	P->steps = steps;
	P->act_peak = 0;
	for (int i = 0; i < n; i++) {
		struct lmp_titem *it = &P->it[i];
		/* the members time_item reads of a kernel or a collective (the
		 * collective's own set_collective sets): not the whole item (the
		 * step-by-step kernel unused where it has no pieces) at every
		 * point */
		it->row = NULL;
		it->coll = 0;
		it->k = (lmp_kernel){0};
		it->steps = steps;
		it->count = k[i].count;
		it->prec = -1;
		if (k[i].coll) {
			if (set_collective(it, k[i].coll, k[i].group, k[i].size, k[i].cbytes, t, o->hw, e))
				return -1;
			continue;
		}
		if (work_of(k[i].reads, k[i].writes, k[i].inter, k[i].flops, t->unfused, &by, &act, e))
			return -1;
		if (k[i].gemm)
			set_gemm(&it->k, k[i].m, k[i].n, k[i].k, k[i].calls);
		set_kernel(t, it, k[i].flops, by, precision_of(k[i].compute, o->hw, abit), steps, o->hw, ceilings);
		if (rows) /* annotated with it */
			it->prec = precision_of(k[i].compute, o->hw, abit);
		if (k[i].npieces) {
			/* as prep_steps reads a document's per_step */
			it->sw.p = lmp_xcalloc((size_t)k[i].npieces, sizeof *it->sw.p);
			it->sw.block = k[i].block;
			it->sw.off = (int64_t)c0 + 1;
			for (int q = 0; q < k[i].npieces; q++) {
				const struct lmp_tpiece *pc = &k[i].pieces[q];
				set_piece(&it->sw.p[it->sw.n++], pc->first, pc->last, pc->flops, pc->reads, pc->writes,
					pc->inter, t->unfused);
			}
			step_kernel(it, steps);
		}
		if (act > P->act_peak)
			P->act_peak = act;
	}
	P->flops = tot[0];
	return work_of(tot[1], tot[2], tot[3], tot[0], t->unfused, &P->bytes, &act, e);
}

/* The layout from the runtime object (lmp-eval records it where one was
 * given); --devices must agree with it, and alone is refused: N devices
 * are a layout, not one device N times as large. */
static int
read_layout(struct lmp_timed *t, const cJSON *rt, const lmp_roof_opts *o, lmp_err *e)
{
	double tp = lmp_tnum_at(rt, "tp"), pp = lmp_tnum_at(rt, "pp"), ep = lmp_tnum_at(rt, "ep"), dp = lmp_tnum_at(rt, "dp");

	t->devices = lmp_tnum_at(rt, "devices");
	t->on = !isnan(tp);
	t->gpn = o->gpus_per_node ? o->gpus_per_node : o->hw->gpus_per_node;
	if (!t->gpn)
		t->gpn = 1 << 30; /* no figure: every group within a node */
	if (!t->on) {
		if (o->devices > 1)
			return lmp_fail(e, LMP_EXIT_USAGE, "--devices %d: give the layout to lmp-eval (--tp %d, with --pp "
				"and --dp as wanted); --devices then must equal tp x pp x dp", o->devices, o->devices);
		return 0;
	}
	if (!(tp >= 1 && pp >= 1 && ep >= 1 && dp >= 1 && t->devices == tp * pp * dp))
		return lmp_fail(e, LMP_EXIT_INPUT, "runtime tp, pp, ep, dp and devices are not a layout");
	if (o->devices_given && o->devices != t->devices)
		return lmp_fail(e, LMP_EXIT_USAGE, "--devices %d disagrees with the document's layout: tp x pp x dp = %g",
			o->devices, t->devices);
	return 0;
}

int
lmp_timed_init(struct lmp_timed *t, cJSON *doc, const lmp_roof_opts *o, int ceilings, lmp_err *e)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "lmp");
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(doc, "runtime");
	const cJSON *attn = cJSON_GetObjectItemCaseSensitive(rt, "attention");
	cJSON *phases = cJSON_GetObjectItemCaseSensitive(doc, "phases");
	double wbit = lmp_tnum_at(rt, "w_bit"), abit = lmp_tnum_at(rt, "a_bit");
	const lmp_hw *hw = o->hw;

	memset(t, 0, sizeof *t);
	t->batch = lmp_tnum_at(rt, "batch_size");
	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "eval"))
		return lmp_fail(e, LMP_EXIT_INPUT, "input is not an eval document%s",
			cJSON_IsString(kind) && !strcmp(kind->valuestring, "populated") ? " (run lmp-eval first)" : "");
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "totals")))
		return lmp_fail(e, LMP_EXIT_INPUT, "eval document without totals");
	if (!(wbit >= 1 && wbit <= 64 && wbit == floor(wbit)) || !(abit >= 1 && abit <= 64 && abit == floor(abit)))
		return lmp_fail(e, LMP_EXIT_INPUT, "runtime w_bit and a_bit must be integers in [1, 64]");
	if (!(t->batch >= 1 && t->batch == floor(t->batch) && t->batch <= 1073741824.0))
		return lmp_fail(e, LMP_EXIT_INPUT, "runtime batch_size must be an integer in [1, 2^30]");
	if (read_layout(t, rt, o, e))
		return -1;
	/* a layout's rows are one device's work; else --devices 1 */
	t->mult = t->on ? 1 : o->devices;
	/* lmp-eval --attention eager: what --unfused says of every document */
	t->unfused = o->unfused || (cJSON_IsString(attn) && !strcmp(attn->valuestring, "eager"));
	t->prec = lmp_hw_precision(hw, (int)wbit, (int)abit);
	t->peak = ceiling_flops(hw, t->prec, ceilings) * t->mult;
	t->bandwidth = (ceilings && hw->achievable_bandwidth > 0 ? hw->achievable_bandwidth : hw->bandwidth) * t->mult;
	t->units = hw->compute_units;
	t->ceff = o->compute_eff;
	t->meff = o->memory_eff;
	if (cJSON_IsObject(phases)) {
		cJSON *p = cJSON_GetObjectItemCaseSensitive(phases, "prefill");
		cJSON *d = cJSON_GetObjectItemCaseSensitive(phases, "decode");
		t->steps = lmp_tnum_at(d, "steps");
		t->gen_len = lmp_tnum_at(rt, "gen_len");
		if (!cJSON_IsObject(p) || !cJSON_IsObject(d) || isnan(t->steps) || isnan(t->gen_len) ||
		    isnan(lmp_tnum_at(rt, "prompt_len")))
			return lmp_fail(e, LMP_EXIT_INPUT, "generation without prefill and decode phases");
		t->gen = 1;
		t->nph = 2;
		return prep_phase(t, &t->ph[0], p, 1, o, (int)abit, ceilings, e) ||
			prep_phase(t, &t->ph[1], d, t->steps, o, (int)abit, ceilings, e) ? -1 : 0;
	}
	t->nph = 1;
	return prep_phase(t, &t->ph[0], doc, 1, o, (int)abit, ceilings, e);
}

void
lmp_timed_release(struct lmp_timed *t)
{
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < t->ph[i].n; j++)
			free(t->ph[i].it[j].sw.p);
		free(t->ph[i].it);
	}
	memset(t, 0, sizeof *t);
}

lmp_tparams
lmp_timed_terms(const struct lmp_timed *t, const lmp_tparams *p)
{
	lmp_tparams q = *p;

	q.compute_fraction *= t->ceff;
	q.memory_fraction *= t->meff;
	return q;
}

static void
annotate(lmp_emit *w, double f, double by, double ct, double mt, double tm, double peak, double bw, const char *bound)
{
	lmp_emit_num(w, "intensity", by > 0 ? f / by : 0);
	lmp_emit_num(w, "attainable_flops", by > 0 && f / by * bw < peak ? f / by * bw : peak);
	lmp_emit_num(w, "compute_time_s", ct);
	lmp_emit_num(w, "memory_time_s", mt);
	lmp_emit_num(w, "time_s", tm);
	lmp_emit_str(w, "bound", bound ? bound : ct >= mt ? "compute" : "memory");
}

/* What the terms added to a kernel's row: its launch floor, and the
 * waves of its GEMM. */
static void
annotate_terms(lmp_emit *r, const lmp_ktime *kt, const lmp_tparams *q)
{
	if (q->launch_s > 0)
		lmp_emit_num(r, "launch_time_s", kt->launch);
	if (kt->waves > 0) {
		lmp_emit w = lmp_emit_open(r, "gemm_waves");
		lmp_emit_num(&w, "tile_m", kt->tm);
		lmp_emit_num(&w, "tile_n", kt->tn);
		lmp_emit_num(&w, "tiles", kt->tiles);
		lmp_emit_num(&w, "split_k", kt->split_k);
		lmp_emit_num(&w, "waves", kt->waves);
		lmp_emit_num(&w, "gemm_time_s", kt->gemm_s);
		lmp_emit_close(&w);
		lmp_emit_num(r, "wave_efficiency", kt->wave_eff);
	}
}

/* Adds the item's times to x: time, compute, memory, comm, launch (exact
 * sums, lmp_tsum: the same bits in any order). */
static inline __attribute__((always_inline)) void
time_item(const struct lmp_timed *t, const struct lmp_titem *it, const lmp_tparams *q, lmp_emit *w, lmp_tsum *x)
{
	lmp_ktime kt;

	if (it->coll) {
		double bw = it->bw * q->link_fraction;
		double tc = coll_time(it, bw) +
			it->steps * lmp_coll_steps(it->coll, it->n) * it->lat;
		if (w) {
			annotate(w, 0, 0, 0, 0, tc, 0, bw, "link");
			lmp_emit_str(w, "link", it->cross ? "scale_out" : "scale_up");
		}
		lmp_tsum_add(&x[0], it->count, tc);
		lmp_tsum_add(&x[3], it->count, tc);
		return;
	}
	if (it->sw.n)
		lmp_steps_time(&it->ks, &it->sw, q, t->units, &kt); /* step by step */
	else
		lmp_kernel_time(&it->k, q, t->units, &kt);
	if (w) {
		if (it->prec >= 0)
			lmp_emit_str(w, "compute_precision", lmp_prec_name(it->prec));
		/* the launch floor, where it is the longest, bounds the row */
		annotate(w, it->k.flops, it->k.bytes, kt.compute, kt.memory, kt.time,
			it->k.peak * q->compute_fraction, it->k.bandwidth * q->memory_fraction,
			q->launch_s > 0 && kt.launch > kt.compute && kt.launch > kt.memory ? "launch" : NULL);
		annotate_terms(w, &kt, q);
	}
	{
		lmp_tsum *const to[4] = {&x[0], &x[1], &x[2], &x[4]};
		lmp_tsum_kernel(to, &kt, it->count);
	}
}

void
lmp_timed_phase(const struct lmp_timed *t, int i, const lmp_tparams *q, int ann, lmp_emit *tw, struct lmp_tsums *s)
{
	const struct lmp_tphase *P = &t->ph[i];
	lmp_tsum x[5] = {{0}}, st = {0};

	memset(s, 0, sizeof *s);
	/* a totals document's kernels are written as lmp-eval wrote them (a
	 * kernel's times would cost more than the point's); a row's times go
	 * to the row's object, or (P->ann, the fused sweep) after the last
	 * row's in P->ann, from P->ann_at[j] */
	if (!ann || P->kernels) {
		for (int j = 0; j < P->n; j++)
			time_item(t, &P->it[j], q, NULL, x);
	} else {
		for (int j = 0; j < P->n; j++) {
			lmp_emit w = {.obj = P->it[j].row, .b = P->ann, .n = 1};
			if (P->ann)
				P->ann_at[j] = P->ann->len;
			time_item(t, &P->it[j], q, &w, x);
		}
		if (P->ann)
			P->ann_at[P->n] = P->ann->len;
	}
	/* the engine's own time per step (scheduling, sampling, the launch of
	 * the step's graph): a prefill is one step, a decode phase its steps */
	lmp_tsum_add(&st, P->steps, q->step_s);
	lmp_tsum_merge(&x[0], &st);
	s->xtime = x[0];
	s->xcomm = x[3];
	s->time = lmp_tsum_value(&x[0]);
	s->compute = lmp_tsum_value(&x[1]);
	s->memory = lmp_tsum_value(&x[2]);
	s->comm = lmp_tsum_value(&x[3]);
	s->launch = lmp_tsum_value(&x[4]);
	s->steps_s = lmp_tsum_value(&st);
	if (!tw)
		return;
	annotate(tw, P->flops, P->bytes, s->compute, s->memory, s->time, t->peak * q->compute_fraction,
		t->bandwidth * q->memory_fraction, NULL);
	if (q->launch_s > 0)
		lmp_emit_num(tw, "launch_time_s", s->launch);
	if (q->step_s > 0)
		lmp_emit_num(tw, "step_overhead_s", s->steps_s);
	if (t->on)
		lmp_emit_num(tw, "collective_time_s", s->comm);
}

void
lmp_timed_times(const struct lmp_timed *t, const struct lmp_tsums *s, lmp_times *out)
{
	lmp_tsum all = s[0].xtime;

	out->ttft_s = out->tpot_s = out->e2e_s = out->tokens_per_s = NAN;
	if (!t->gen) {
		out->time_s = s[0].time;
		return;
	}
	lmp_tsum_merge(&all, &s[1].xtime);
	out->time_s = lmp_tsum_value(&all);
	out->ttft_s = s[0].time;
	if (t->steps > 0)
		out->tpot_s = s[1].time / t->steps;
	out->e2e_s = out->time_s;
	out->tokens_per_s = out->time_s > 0 ? t->batch * t->gen_len / out->time_s : 0;
}

lmp_timed *
lmp_timed_prepare(const cJSON *eval_doc, const lmp_roof_opts *o, lmp_err *e)
{
	lmp_timed *t = lmp_xcalloc(1, sizeof *t);

	/* the kernels keep row pointers for lmp_roofline's annotations; this
	 * path only reads them */
	if (lmp_timed_init(t, (cJSON *)eval_doc, o, 0, e)) {
		lmp_timed_free(t);
		return NULL;
	}
	return t;
}

int
lmp_timed_eval(const lmp_timed *t, const lmp_tparams *p, lmp_times *out)
{
	struct lmp_tsums s[2];
	lmp_tparams q = lmp_timed_terms(t, p);

	for (int i = 0; i < t->nph; i++)
		lmp_timed_phase(t, i, &q, 0, NULL, &s[i]);
	lmp_timed_times(t, s, out);
	return isfinite(out->time_s) ? 0 : -1;
}

void
lmp_timed_free(lmp_timed *t)
{
	if (!t)
		return;
	lmp_timed_release(t);
	free(t);
}
