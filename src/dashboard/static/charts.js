/**
 * The rollout's three charts, sharing one x axis (seconds since the rollout started): error rate
 * and p99 latency per version, and the canary's weight. Stage boundaries are dashed lines.
 */
/* global Chart */
import { el } from './dom.js';
import { clock } from './format.js';

const COLORS = {
  stable: '#2563eb',
  canary: '#ea580c',
  weight: '#7c3aed',
  boundary: '#6b7280',
  fail: '#dc2626',
  inconclusive: '#ca8a04',
};

/** Draws each boundary of options.plugins.stageBoundaries.boundaries as a labelled vertical line. */
const stageBoundaries = {
  id: 'stageBoundaries',
  afterDatasetsDraw(chart, _args, options) {
    const { ctx, chartArea, scales } = chart;
    ctx.save();
    ctx.strokeStyle = COLORS.boundary;
    ctx.fillStyle = COLORS.boundary;
    ctx.setLineDash([4, 4]);
    ctx.font = '11px system-ui, sans-serif';
    for (const boundary of options.boundaries || []) {
      const x = scales.x.getPixelForValue(boundary.x);
      if (x < chartArea.left - 1 || x > chartArea.right + 1) continue;
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      ctx.fillText(boundary.label, x + 3, chartArea.top + 10);
    }
    ctx.restore();
  },
};

function options(title, yTitle, yMax) {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    scales: {
      x: {
        type: 'linear',
        min: 0,
        title: { display: true, text: 'time since start' },
        // Whole seconds: the labels show no fractions, so finer ticks would repeat a label.
        ticks: { precision: 0, callback: (value) => clock(value) },
      },
      y: { beginAtZero: true, max: yMax, title: { display: true, text: yTitle } },
    },
    plugins: {
      title: { display: true, text: title },
      legend: { position: 'bottom' },
      tooltip: { callbacks: { title: (items) => (items[0] ? `+${clock(items[0].parsed.x)}` : '') } },
      stageBoundaries: { boundaries: [] },
    },
  };
}

const versionLine = (key, label) => ({
  key,
  label,
  data: [],
  borderColor: COLORS[key],
  backgroundColor: COLORS[key],
  pointRadius: 2,
  borderWidth: 2,
  spanGaps: false,
});

/** Canary points take the colour of their poll's verdict, so a failing poll stands out. */
const resultColor = (result) => COLORS[result] || COLORS.canary;

function makeChart(id, title, yTitle, datasets, yMax) {
  const canvas = el('canvas', { id, role: 'img', 'aria-label': title });
  const holder = el('div', { class: 'chart' }, canvas);
  const chart = new Chart(canvas, {
    type: 'line',
    data: { datasets },
    options: options(title, yTitle, yMax),
    plugins: [stageBoundaries],
  });
  return { holder, chart };
}

export function createCharts(versions) {
  const errorRate = makeChart(
    'chart-error-rate',
    'Error rate (cumulative within each window)',
    '% of requests',
    [versionLine('stable', `stable ${versions.stable}`), versionLine('canary', `canary ${versions.canary}`)],
  );
  const p99 = makeChart('chart-p99', 'p99 latency', 'ms', [
    versionLine('stable', `stable ${versions.stable}`),
    versionLine('canary', `canary ${versions.canary}`),
  ]);
  const weight = makeChart(
    'chart-weight',
    'Canary weight',
    '% of traffic',
    [{ ...versionLine('weight', `canary ${versions.canary}`), stepped: 'before', pointRadius: 0 }],
    100,
  );
  const all = [errorRate, p99, weight];
  const noSeries = el(
    'p',
    { class: 'muted', hidden: true },
    'This run predates the per-poll series: only the weight can be drawn.',
  );

  return {
    element: el(
      'section',
      { class: 'charts', 'aria-label': 'charts' },
      noSeries,
      all.map((c) => c.holder),
    ),
    update(plots) {
      noSeries.hidden = plots.hasSeries;
      const pointColors = plots.results.map(resultColor);
      for (const [chart, lines] of [
        [errorRate.chart, plots.errorRatePct],
        [p99.chart, plots.p99Ms],
      ]) {
        chart.data.datasets[0].data = lines.stable;
        chart.data.datasets[1].data = lines.canary;
        chart.data.datasets[1].pointBackgroundColor = pointColors;
        chart.data.datasets[1].pointBorderColor = pointColors;
      }
      weight.chart.data.datasets[0].data = plots.canaryWeight;
      for (const { chart } of all) {
        chart.options.scales.x.max = Math.max(plots.xMax, 1);
        chart.options.plugins.stageBoundaries.boundaries = plots.boundaries;
        chart.update('none');
      }
    },
  };
}
