/* timed.h: a document's kernels, prepared once (timed.c), shared by
 * lmp_timed_* and lmp_roofline so that both sum the same times in the same
 * order.  Private to lib/. */
#ifndef LMP_TIMED_H
#define LMP_TIMED_H

#include "lmp.h"

/* One row: a kernel, or a collective on a link. */
struct lmp_titem {
	cJSON *row;   /* the row it came from (lmp_roofline annotates it) */
	double count; /* instances */
	int prec;     /* the row's own precision (weight_format), or -1 */
	int coll;     /* a collective's kind, or 0: a kernel */
	lmp_kernel k;
	/* a collective: group size, bytes, the link's bandwidth and latency,
	 * and the phase's steps (each pays the latencies again) */
	int n, cross;
	double cbytes, bw, lat, steps;
	/* its link factor as a double (lmp_coll_link_factor), kept for the
	 * kind and size it was worked out for (fkind 0: none yet): the fused
	 * sweep sets the collective again at every point */
	int fkind, fn, fok;
	double fac;
	/* a decode row with per_step: one step's kernel and its steps' work,
	 * timed step by step (timesteps.c); sw.n 0 otherwise */
	lmp_kernel ks;
	lmp_stepwork sw;
};

struct lmp_tphase {
	cJSON *ph; /* the document, or a phase object: holds "rows" and "totals" */
	struct lmp_titem *it;
	int n, cap, kernels; /* kernels: its items are a totals document's kernels (not annotated) */
	double steps;
	double flops, bytes, act_peak; /* the totals' work; the largest row or kernel output */
	/* the fused sweep's rows (lmp_timed_kernels with rows): each row's
	 * members written as text to ann, item j's from ann_at[j] to
	 * ann_at[j + 1] (n + 1 of them), not to a row object */
	lmp_buf *ann;
	size_t *ann_at;
};

struct lmp_timed {
	struct lmp_tphase ph[2]; /* one step: ph[0]; a generation: prefill, decode */
	int nph, gen;
	double batch, gen_len, steps;
	int units;
	int on, gpn, unfused, prec; /* a layout; GPUs per node; --unfused or eager; the document's precision */
	double devices, mult; /* the layout's devices; --devices without a layout (1) */
	double ceff, meff; /* --compute-efficiency, --memory-efficiency */
	double peak, bandwidth; /* the document's precision: the ceilings the kernels start from */
};

/* What a document's runtime settings decide of its roofline (roofline.c):
 * the terms and where they came from, the ceilings, the kernels. */
struct lmp_roofset {
	lmp_roof_opts oo;
	lmp_tparams tp, q;
	int ceilings;
	double peak_raw, bw_raw;
	struct lmp_timed t;
	const char *status;
	const cJSON *en; /* the calibration entry, or NULL */
	char note[320];
};

/* Phase sums under terms p. */
struct lmp_tsums {
	double time, compute, memory, comm, launch, steps_s;
	lmp_tsum xtime, xcomm; /* time and comm as exact sums (lmp_tsum), for totals over phases */
};

/* emit.c: the members lmp_roofline adds, written to a cJSON object (obj)
 * or as text to a buffer (b: members of an object already open, n of them
 * written so far, so the next one starts with a comma when n > 0); a
 * member --fields leaves out is not written (nor formatted). */
typedef struct lmp_emit {
	cJSON *obj;
	lmp_buf *b;
	int n;
	/* --fields (lmp_fields_sub): the members wanted (NULL: all), or none
	 * (off, an object no path names) */
	const lmp_fields_node *want;
	int off;
} lmp_emit;
void lmp_emit_numk(lmp_emit *w, const char *key, size_t keylen, double x); /* null where not finite */
/* inline so that a literal key's length is known where it is written */
static inline void
lmp_emit_num(lmp_emit *w, const char *key, double x)
{
	lmp_emit_numk(w, key, strlen(key), x);
}
void lmp_emit_numtext(lmp_emit *w, const char *key, const lmp_num *v);
void lmp_emit_str(lmp_emit *w, const char *key, const char *s);
void lmp_emit_null(lmp_emit *w, const char *key);
void lmp_emit_bool(lmp_emit *w, const char *key, int v);
void lmp_emit_item(lmp_emit *w, const char *key, const cJSON *item); /* a copy */
lmp_emit lmp_emit_open(lmp_emit *w, const char *key);                /* a member object */
void lmp_emit_close(lmp_emit *child);

/* A number member as a double (NAN: absent or not a number), and one added
 * (null where not finite): the documents' numbers, shared by roofline.c. */
double lmp_tnum_at(const cJSON *obj, const char *key);
void lmp_tadd_num(cJSON *obj, const char *key, double x);

/* ceilings: kernels start from the hardware file's achievable figures
 * (where it has them) instead of the datasheet's (uncalibrated). */
int lmp_timed_init(struct lmp_timed *t, cJSON *doc, const lmp_roof_opts *o, int ceilings, lmp_err *e);
void lmp_timed_release(struct lmp_timed *t);
/* A phase's kernels and totals (flops, reads, writes, intermediates) from
 * numbers into t->ph[ph], over steps steps (a decode phase's first over a
 * cache of c0, where its kernels have pieces), t set by lmp_timed_init
 * from a document of the same runtime settings: what prep_phase reads of
 * a totals document's phase, or with rows of a document's rows (each row
 * a kernel of its own count, annotated).  same (a one-step point): k is
 * the last call's kernels but for their work and gemm shapes (lmp_evalpt's
 * kgen), which alone are read. */
int lmp_timed_kernels(struct lmp_timed *t, int ph, double steps, double c0, const struct lmp_tkernel *k, int n,
	int rows, int same, const double tot[4], const lmp_roof_opts *o, int abit, int ceilings, lmp_err *e);
/* The terms p with the efficiencies multiplied in. */
lmp_tparams lmp_timed_terms(const struct lmp_timed *t, const lmp_tparams *p);
/* A phase's time under q (lmp_timed_terms); with annotate, each row is
 * written its times, and with tw the totals (the phase's totals object). */
void lmp_timed_phase(const struct lmp_timed *t, int i, const lmp_tparams *q, int annotate, lmp_emit *tw,
	struct lmp_tsums *s);
/* The document's times from its phases' sums. */
void lmp_timed_times(const struct lmp_timed *t, const struct lmp_tsums *s, lmp_times *out);

#endif
