/* evalslots.h: where a point's values sit, shared by evaldoc.c (which
 * writes them) and sweepform.c (which forms them along a sweep). */
#ifndef LMP_EVALSLOTS_H
#define LMP_EVALSLOTS_H

#include "lmp.h"

/* Per row and in the totals, the seven quantities (LMP_K_*), then the
 * stored weight bytes (V_WEIGHT_BYTES); the totals add the active
 * parameters (V_ACTIVE).  A row of matrix products adds its gemm: m x
 * calls and calls (summed over a phase's steps), n and k (kept). */
enum { V_WEIGHT_BYTES = LMP_NKINDS, V_COLL, V_GEMM_MC, V_GEMM_N, V_GEMM_K, V_GEMM_CALLS, NV, V_ACTIVE = NV };

/* A layout's sums per pipeline stage (evaldoc.c par_sums): one device of
 * each stage holds its rows' parameters, weights and state and does their
 * FLOPs. */
enum { S_PARAMS, S_WEIGHTS, S_STATE, S_FLOPS, NS };

/* The numbers the fold tells two rows' kernels apart by (evaldoc.c
 * kernel_diff), most often different first. */
enum { KD_NNUMS = 9 };
static const int kd_nums[KD_NNUMS] = {LMP_K_FLOPS, LMP_K_READS, LMP_K_WRITES, LMP_K_INTERMEDIATES, V_COLL,
	V_GEMM_MC, V_GEMM_N, V_GEMM_K, V_GEMM_CALLS};

#endif
