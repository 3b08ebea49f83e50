import type { Page } from 'playwright-core';

export interface ChartLine {
  key: string;
  label: string;
  data: { x: number; y: number | null }[];
}

/** What the page's Chart.js global offers, as far as the tests read it. */
interface ChartGlobal {
  Chart: {
    getChart(
      id: string,
    ): { data: { datasets: ChartLine[] }; options: { plugins: Record<string, unknown> } } | undefined;
  };
}

/** The lines a chart on the page draws right now, read from Chart.js itself. */
export function chartLines(page: Page, canvasId: string): Promise<ChartLine[]> {
  return page.evaluate((id) => {
    const chart = (globalThis as unknown as ChartGlobal).Chart.getChart(id);
    if (!chart) throw new Error(`no chart on canvas #${id}`);
    return chart.data.datasets.map((d) => ({ key: d.key, label: d.label, data: d.data }));
  }, canvasId);
}

/** The stage boundaries a chart marks. */
export function chartBoundaries(page: Page, canvasId: string): Promise<{ x: number; label: string }[]> {
  return page.evaluate((id) => {
    const chart = (globalThis as unknown as ChartGlobal).Chart.getChart(id);
    const plugin = chart?.options.plugins.stageBoundaries as
      { boundaries: { x: number; label: string }[] } | undefined;
    return plugin?.boundaries ?? [];
  }, canvasId);
}

/** The last plotted value of one line (stable or canary), or undefined while it has none. */
export function lastValue(lines: ChartLine[], key: string): number | undefined {
  const points = lines.find((line) => line.key === key)?.data ?? [];
  for (let i = points.length - 1; i >= 0; i--) {
    const y = points[i]!.y;
    if (y !== null) return y;
  }
  return undefined;
}
