/* calib.c: measurement records predicted by lmp in process.
 *
 * Each predictable record (share/lmp/measured/README) becomes the eval
 * document of its request, made as the pipeline makes it: the model's
 * config inspected and populated (once per model), the record's batch,
 * lengths, layout and precisions under the lmp engine profile whose
 * "corpus_names" list the record's engine.  Its time under a set of terms
 * is the time model's (lmp_timed_*: lmp_roofline's kernels and sums;
 * lmp-calibrate(1)). */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lmp.h"

/* A model once populated, and its layouts' models. */
struct calmodel {
	char *id;
	cJSON *doc;       /* populated document, or NULL: why says why not */
	char *why;
	lmp_model *m;
	int nlay;
	int lay_key[8][3];
	lmp_model *lay[8];
};
/* A request's eval document, and its times under the terms last tried:
 * the records of one run (a latency and a throughput of the same row) are
 * timed once. */
struct lmp_calreq {
	char *key;
	cJSON *doc;
	const lmp_hw *hw;
	lmp_timed *timed; /* doc prepared for the time model, once */
	lmp_tparams tp;
	int tried; /* t holds the times under tp */
	double t[3]; /* LMP_CAL_* */
};
struct lmp_calcache {
	lmp_db *db;
	struct lmp_calreq **req;
	int nreq;
	struct calmodel *models;
	int nmodels;
	lmp_hw **hw;
	char **hwid; /* hw[i] NULL: no such device */
	int nhw;
	char **ename, **eid; /* corpus engine name -> profile id (NULL: none) */
	int neng;
};

void
lmp_calset_init(lmp_calset *s)
{
	memset(s, 0, sizeof *s);
	s->cache = lmp_xcalloc(1, sizeof *s->cache);
}

static void
rec_free(lmp_calrec *r)
{
	free(r->id);
	free(r->source);
	free(r->device);
	free(r->engine);
	free(r->metric);
}

void
lmp_calset_free(lmp_calset *s)
{
	struct lmp_calcache *c = s->cache;
	int i, j;

	for (i = 0; i < s->nrec; i++)
		rec_free(&s->rec[i]);
	for (i = 0; i < s->nex; i++) {
		free(s->ex[i].id);
		free(s->ex[i].reason);
	}
	for (i = 0; c && i < c->nmodels; i++) {
		struct calmodel *cm = &c->models[i];
		for (j = 0; j < cm->nlay; j++)
			lmp_model_free(cm->lay[j]);
		lmp_model_free(cm->m);
		cJSON_Delete(cm->doc);
		free(cm->id);
		free(cm->why);
	}
	for (i = 0; c && i < c->nhw; i++) {
		lmp_hw_free(c->hw[i]);
		free(c->hwid[i]);
	}
	for (i = 0; c && i < c->neng; i++) {
		free(c->ename[i]);
		free(c->eid[i]);
	}
	for (i = 0; c && i < c->nreq; i++) {
		lmp_timed_free(c->req[i]->timed);
		cJSON_Delete(c->req[i]->doc);
		free(c->req[i]->key);
		free(c->req[i]);
	}
	if (c) {
		free(c->req);
		if (c->db)
			lmp_db_free(c->db);
		free(c->models);
		free(c->hw);
		free(c->hwid);
		free(c->ename);
		free(c->eid);
	}
	free(c);
	free(s->rec);
	free(s->ex);
	memset(s, 0, sizeof *s);
}

static char *
fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *
fmt(const char *f, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof buf, f, ap);
	va_end(ap);
	return lmp_xstrdup(buf);
}

static void
add_ex(lmp_calset *s, const char *id, char *reason)
{
	s->ex = lmp_xrealloc(s->ex, sizeof *s->ex * (size_t)(s->nex + 1));
	s->ex[s->nex].id = lmp_xstrdup(id);
	s->ex[s->nex++].reason = reason;
}

void
lmp_calset_exclude(lmp_calset *s, int i, char *reason)
{
	add_ex(s, s->rec[i].id, reason);
	rec_free(&s->rec[i]);
	memmove(&s->rec[i], &s->rec[i + 1], sizeof *s->rec * (size_t)(s->nrec - i - 1));
	s->nrec--;
}

static const char *
str(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A positive integer field, 0 when null or absent, -1 when anything else. */
static int64_t
count(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	int64_t n;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || lmp_parse_i64(v->valuestring, 1, (int64_t)1 << 30, &n))
		return -1;
	return n;
}

static const lmp_hw *
device(struct lmp_calcache *c, const char *id)
{
	lmp_err e = {0};
	int i;

	for (i = 0; i < c->nhw; i++)
		if (!strcmp(c->hwid[i], id))
			return c->hw[i];
	c->hw = lmp_xrealloc(c->hw, sizeof *c->hw * (size_t)(c->nhw + 1));
	c->hwid = lmp_xrealloc(c->hwid, sizeof *c->hwid * (size_t)(c->nhw + 1));
	/* a path is the user's own device file; an id must be lmp's */
	c->hw[c->nhw] = lmp_hw_load(id, &e);
	c->hwid[c->nhw] = lmp_xstrdup(id);
	return c->hw[c->nhw++];
}

static const char *
engine(struct lmp_calcache *c, const char *name, lmp_err *e)
{
	int i;

	for (i = 0; i < c->neng; i++)
		if (!strcmp(c->ename[i], name))
			return c->eid[i];
	c->ename = lmp_xrealloc(c->ename, sizeof *c->ename * (size_t)(c->neng + 1));
	c->eid = lmp_xrealloc(c->eid, sizeof *c->eid * (size_t)(c->neng + 1));
	c->ename[c->neng] = lmp_xstrdup(name);
	c->eid[c->neng] = lmp_engine_for_corpus(name, e);
	return c->eid[c->neng++];
}

/* The model populated as lmp-inspect | lmp-populate would, once per id. */
static struct calmodel *
model(struct lmp_calcache *c, const char *id, lmp_err *e)
{
	struct calmodel *cm;
	lmp_fixed fixed = {0};
	lmp_err me = {0};
	int i;

	for (i = 0; i < c->nmodels; i++)
		if (!strcmp(c->models[i].id, id))
			return &c->models[i];
	if (!c->db && !(c->db = lmp_db_layers(lmp_db_explicit(NULL), 0, e)))
		return NULL;
	c->models = lmp_xrealloc(c->models, sizeof *c->models * (size_t)(c->nmodels + 1));
	cm = &c->models[c->nmodels++];
	memset(cm, 0, sizeof *cm);
	cm->id = lmp_xstrdup(id);
	if (!(cm->doc = lmp_inspect(id, NULL, NULL, &me))) {
		cm->why = fmt("no config: %s", me.msg);
	} else if (lmp_doc_unresolved(cm->doc, &me) || lmp_populate(cm->doc, c->db, &fixed, NULL, &me) ||
	    !(cm->m = lmp_model_load(cm->doc, c->db, &me))) {
		cm->why = fmt("not predictable by lmp: %s", me.msg);
		cJSON_Delete(cm->doc);
		cm->doc = NULL;
	}
	return cm;
}

/* The model of a layout, compiled once. */
static lmp_model *
layout(struct calmodel *cm, lmp_db *db, const lmp_runtime *rt, lmp_err *e)
{
	int key[3] = {rt->tp, rt->pp, rt->ep}, i;

	if (!rt->layout)
		return cm->m;
	for (i = 0; i < cm->nlay; i++)
		if (!memcmp(key, cm->lay_key[i], sizeof key))
			return cm->lay[i];
	if (cm->nlay == 8)
		lmp_model_free(cm->lay[--cm->nlay]);
	if (!(cm->lay[cm->nlay] = lmp_model_for_layout(cm->m, cm->doc, db, rt, e)))
		return NULL;
	memcpy(cm->lay_key[cm->nlay], key, sizeof key);
	return cm->lay[cm->nlay++];
}

/* Bits of a precision as the records write it; 0: unknown. */
static int
weight_bits(const char *w, int *a_bit)
{
	*a_bit = 16;
	if (!w || !strcmp(w, "fp16") || !strcmp(w, "bf16"))
		return 16;
	if (!strcmp(w, "fp8")) {
		*a_bit = 8;
		return 8;
	}
	if (!strcmp(w, "int8-gptq") || !strcmp(w, "int8-awq") || !strcmp(w, "int8"))
		return 8;
	if (!strcmp(w, "int4-awq") || !strcmp(w, "int4-gptq") || !strcmp(w, "int4"))
		return 4;
	return 0;
}

struct req {
	int64_t batch, input, output, tp, pp, ep;
	int w_bit, a_bit, kv_bit;
	const char *engine;
};

static int
opt(lmp_runvals *v, int row, int64_t x, lmp_err *e)
{
	char s[32];

	snprintf(s, sizeof s, "%lld", (long long)x);
	return lmp_runopt_parse(v, row, s, e);
}

/* The eval document of the request (a generation of output tokens after a
 * prompt of input tokens), as lmp-eval writes it with rows. */
static cJSON *
request_doc(struct lmp_calcache *c, struct calmodel *cm, const struct req *q, lmp_err *e)
{
	lmp_runvals user = {0}, at;
	lmp_runtime rt = {0};
	lmp_query qu = {0};
	int64_t x[LMP_RO_NLISTS];
	lmp_buf b = {0};
	lmp_model *m;
	lmp_gen g;
	cJSON *doc = NULL;
	int i, rc;

	rc = opt(&user, LMP_RO_BATCH_SIZE, q->batch, e) || opt(&user, LMP_RO_PROMPT_LEN, q->input, e) ||
		opt(&user, LMP_RO_GEN_LEN, q->output, e) || opt(&user, LMP_RO_W_BIT, q->w_bit, e) ||
		opt(&user, LMP_RO_A_BIT, q->a_bit, e) || opt(&user, LMP_RO_KV_BIT, q->kv_bit, e);
	/* a layout only where there is one: the single device's document is
	 * the plain one */
	if (!rc && (q->tp > 1 || q->pp > 1 || q->ep > 1))
		rc = opt(&user, LMP_RO_TP, q->tp, e) || opt(&user, LMP_RO_PP, q->pp, e) || opt(&user, LMP_RO_EP, q->ep, e);
	if (rc || lmp_engine_apply(q->engine, &user, e)) {
		lmp_runvals_free(&user);
		return NULL;
	}
	if (lmp_runvals_for_doc(&user, cm->doc, &at, e))
		goto out;
	for (i = 0; i < LMP_RO_NLISTS; i++)
		x[i] = at.list[i][0];
	lmp_runvals_settings(&at, x, &rt);
	qu = (lmp_query){x[LMP_RO_SEQ_LEN], x[LMP_RO_CACHE_LEN], q->batch};
	rt.nqueries = 1;
	rt.queries = &qu;
	g = (lmp_gen){q->batch, q->input, q->output, &rt};
	if (lmp_runtime_compute(&rt, e) || !(m = layout(cm, c->db, &rt, e)) || lmp_gen_doc(m, &g, 1, &b, e))
		goto out;
	doc = lmp_json_parse_one(b.s, b.len, "lmp-eval document", e);
out:
	lmp_buf_free(&b);
	lmp_runvals_free(&user);
	return doc;
}

/* The request's document, made once per distinct request; a document
 * lmp refuses is kept as the reason, after the key's NUL. */
static struct lmp_calreq *
request(struct lmp_calcache *c, struct calmodel *cm, const struct req *q, const char *dev)
{
	struct lmp_calreq *r;
	lmp_err e = {0};
	char key[1024];
	size_t n;
	int i;

	n = (size_t)snprintf(key, sizeof key, "%s|%s|%s|%lld|%lld|%lld|%lld|%lld|%lld|%d|%d|%d", cm->id, dev, q->engine,
		(long long)q->batch, (long long)q->input, (long long)q->output, (long long)q->tp, (long long)q->pp,
		(long long)q->ep, q->w_bit, q->a_bit, q->kv_bit);
	for (i = 0; i < c->nreq; i++)
		if (!strcmp(c->req[i]->key, key))
			return c->req[i];
	r = lmp_xcalloc(1, sizeof *r);
	if (!(r->doc = request_doc(c, cm, q, &e))) {
		r->key = lmp_xmalloc(n + strlen(e.msg) + 2);
		memcpy(r->key, key, n + 1);
		memcpy(r->key + n + 1, e.msg, strlen(e.msg) + 1);
	} else {
		r->key = lmp_xstrdup(key);
	}
	c->req = lmp_xrealloc(c->req, sizeof *c->req * (size_t)(c->nreq + 1));
	return c->req[c->nreq++] = r;
}

static double
at(const cJSON *j, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
		j = cJSON_GetObjectItemCaseSensitive(j, key);
		path = dot + 1;
	}
	j = cJSON_GetObjectItemCaseSensitive(j, path);
	return cJSON_IsNumber(j) ? j->valuedouble : NAN;
}

/* lmp's lower bound of the record's time: the prefill's FLOPs at the
 * device's peak, each decode step's weights at its bandwidth (per device
 * under the layout).  A measurement below it is not what it claims. */
static char *
implausible(const lmp_calrec *r, const struct req *q)
{
	int prec = lmp_hw_precision(r->hw, q->w_bit, q->a_bit);
	double peak = r->hw->peak[prec], bw = r->hw->bandwidth;
	double flops = at(r->req->doc, "phases.prefill.totals.flops");
	double steps = at(r->req->doc, "phases.decode.steps"), w = at(r->req->doc, "phases.decode.totals.bytes.weights");
	double pre = flops / peak, step = steps > 0 ? w / steps / bw : 0, lb;

	lb = r->time == LMP_CAL_TTFT ? pre : r->time == LMP_CAL_TPOT ? step : pre + steps * step;
	if (!(peak > 0 && bw > 0) || isnan(lb) || r->measured >= lb)
		return NULL;
	return fmt("implausible: measured %.4g s is below lmp's lower bound %.4g s (prefill %.4g FLOPs at %.4g FLOP/s "
		"%s, %g decode steps of %.4g weight bytes at %.4g B/s)", r->measured, lb, flops, peak, lmp_prec_name(prec),
		steps, steps > 0 ? w / steps : 0, bw);
}

/* FNV-1a of the id: the record's fold, the same on every run. */
static int
fold_of(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return (int)(h % LMP_CAL_FOLDS);
}

/* One predictable record into r, or a reason (owned) why lmp cannot
 * predict it; NULL with e set on an error. */
static char *
prepare(lmp_calset *s, const cJSON *j, lmp_calrec *r, lmp_err *e)
{
	struct lmp_calcache *c = s->cache;
	const char *metric = str(j, "metric"), *dev = str(j, "device"), *eng = str(j, "engine");
	const char *tokens = str(j, "tokens"), *scope = str(j, "scope"), *kv = str(j, "kv_dtype");
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(j, "value");
	const cJSON *imp = cJSON_GetObjectItemCaseSensitive(j, "implausible");
	struct calmodel *cm;
	struct req q = {0};
	int64_t nd = count(j, "n_devices");
	double per_seq;

	if (cJSON_IsString(imp))
		return fmt("implausible: %s", imp->valuestring);
	if (!metric || !dev || !eng || !str(j, "model") || !cJSON_IsNumber(val) || !(val->valuedouble > 0))
		return fmt("not predictable: needs model, device, engine, metric and a positive value");
	q.batch = count(j, "batch");
	if (!q.batch)
		q.batch = count(j, "concurrency");
	q.input = count(j, "input_len");
	q.output = count(j, "output_len");
	q.tp = count(j, "tp");
	q.pp = count(j, "pp");
	q.ep = count(j, "ep");
	if (q.batch <= 0 || q.input <= 0)
		return fmt("not predictable: batch and input_len must be positive integers");
	if (q.tp < 0 || q.pp < 0 || q.ep < 0 || !q.tp)
		return fmt("not predictable: the layout (tp) is not stated");
	q.pp = q.pp ? q.pp : 1;
	q.ep = q.ep ? q.ep : 1;
	if (!strcmp(metric, "ttft_s")) {
		r->time = LMP_CAL_TTFT;
		q.output = q.output > 0 ? q.output : 1;
	} else if (!strcmp(metric, "tpot_s") || !strcmp(metric, "itl_s")) {
		r->time = LMP_CAL_TPOT;
	} else if (!strcmp(metric, "e2e_s") || !strcmp(metric, "throughput_tok_s")) {
		r->time = LMP_CAL_E2E;
	} else {
		return fmt("not predictable: metric %s", metric);
	}
	if (q.output <= 0 || (r->time == LMP_CAL_TPOT && q.output < 2))
		return fmt("not predictable: output_len must be a positive integer (2 or more for %s)", metric);
	r->measured = val->valuedouble;
	if (!strcmp(metric, "throughput_tok_s")) {
		/* the time the counted tokens took: a throughput inverted */
		if (!tokens || (strcmp(tokens, "output") && strcmp(tokens, "total")))
			return fmt("not predictable: throughput without tokens output or total");
		if (!scope || (strcmp(scope, "system") && strcmp(scope, "per_device")))
			return fmt("not predictable: throughput without scope system or per_device");
		per_seq = (double)q.output + (!strcmp(tokens, "total") ? (double)q.input : 0);
		if (!strcmp(scope, "per_device") && nd <= 0)
			return fmt("not predictable: per-device throughput without n_devices");
		r->measured = (double)q.batch * per_seq / val->valuedouble / (!strcmp(scope, "per_device") ? (double)nd : 1);
	}
	q.w_bit = weight_bits(str(j, "weight_dtype"), &q.a_bit);
	if (!q.w_bit)
		return fmt("unknown precision: weight_dtype %s", str(j, "weight_dtype"));
	q.kv_bit = !kv || !strcmp(kv, "fp16") || !strcmp(kv, "bf16") ? 16 : !strcmp(kv, "fp8") || !strcmp(kv, "int8") ? 8 : 0;
	if (!q.kv_bit)
		return fmt("unknown precision: kv_dtype %s", kv);
	if (!(r->hw = device(c, dev)))
		return fmt("no hardware file: %s", dev);
	if (!(q.engine = engine(c, eng, e)))
		return e->status ? NULL : fmt("no engine profile lists %s in corpus_names", eng);
	if (!(cm = model(c, str(j, "model"), e)))
		return NULL;
	if (!cm->doc)
		return lmp_xstrdup(cm->why);
	if (!(r->req = request(c, cm, &q, dev)))
		return NULL;
	r->req->hw = r->hw;
	if (!r->req->doc)
		return fmt("not predictable by lmp: %s", r->req->key + strlen(r->req->key) + 1);
	r->engine = lmp_xstrdup(q.engine);
	return implausible(r, &q);
}

static int
bad(lmp_err *e, const char *name, int n, const char *what)
{
	return lmp_fail(e, LMP_EXIT_INPUT, "%s: record %d: %s", name, n, what);
}

int
lmp_calset_add(lmp_calset *s, const char *text, size_t len, const char *name, lmp_err *e)
{
	lmp_json_stream st;
	const cJSON *src, *pred;
	cJSON *j;
	char *why;
	int n = 0, i, rc = 0;

	lmp_json_stream_init(&st, text, len, name);
	while (!rc && (j = lmp_json_next(&st, e))) {
		const char *id = str(j, "id");
		lmp_calrec r = {0};
		n++;
		pred = cJSON_GetObjectItemCaseSensitive(j, "predictable");
		src = cJSON_GetObjectItemCaseSensitive(j, "source");
		if (!cJSON_IsObject(j) || !id || !*id)
			rc = bad(e, name, n, "not a measurement record (needs a string \"id\")");
		else if (!cJSON_IsBool(pred))
			rc = bad(e, name, n, "\"predictable\" must be true or false");
		for (i = 0; !rc && i < s->nrec; i++)
			if (!strcmp(s->rec[i].id, id))
				rc = lmp_fail(e, LMP_EXIT_INPUT, "%s: record %d: id %s is used twice", name, n, id);
		for (i = 0; !rc && i < s->nex; i++)
			if (!strcmp(s->ex[i].id, id))
				rc = lmp_fail(e, LMP_EXIT_INPUT, "%s: record %d: id %s is used twice", name, n, id);
		if (rc) {
			cJSON_Delete(j);
			break;
		}
		if (cJSON_IsFalse(pred)) {
			add_ex(s, id, fmt("not predictable: %s", str(j, "not_predictable") ? str(j, "not_predictable") : "unstated"));
		} else if ((why = prepare(s, j, &r, e))) {
			add_ex(s, id, why);
			free(r.engine);
		} else if (e->status) {
			rc = -1;
		} else {
			r.id = lmp_xstrdup(id);
			r.device = lmp_xstrdup(str(j, "device"));
			r.metric = lmp_xstrdup(str(j, "metric"));
			/* the source: a repository file, else the page */
			r.source = lmp_xstrdup(str(src, "path") ? str(src, "path") : str(src, "url") ? str(src, "url") : id);
			r.fold = fold_of(id);
			int a_bit;
			r.wbits = lmp_calibration_wclass(weight_bits(str(j, "weight_dtype"), &a_bit));
			s->rec = lmp_xrealloc(s->rec, sizeof *s->rec * (size_t)(s->nrec + 1));
			s->rec[s->nrec++] = r;
		}
		cJSON_Delete(j);
	}
	return rc || e->status ? -1 : 0;
}

static int
same(const lmp_tparams *a, const lmp_tparams *b)
{
	return a->compute_fraction == b->compute_fraction && a->memory_fraction == b->memory_fraction &&
		a->link_fraction == b->link_fraction && a->launch_s == b->launch_s && a->step_s == b->step_s &&
		a->waves == b->waves;
}

/* The time under terms tp, through the time model's own function
 * (lmp_timed_*: the same kernels and sums as lmp_roofline), the document
 * prepared once. */
int
lmp_cal_predict(const lmp_calrec *r, const lmp_tparams *tp, double *t, lmp_err *e)
{
	struct lmp_calreq *q = r->req;
	lmp_roof_opts o = {0};
	lmp_times x;

	if (!q->timed) {
		o.hw = q->hw;
		o.devices = 1;
		o.compute_eff = o.memory_eff = 1;
		o.tmode = LMP_TM_TERMS;
		if (!(q->timed = lmp_timed_prepare(q->doc, &o, e)))
			return lmp_prefix(e, "%s: ", r->id);
		q->tried = 0;
	}
	if (!q->tried || !same(&q->tp, tp)) {
		if (lmp_timed_eval(q->timed, tp, &x))
			return lmp_fail(e, LMP_EXIT_INPUT, "%s: the time model refuses the terms", r->id);
		q->t[LMP_CAL_TTFT] = x.ttft_s;
		q->t[LMP_CAL_TPOT] = x.tpot_s;
		q->t[LMP_CAL_E2E] = x.e2e_s;
		q->tp = *tp;
		q->tried = 1;
	}
	*t = q->t[r->time];
	if (!(*t > 0))
		return lmp_fail(e, LMP_EXIT_INPUT, "%s: lmp predicts no time", r->id);
	return 0;
}
