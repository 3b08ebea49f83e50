/**
 * Workflow-task latencies from the SDK's own Prometheus exporter (Core's metrics), scraped from
 * each worker process before and after the measured window. The difference of two cumulative
 * histograms is the window's own histogram, whatever happened during start-up.
 */

export const WFT_SCHEDULE_TO_START = 'workflow_task_schedule_to_start_latency';
export const WFT_EXECUTION = 'workflow_task_execution_latency';

/**
 * Finer edges than Core's defaults for the two histograms the bench reads: the goals are about
 * 1 s, and a percentile can only be read between edges. Keys apply whatever the metric prefix.
 */
const EDGES_MS = [
  1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000,
  20_000, 60_000,
];
export const SDK_HISTOGRAM_BUCKETS_MS: Record<string, number[]> = {
  [WFT_SCHEDULE_TO_START]: EDGES_MS,
  [WFT_EXECUTION]: EDGES_MS,
};

/** Cumulative counts by upper edge (Infinity for +Inf), summed over every label set. */
export type Histogram = Map<number, number>;

export interface Scrape {
  /** The exporter's text, kept for the log directory. */
  text: string;
  histograms: Map<string, Histogram>;
  /** Gauges and counters, summed over label sets, by full metric name. */
  values: Map<string, number>;
  /** Every sample but histogram buckets, with its raw label text. */
  samples: { name: string; labels: string; value: number }[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;

/** Parses the Prometheus text format, enough for Core's exporter: no escapes inside `le`. */
export function parsePrometheusText(text: string): Scrape {
  const histograms = new Map<string, Histogram>();
  const values = new Map<string, number>();
  const samples: Scrape['samples'] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const [, name = '', labels = '', raw = ''] = match;
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    if (name.endsWith('_bucket')) {
      const le = /(?:^|,)le="([^"]+)"/.exec(labels)?.[1];
      if (le === undefined) continue;
      const base = name.slice(0, -'_bucket'.length);
      const edge = le === '+Inf' ? Infinity : Number(le);
      const histogram = histograms.get(base) ?? new Map<number, number>();
      histogram.set(edge, (histogram.get(edge) ?? 0) + value);
      histograms.set(base, histogram);
    } else {
      values.set(name, (values.get(name) ?? 0) + value);
      samples.push({ name, labels, value });
    }
  }
  return { text, histograms, values, samples };
}

export async function scrape(metricsUrl: string): Promise<Scrape> {
  const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${metricsUrl}: HTTP ${response.status}`);
  return parsePrometheusText(await response.text());
}

/**
 * The histogram named `short` (with or without Core's prefix and unit suffix), summed over every
 * scrape given: several workers' histograms add up.
 */
export function findHistogram(scrapes: Scrape[], short: string): Histogram {
  const total: Histogram = new Map();
  for (const { histograms } of scrapes) {
    for (const [name, histogram] of histograms) {
      if (!new RegExp(`(^|_)${short}(_milliseconds|_seconds)?$`).test(name)) continue;
      for (const [edge, count] of histogram) total.set(edge, (total.get(edge) ?? 0) + count);
    }
  }
  return total;
}

/** A counter or gauge named `short` (with or without Core's prefix and `_total`), summed over scrapes. */
export function findValue(scrapes: Scrape[], short: string): number {
  let total = 0;
  for (const { values } of scrapes) {
    for (const [name, value] of values) {
      if (new RegExp(`(^|_)${short}(_total)?$`).test(name)) total += value;
    }
  }
  return total;
}

/**
 * Mean of a histogram's observations between two scrapes, over the label sets whose label text
 * contains `label` (e.g. operation="RespondWorkflowTaskCompleted"); null without observations.
 */
export function meanBetween(before: Scrape[], after: Scrape[], short: string, label: string): number | null {
  const total = (scrapes: Scrape[], suffix: string) =>
    scrapes
      .flatMap((sc) => sc.samples)
      .filter((x) => new RegExp(`(^|_)${short}(_milliseconds|_seconds)?_${suffix}$`).test(x.name))
      .filter((x) => x.labels.includes(label))
      .reduce((a, x) => a + x.value, 0);
  const count = total(after, 'count') - total(before, 'count');
  return count > 0 ? (total(after, 'sum') - total(before, 'sum')) / count : null;
}

export function subtract(after: Histogram, before: Histogram): Histogram {
  const diff: Histogram = new Map();
  for (const [edge, count] of after) diff.set(edge, count - (before.get(edge) ?? 0));
  return diff;
}

export function histogramCount(histogram: Histogram): number {
  return histogram.get(Infinity) ?? 0;
}

/**
 * The q-quantile (0..1) as PromQL's histogram_quantile reads it: linear within the bucket the rank
 * falls in. In the +Inf bucket it is the last finite edge, a lower bound (`open` says so).
 * Null without observations.
 */
export function histogramQuantile(histogram: Histogram, q: number): { ms: number; open: boolean } | null {
  const edges = [...histogram.keys()].sort((a, b) => a - b);
  const total = histogramCount(histogram);
  if (total <= 0) return null;
  const rank = q * total;
  let lowerEdge = 0;
  let lowerCount = 0;
  for (const edge of edges) {
    const count = histogram.get(edge) ?? 0;
    if (count >= rank) {
      if (edge === Infinity) return { ms: lowerEdge, open: true };
      const inBucket = count - lowerCount;
      const fraction = inBucket > 0 ? (rank - lowerCount) / inBucket : 1;
      return { ms: lowerEdge + (edge - lowerEdge) * fraction, open: false };
    }
    lowerEdge = edge;
    lowerCount = count;
  }
  return { ms: lowerEdge, open: true };
}
