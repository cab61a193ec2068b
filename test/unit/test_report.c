/* Unit tests of lmp-report's pieces: units, tables, CSV quoting, axes,
 * field lookup.  TAP; every expected value is worked out by hand next to it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "tap.h"

typedef void (*fmt_fn)(double, char *);

static void
fmt_is(fmt_fn f, double v, const char *want, const char *what)
{
	char got[LMP_UNIT_MAX];

	f(v, got);
	ok(!strcmp(got, want), what, got);
}

static void
test_units(void)
{
	/* 2 x 2048 x 4096 x 4096 = 68,719,476,736 FLOPs: 68.719... G */
	fmt_is(lmp_fmt_flops, 68719476736.0, "68.72 GFLOPs", "FLOPs take SI prefixes, two decimals");
	fmt_is(lmp_fmt_flops, 0, "0 FLOPs", "zero FLOPs");
	fmt_is(lmp_fmt_flops, 999, "999 FLOPs", "below a thousand: whole FLOPs");
	/* 999,996 rounds to 1000.00 k: the next prefix, 1.00 M */
	fmt_is(lmp_fmt_flops, 999996, "1.00 MFLOPs", "a value that rounds up to 1000 takes the next prefix");
	fmt_is(lmp_fmt_flops, 999994, "999.99 kFLOPs", "one that does not, keeps its prefix");
	/* 16,777,216 B = 16 x 2^20 */
	fmt_is(lmp_fmt_bytes, 16777216, "16.00 MiB", "bytes take IEC prefixes");
	fmt_is(lmp_fmt_bytes, 1023, "1023 B", "below 1024: whole bytes");
	/* 1,073,741,824 = 2^30 */
	fmt_is(lmp_fmt_bytes, 1073741824.0, "1.00 GiB", "2^30 bytes");
	/* 1.5 x 2^40 */
	fmt_is(lmp_fmt_bytes, 1649267441664.0, "1.50 TiB", "1.5 TiB");
	/* 68,719,476,736 / 989.4e12 = 6.9455e-05 s */
	fmt_is(lmp_fmt_time, 68719476736.0 / 989.4e12, "69.46 us", "times in us");
	fmt_is(lmp_fmt_time, 0.03356, "33.56 ms", "times in ms");
	fmt_is(lmp_fmt_time, 2.5, "2.50 s", "times in s");
	fmt_is(lmp_fmt_time, 3.1797e-7, "317.97 ns", "times in ns");
	fmt_is(lmp_fmt_time, 0.0009999999, "1.00 ms", "a time that rounds up to 1000 us is 1.00 ms");
	fmt_is(lmp_fmt_count, 6738415616.0, "6.74 G", "counts with a bare prefix");
	fmt_is(lmp_fmt_count, 0, "0", "a zero count");
	fmt_is(lmp_fmt_percent, 0.8660077, "86.6%", "a share");
	fmt_is(lmp_fmt_ratio, 1024, "1024.0", "an intensity above 100: one decimal");
	fmt_is(lmp_fmt_ratio, 0.1666, "0.17", "below 100: two");
	fmt_is(lmp_fmt_plain, 64, "64", "whole numbers print whole");

	char rate[LMP_UNIT_MAX];
	lmp_fmt_rate(3.35e12, "B/s", rate);
	ok(!strcmp(rate, "3.35 TB/s"), "a bandwidth: decimal prefixes, as vendors state it", rate);

	char g[LMP_UNIT_MAX];
	lmp_fmt_grouped("6738415616", g);
	ok(!strcmp(g, "6,738,415,616"), "digits grouped in thousands", g);
	lmp_fmt_grouped("123", g);
	ok(!strcmp(g, "123"), "three digits: no comma", g);
	lmp_fmt_grouped("1234", g);
	ok(!strcmp(g, "1,234"), "four digits: one comma", g);
	lmp_fmt_grouped("0.5", g);
	ok(!strcmp(g, "0.5"), "a fraction is left as it is", g);
}

static void
test_tables(void)
{
	static const char *const head[] = {"path", "FLOPs"};
	lmp_table *t = lmp_table_new(2, head, "lr");
	lmp_report r = {0};
	lmp_buf b = {0};
	const char *row1[] = {"q_proj", "1.00 kFLOPs"}, *row2[] = {"a|b", "5 FLOPs"};

	lmp_table_add(t, row1);
	lmp_table_add(t, row2);
	lmp_report_head(&r, 2, "layers");
	lmp_report_table(&r, t);
	lmp_report_write(&r, LMP_FMT_TEXT, &b);
	/* widths: path 6, FLOPs 11; numbers right-aligned, the last column unpadded on the left */
	ok(!strcmp(b.s, "layers\n------\n"
			 "path          FLOPs\n"
			 "------  -----------\n"
			 "q_proj  1.00 kFLOPs\n"
			 "a|b         5 FLOPs\n"),
		"a text table: aligned, a rule under the header", b.s);
	b.len = 0;
	lmp_report_write(&r, LMP_FMT_MD, &b);
	ok(!strcmp(b.s, "### layers\n\n| path | FLOPs |\n| --- | ---: |\n| q\\_proj | 1.00 kFLOPs |\n"
			 "| a\\|b | 5 FLOPs |\n"),
		"a markdown table escapes | and _, right-aligns numbers", b.s);
	b.len = 0;
	lmp_report_write(&r, LMP_FMT_HTML, &b);
	ok(strstr(b.s, "<td>a|b</td><td class=\"r\">5 FLOPs</td>") != NULL, "an HTML table", b.s);
	lmp_report_free(&r);
	lmp_buf_free(&b);

	/* 205 rows in HTML: the first 100, a row for 101 .. 105, the last 100 */
	t = lmp_table_new(2, head, "lr");
	for (int i = 0; i < 205; i++) {
		char n[16];
		snprintf(n, sizeof n, "r%d", i + 1);
		const char *row[] = {n, "1"};
		lmp_table_add(t, row);
	}
	lmp_report_table(&r, t);
	b = (lmp_buf){0};
	lmp_report_write(&r, LMP_FMT_HTML, &b);
	int rows = 0;
	for (const char *p = b.s; (p = strstr(p, "<tr><td>")); p++)
		rows++;
	ok(rows == 200 && strstr(b.s, "<td>r100</td>") && !strstr(b.s, "<td>r101</td>") &&
			!strstr(b.s, "<td>r105</td>") && strstr(b.s, "<td>r106</td>") &&
			strstr(b.s, "<td class=\"gap\" colspan=\"2\">rows 101 to 105 of 205 not shown"),
		"a long HTML table keeps its first and last 100 rows", NULL);
	ok(strstr(b.s, "<div class=\"scroll\">\n<table>") != NULL, "and scrolls in its own box", NULL);
	lmp_report_free(&r);
	lmp_buf_free(&b);

	b = (lmp_buf){0};
	lmp_html_escape(&b, "<a & \"b\">");
	ok(!strcmp(b.s, "&lt;a &amp; &quot;b&quot;&gt;"), "HTML and XML text is escaped", b.s);
	lmp_buf_free(&b);
}

static void
test_csv(void)
{
	lmp_err e = {0};
	const char *text = "{\"lmp\":\"module\",\"version\":\"0.1.0\",\"class\":\"a,\\\"b\\\"\","
			   "\"param_count\":12345678901234567890123,\"flops\":1e3,\"bytes\":{\"weights\":1,"
			   "\"reads\":2,\"writes\":3,\"intermediates\":0},\"state_bytes\":0}";
	cJSON *doc = lmp_json_parse_one(text, strlen(text), "t", &e);
	lmp_buf b = {0};

	ok(doc && !lmp_csv_doc(doc, 7, &b, &e), "a module document as CSV", e.msg);
	/* the class quoted (it holds a comma and quotes, doubled); the
	 * count past 2^64 and 1e3 exactly as written */
	ok(b.s && strstr(b.s, "7,module,") == b.s && strstr(b.s, ",\"a,\"\"b\"\"\",") &&
			strstr(b.s, ",12345678901234567890123,,1e3,1,2,3,0,0,"),
		"CSV quotes as RFC 4180 and keeps numbers' text", b.s);
	cJSON_Delete(doc);
	lmp_buf_free(&b);

	/* Text a spreadsheet would run (=, +, -, @ first) is quoted behind a
	 * single quote; numbers, negative ones too, keep their own text. */
	text = "{\"lmp\":\"eval\",\"model\":{\"id\":\"=HYPERLINK(\\\"http://x\\\")\"},"
	       "\"roofline\":{\"hardware\":\"@SUM(A1)\",\"devices\":8,\"tp\":-2},"
	       "\"runtime\":{\"batch_size\":-1,\"seq_len\":-0.5e3,\"engine\":\"+e\"},"
	       "\"rows\":[{\"path\":\"+1\",\"class\":\"-cmd\",\"count\":1,\"flops\":-7,\"bound\":\"a=b\"}],"
	       "\"totals\":{\"flops\":-7,\"bound\":\"\\tx\"}}";
	doc = lmp_json_parse_one(text, strlen(text), "t", &e);
	b = (lmp_buf){0};
	ok(doc && !lmp_csv_doc(doc, 1, &b, &e), "an eval document with hostile text as CSV", e.msg);
	/* doc,level,model,hardware,phase,batch_size,seq_len,... and last
	 * ...,fits,devices,tp,pp,ep,engine,time_model,dp */
	ok(b.s && strstr(b.s, "1,layer,\"'=HYPERLINK(\"\"http://x\"\")\",\"'@SUM(A1)\",,-1,-0.5e3,") == b.s &&
			strstr(b.s, ",8,-2,,,\"'+e\",,\n"),
		"a formula-like model, device and engine are defused; devices, tp and negative numbers stay numbers", b.s);
	ok(b.s && strstr(b.s, ",\"'+1\",\"'-cmd\",1,") && strstr(b.s, ",-7,") && strstr(b.s, ",a=b,"),
		"a path and class too; '=' inside text is left alone", b.s);
	ok(b.s && strstr(b.s, "\n1,total,") && strstr(b.s, ",\"'\tx\","), "a leading tab is defused too", b.s);
	cJSON_Delete(doc);
	lmp_buf_free(&b);
}

static void
test_axes_and_fields(void)
{
	lmp_axis a = {.log = 1};
	lmp_err e = {0};

	/* intensities 0.3 .. 1500: decades 0.1 .. 10000 (more than 4.5 decades) */
	lmp_axis_fit(&a, 0.3, 1500);
	ok(a.lo == 0.1 && fabs(a.hi - 10000) < 1e-9, "a long log axis spans whole decades", NULL);
	/* batch 1 .. 128: three decades, so it ends at the next 1-2-5 step, 200 */
	lmp_axis_fit(&a, 1, 128);
	ok(a.lo == 1 && fabs(a.hi - 200) < 1e-9, "a short log axis ends at a 1-2-5 step", NULL);
	/* bytes on a log axis: powers of two around 1e9 .. 9e10 B, 2^29 (512 MiB)
	 * up to 2^37 (128 GiB), since log2(1e9) = 29.9 and log2(9e10) = 36.4 */
	lmp_axis m = {.log = 1, .binary = 1};
	lmp_axis_fit(&m, 1e9, 9e10);
	ok(m.lo == 536870912.0 && m.hi == 137438953472.0, "a log axis of bytes ends at powers of two", NULL);
	lmp_axis b = {.log = 0};
	/* 0 .. 37: step 10 (37/5 = 7.4 -> 10), 0 .. 40 */
	lmp_axis_fit(&b, 3, 37);
	ok(b.lo == 0 && b.hi == 40, "a linear axis starts at zero and ends at a nice step", NULL);

	const char *text = "{\"runtime\":{\"batch_size\":8},\"totals\":{\"tokens_per_s\":1.5,"
			   "\"bytes\":{\"reads\":10}},\"fit\":{\"fits\":true}}";
	cJSON *doc = lmp_json_parse_one(text, strlen(text), "t", &e);
	char path[64];
	const cJSON *v = lmp_field_find(doc, "batch_size", path, sizeof path);
	ok(v && v->valuedouble == 8 && !strcmp(path, "runtime.batch_size"), "a short name found in runtime", path);
	v = lmp_field_find(doc, "reads", path, sizeof path);
	ok(v && !strcmp(path, "totals.bytes.reads"), "and in totals.bytes", path);
	v = lmp_field_find(doc, "totals.tokens_per_s", path, sizeof path);
	ok(v && v->valuedouble == 1.5, "a dotted name is a path", path);
	ok(!lmp_field_find(doc, "nothing", NULL, 0), "an absent field is NULL", NULL);
	cJSON_Delete(doc);
}

int
main(void)
{
	test_units();
	test_tables();
	test_csv();
	test_axes_and_fields();
	printf("1..%d\n", ntest);
	return nfail != 0;
}
