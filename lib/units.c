/* units.c: numbers as people read them.  Two decimals after a prefix, so
 * that a column of values lines up; SI prefixes (powers of 1000) for FLOPs,
 * rates and counts, IEC prefixes (powers of 1024) for bytes, as memory sizes
 * are built and as the hardware files count capacity. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

static const char *const si[] = {"", "k", "M", "G", "T", "P", "E", "Z", "Y"};
static const char *const iec[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"};

/* v scaled by base until it is below base once rounded to two decimals. */
static void
prefixed(double v, double base, const char *const *pre, const char *unit, char *out)
{
	double a = fabs(v);
	int i = 0;

	if (!isfinite(v)) {
		snprintf(out, LMP_UNIT_MAX, "%g %s", v, unit);
		return;
	}
	while (i < 8 && round(a * 100) / 100 >= base) {
		a /= base;
		i++;
	}
	if (a >= base) { /* past the last prefix */
		snprintf(out, LMP_UNIT_MAX, "%.2e %s", v, unit);
		return;
	}
	/* Plain units below the first prefix: whole numbers print whole. */
	if (i == 0 && a == floor(a))
		snprintf(out, LMP_UNIT_MAX, "%s%.0f %s", v < 0 ? "-" : "", a, unit);
	else
		snprintf(out, LMP_UNIT_MAX, "%s%.2f %s%s", v < 0 ? "-" : "", a, pre[i], unit);
}

void lmp_fmt_flops(double v, char *out) { prefixed(v, 1000, si, "FLOPs", out); }
void lmp_fmt_bytes(double v, char *out) { prefixed(v, 1024, iec, "B", out); }
void lmp_fmt_rate(double v, const char *unit, char *out) { prefixed(v, 1000, si, unit, out); }

void
lmp_fmt_count(double v, char *out)
{
	prefixed(v, 1000, si, "", out);
	size_t n = strlen(out);
	if (n && out[n - 1] == ' ')
		out[n - 1] = '\0';
}

void
lmp_fmt_time(double s, char *out)
{
	static const char *const unit[] = {"s", "ms", "us", "ns", "ps"};
	double a = fabs(s);
	int i = 0;

	if (s == 0 || !isfinite(s)) {
		snprintf(out, LMP_UNIT_MAX, "%g s", s);
		return;
	}
	while (i < 4 && round(a * 100) / 100 < 1) {
		a *= 1000;
		i++;
	}
	if (a >= 1e6) /* a million seconds and more */
		snprintf(out, LMP_UNIT_MAX, "%.2e s", s);
	else
		snprintf(out, LMP_UNIT_MAX, "%s%.2f %s", s < 0 ? "-" : "", a, unit[i]);
}

void
lmp_fmt_plain(double v, char *out)
{
	if (v == floor(v) && fabs(v) < 1e15)
		snprintf(out, LMP_UNIT_MAX, "%.0f", v);
	else
		lmp_fmt_ratio(v, out);
}

void
lmp_fmt_percent(double v, char *out)
{
	snprintf(out, LMP_UNIT_MAX, "%.1f%%", v * 100);
}

void
lmp_fmt_grouped(const char *digits, char *out)
{
	size_t n = strlen(digits), i, o = 0, lead;

	if (n > LMP_UNIT_MAX / 2 || strspn(digits, "0123456789") != n) {
		snprintf(out, LMP_UNIT_MAX, "%s", digits);
		return;
	}
	lead = n % 3 ? n % 3 : 3;
	for (i = 0; i < n; i++) {
		if (i >= lead && (i - lead) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

void
lmp_fmt_ratio(double v, char *out)
{
	if (v == 0)
		snprintf(out, LMP_UNIT_MAX, "0");
	else if (fabs(v) >= 1e12 || !isfinite(v))
		snprintf(out, LMP_UNIT_MAX, "%.2e", v);
	else if (fabs(v) >= 100)
		snprintf(out, LMP_UNIT_MAX, "%.1f", v);
	else if (fabs(v) >= 0.01)
		snprintf(out, LMP_UNIT_MAX, "%.2f", v);
	else
		snprintf(out, LMP_UNIT_MAX, "%.2e", v);
}

void
lmp_utf8_clip(char *s)
{
	size_t n = strlen(s), i, want;
	unsigned char c;

	if (!n)
		return;
	i = n - 1;
	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	c = (unsigned char)s[i];
	want = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (n - i < want)
		s[i] = '\0';
}
