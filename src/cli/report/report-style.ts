/** The report's inline CSS: readable on screen and in print, no external fonts. */
export const REPORT_CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1100px; color: #1d2330; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #dde1e8; padding-bottom: 4px; }
.when { color: #687085; margin-top: 0; }
.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 8px; }
.summary div { background: #f3f5f9; border-radius: 6px; padding: 8px 10px; } .summary b { display: block; font-size: 18px; }
svg.chart { width: 100%; height: auto; background: #fbfcfe; border: 1px solid #e3e7ee; border-radius: 6px; }
svg.chart text { font-size: 11px; fill: #4a5266; } svg.chart .hbar-label, svg.chart .hbar-value { font-size: 15px; } svg.chart .axis { stroke: #9aa3b5; }
svg.chart .event { stroke: #d0453a; stroke-dasharray: 4 3; } svg.chart .event-label { fill: #b0362c; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 12px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; } td, th { padding: 3px 10px; border-bottom: 1px solid #e6e9ef; text-align: left; }
td.num { text-align: right; } .legend span { margin-right: 14px; } .legend i { display: inline-block; width: 12px; height: 3px; margin-right: 4px; vertical-align: middle; }
.empty { color: #687085; font-style: italic; }
`;
