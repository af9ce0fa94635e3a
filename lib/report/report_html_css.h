/*
 * The HTML report's style sheet (report_html.c): constant text, never
 * anything from the report. Screen and print (the verdict first, table
 * headers repeated on each page, colours kept when printed). The chart's
 * three colours (report_svg.c) are used nowhere else, so that a screenshot
 * check can find the chart by them.
 */
#ifndef SIGNGATE_REPORT_HTML_CSS_H
#define SIGNGATE_REPORT_HTML_CSS_H

static const char report_css[] =
	":root{color-scheme:light;-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
	"body{font-family:'DejaVu Sans',Verdana,sans-serif;font-size:14px;color:#1a1a1a;"
	"background:#fff;margin:24px;max-width:1400px}\n"
	"h1{font-size:22px;margin:0 0 12px}h2{font-size:18px;margin:28px 0 8px;"
	"border-bottom:2px solid #555;padding-bottom:3px}\n"
	"h3{font-size:15px;margin:14px 0 6px}\n"
	".verdict{border:4px solid;padding:12px 16px;margin:0 0 20px}\n"
	".verdict h2{border:0;margin:0 0 8px;font-size:24px}\n"
	".intact{border-color:#1b5e20;background:#e8f5e9}.intact h2{color:#1b5e20}\n"
	".partial{border-color:#e65100;background:#fff3e0}.partial h2{color:#a84300}\n"
	".broken{border-color:#b71c1c;background:#ffebee}.broken h2{color:#b71c1c}\n"
	".verdict ul{margin:6px 0;padding-left:20px}.verdict li{margin:3px 0}\n"
	".warn{color:#b71c1c;font-weight:bold}.ok{color:#1b5e20}\n"
	"pre.cmd{background:#f4f4f4;border:1px solid #999;padding:8px;white-space:pre-wrap;"
	"overflow-wrap:anywhere;font-family:'DejaVu Sans Mono',monospace;font-size:13px;"
	"user-select:all}\n"
	"table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:12.5px}\n"
	"th,td{border:1px solid #bbb;padding:4px 6px;text-align:left;vertical-align:top}\n"
	"th{background:#e9e9e9}\n"
	"td{overflow-wrap:anywhere;word-break:break-word;overflow:hidden}td.t,td.t .v{white-space:nowrap}\n"
	"tr.warnrow td{background:#fff0f0}\n"
	".h,.mono{font-family:'DejaVu Sans Mono',monospace;font-size:11.5px;"
	"overflow-wrap:anywhere;word-break:break-all}\n"
	".v{unicode-bidi:bidi-override;unicode-bidi:isolate-override;direction:ltr;"
	"white-space:pre-wrap}\n"
	".cp{border:1px solid #b71c1c;color:#b71c1c;background:#fff;font-family:"
	"'DejaVu Sans Mono',monospace;font-size:11px;padding:0 2px;margin:0 1px;"
	"white-space:nowrap}\n"
	".na{background:#ffe082;outline:1px dotted #8d6e00}\n"
	".nn{display:inline-block;margin-left:6px;font-size:11px;color:#8d4e00;"
	"border:1px dashed #8d6e00;padding:0 3px}\n"
	".none{color:#777;font-style:italic}\n"
	".k{color:#555}.item{margin:1px 0}\n"
	".badge{display:inline-block;font-size:11px;padding:0 4px;border:1px solid;"
	"margin-left:4px;white-space:nowrap}\n"
	".src-cert{color:#1b5e20;border-color:#1b5e20;background:#e8f5e9}\n"
	".src-typed{color:#a84300;border-color:#e65100;background:#fff3e0}\n"
	".chart{margin:8px 0 16px}.chart figcaption{font-weight:bold;margin-bottom:4px}\n"
	".chart svg{width:100%;max-width:960px;height:auto;border:1px solid #ccc}\n"
	"svg text{font-family:'DejaVu Sans',sans-serif;font-size:12px;fill:#222}\n"
	"svg .yl{text-anchor:end}svg .xl{text-anchor:middle;font-size:11px}\n"
	"svg .at{text-anchor:middle}\n"
	"svg .grid{stroke:#ddd;stroke-width:1}svg .axis,svg .tick{stroke:#333;stroke-width:1}\n"
	"dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:6px 0}\n"
	"dl.kv dt{font-weight:bold}dl.kv dd{margin:0;overflow-wrap:anywhere}\n"
	".legend{font-size:12px;color:#333;border-left:3px solid #999;padding-left:8px}\n"
	"footer{margin-top:30px;border-top:2px solid #555;padding-top:6px;font-size:12px}\n"
	"@page{size:A4 landscape;margin:12mm}\n"
	"@media print{body{margin:0;font-size:10pt;max-width:none}"
	"thead{display:table-header-group}tr,.verdict,figure{break-inside:avoid}"
	"h2,h3{break-after:avoid}table{font-size:8.5pt}.h,.mono{font-size:8pt}"
	".verdict{break-after:avoid}}\n";

#endif
