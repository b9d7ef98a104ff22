// cli/report: the self-contained HTML report of a run (charts drawn by inline script, no
// external resources). The demo fills a ReportData and writes renderReport(data) to a file.
export type { ChannelFrames, OffloadUse, ReportData, ReportEvent, ReportEventKind, ReportTable, ThroughputSeries } from './report-data.js';
export { renderReport } from './render-report.js';
