// report.html's charts: the dashboard's own chart module (./charts.ts, ./chartSpecs.ts) drawn
// from the snapshot embedded in the report, so the report and the webview never disagree.
// Bundled once for the browser by esbuild and inlined into the report (src/engine/outputs/report/chartSource.ts),
// which stays a single file that opens offline.
import { Chart } from 'chart.js';
import type { RunSnapshot } from '../src/protocol/snapshot';
import { ChartBoard } from './charts';
import { SearchChart } from './searchView';

const data = document.getElementById('report-data')?.textContent;
const container = document.getElementById('charts');
const snapshot = data ? (JSON.parse(data) as RunSnapshot) : undefined;
if (snapshot && container) new ChartBoard(container).render(snapshot);
const searchContainer = document.getElementById('search-charts');
if (snapshot?.search && searchContainer) new SearchChart(searchContainer).update(snapshot.search);
// Lets readers (and tests) reach the chart instances from the page, as with chart.js's UMD build.
(window as unknown as { Chart: typeof Chart }).Chart = Chart;
