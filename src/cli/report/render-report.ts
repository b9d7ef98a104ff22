/**
 * One self-contained HTML file: inline CSS, the data as embedded JSON, and an inline script
 * that draws the charts as SVG. No external URL, so the report opens anywhere, offline.
 */
import type { ReportData, ReportTable } from './report-data.js';
import { REPORT_SCRIPT } from './report-script.js';
import { REPORT_CSS } from './report-style.js';

const ESC: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** JSON safe inside <script>: no `</script>` or `<!--` can appear, since every `<` is escaped. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function table(t: ReportTable): string {
  if (t.rows.length === 0) return '<p class="empty">No rows.</p>';
  const head = `<tr>${t.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const rows = t.rows.map((r) => `<tr>${r.map((c) => (typeof c === 'number' ? `<td class="num">${c}</td>` : `<td>${escapeHtml(c)}</td>`)).join('')}</tr>`);
  return `<table>${head}${rows.join('')}</table>`;
}

const chart = (kind: string, label: string, extra = ''): string => `<svg class="chart" data-chart="${kind}" ${extra} role="img" aria-label="${escapeHtml(label)}"></svg>`;
const COLORS = ['#2f6fdf', '#e0892b', '#3a9a5b', '#9b4fc8', '#c9473b', '#2a9fa8', '#7a6a3c', '#d14f93'];

/** Renders the report; the result is a complete HTML document. */
export function renderReport(data: ReportData): string {
  const summary = data.summary.map((s) => `<div>${escapeHtml(s.label)}<b>${escapeHtml(s.value)}</b></div>`).join('');
  const legend = data.throughput.map((s, i) => `<span><i style="background:${COLORS[i % COLORS.length]}"></i>${escapeHtml(s.name)}</span>`).join('');
  const rss = data.rssChannels.map((c, i) => `<div><h3>${escapeHtml(c.nic)}</h3>${chart('rss', `frames per RSS channel on ${c.nic}`, `data-index="${i}"`)}</div>`).join('');
  const events = data.events.map((e) => `<li>${(e.atMs / 1000).toFixed(3)} s: ${escapeHtml(e.label)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title><style>${REPORT_CSS}</style></head>
<body>
<h1>${escapeHtml(data.title)}</h1><p class="when">${escapeHtml(data.generatedAt)}</p>
<noscript><p>The charts are drawn by the page's script; the tables below need none.</p></noscript>
<section class="summary">${summary}</section>
<h2>Throughput</h2><div class="legend">${legend}</div>${chart('throughput', 'throughput over time with events')}
${events ? `<ul class="events">${events}</ul>` : ''}
<h2>Frames per RSS channel</h2>${rss ? `<div class="grid">${rss}</div>` : '<p class="empty">No RSS data.</p>'}
<h2>Offload use</h2>${chart('offloads', 'offload counters per NIC')}
<h2>Drops by reason</h2>${Object.keys(data.drops).length ? chart('drops', 'drops by reason') : '<p class="empty">No drops.</p>'}
<h2>Negotiated versions</h2>${table(data.versions)}
<h2>Per-queue counters</h2>${table(data.queues)}
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${REPORT_SCRIPT}</script>
</body></html>
`;
}
