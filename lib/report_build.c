/* report_build.c: a whole stream of documents as one report: each
 * document with layers in its own section, runs of documents without
 * layers (sweep points) as one table under a summary, and for HTML the
 * charts between the two.  Built as the documents come: without charts a
 * document can go once added. */
#include <stdlib.h>
#include <string.h>

#include "report.h"

static int
is_roofline(const cJSON *doc)
{
	const cJSON *k = lmp_field(doc, "lmp");

	return cJSON_IsString(k) && !strcmp(k->valuestring, "roofline");
}

/* The roofline chart of some documents, as a block; an error (several
 * devices) only leaves the chart out: the tables say everything. */
static void
roofline_block(lmp_report *r, int at, const cJSON *const *docs, int n)
{
	lmp_buf svg = {0};
	lmp_err e = {0};
	int i;

	for (i = 0; i < n; i++)
		if (!is_roofline(docs[i]))
			return;
	if (!lmp_chart_roofline(docs, n, &svg, &e))
		lmp_report_chart(r, at, svg.s);
	lmp_buf_free(&svg);
}

/* A run of points ends: the roofline chart of its documents (kept for
 * it) above its table. */
static void
end_run(lmp_build *b)
{
	lmp_report *r = b->r;

	if (!b->pts)
		return;
	lmp_points_end(b->pts);
	b->pts = NULL;
	/* charts above the table, which may be long */
	if (!r->plot_at)
		r->plot_at = r->n;
	if (b->charts)
		roofline_block(r, r->n - 1, b->run, b->nrun);
	b->nrun = 0;
}

int
lmp_build_add(lmp_build *b, const cJSON *doc, lmp_err *e)
{
	lmp_report *r = b->r;
	int at;

	b->n++;
	if (lmp_report_is_point(doc)) {
		if (!b->pts)
			b->pts = lmp_points_begin(r);
		lmp_points_add(b->pts, doc);
		if (b->charts) {
			if (b->nrun == b->cap) {
				b->cap = b->cap ? 2 * b->cap : 64;
				b->run = lmp_xrealloc(b->run, (size_t)b->cap * sizeof *b->run);
			}
			b->run[b->nrun++] = doc;
		}
		return 0;
	}
	end_run(b);
	at = r->n;
	if (lmp_report_doc(r, doc, e))
		return lmp_prefix(e, "document %d: ", b->n);
	/* the chart under the title and the device, above the tables */
	if (b->charts && is_roofline(doc))
		roofline_block(r, at + 2, &doc, 1);
	return 0;
}

void
lmp_build_end(lmp_build *b)
{
	end_run(b);
	free(b->run);
	b->run = NULL;
	b->cap = 0;
}

int
lmp_report_build(lmp_report *r, const cJSON *const *docs, int n, int charts, lmp_err *e)
{
	lmp_build b = {.r = r, .charts = charts};
	int rc = 0;

	for (int i = 0; i < n && !rc; i++)
		rc = lmp_build_add(&b, docs[i], e);
	lmp_build_end(&b);
	return rc;
}

/* "meta-llama/Llama-2-7b-hf" or "meta-llama/Llama-2-7b-hf and 3 more". */
void
lmp_report_title(const cJSON *const *docs, int n, char *out, size_t size)
{
	const char *first = NULL, **seen = lmp_xcalloc((size_t)n + 1, sizeof *seen);
	int i, j, others = 0, nseen = 0;

	/* models, not documents: a sweep of one model is that model */
	for (i = 0; i < n; i++) {
		const cJSON *id = lmp_field(docs[i], "model.id");
		const cJSON *cls = lmp_field(docs[i], "class");
		const char *s = cJSON_IsString(id) ? id->valuestring : cJSON_IsString(cls) ? cls->valuestring : NULL;
		if (!s)
			continue;
		for (j = nseen - 1; j >= 0 && strcmp(seen[j], s); j--)
			;
		if (j >= 0)
			continue;
		seen[nseen++] = s;
		if (!first)
			first = s;
		else
			others++;
	}
	free(seen);
	if (others)
		snprintf(out, size, "lmp report: %s and %d other%s", first, others, others == 1 ? "" : "s");
	else
		snprintf(out, size, "lmp report: %s", first ? first : "documents");
}
