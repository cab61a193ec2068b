/* report_html.c: one self-contained HTML page: the report's blocks with its
 * charts inline.  No script, no external resource, and a content security
 * policy that forbids fetching any, so the page reads the same offline, in
 * a mail attachment or in a CI artifact. */
#include <string.h>

#include "report.h"

static const char style[] =
	"body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",sans-serif;"
	"margin:2em auto;max-width:1200px;padding:0 1em;color:#222;line-height:1.4}\n"
	"h1{font-size:1.5em;margin-bottom:0}\nh2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}\n"
	"h3{font-size:1.05em;margin-top:1.5em}\n"
	"table{border-collapse:collapse;font-size:.85em;margin:.5em 0;font-variant-numeric:tabular-nums}\n"
	"th,td{padding:.2em .6em;border-bottom:1px solid #e5e5e5;text-align:left;white-space:nowrap}\n"
	"th{background:#f3f3f3}\n.r{text-align:right}\ntbody tr:hover{background:#f8f8ff}\n"
	"dl{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;font-size:.9em}\n"
	"dt{font-weight:600}\ndd{margin:0}\nfigure{margin:1em 0}\nfigure svg{max-width:100%;height:auto}\n"
	".gen{color:#666;font-size:.85em}\n"
	/* a wide table scrolls sideways in its own box, the page never */
	".scroll{overflow-x:auto;max-width:100%;margin:.5em 0}\n.scroll table{margin:0}\n"
	"td.gap{text-align:center;color:#555;font-style:italic;background:#fafafa}\n";

void
lmp_html_page(const char *title, const lmp_report *r, lmp_buf *out)
{
	lmp_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		"style-src 'unsafe-inline'; img-src data:\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		"<link rel=\"icon\" href=\"data:,\">\n<title>");
	lmp_html_escape(out, title);
	lmp_buf_puts(out, "</title>\n<style>\n");
	lmp_buf_puts(out, style);
	lmp_buf_puts(out, "</style>\n</head>\n<body>\n<h1>");
	lmp_html_escape(out, title);
	lmp_buf_puts(out, "</h1>\n<p class=\"gen\">lmp-report " LMP_VERSION
		": predicted from the model's configuration, not measured.</p>\n");
	lmp_report_write(r, LMP_FMT_HTML, out);
	lmp_buf_puts(out, "</body>\n</html>\n");
}
