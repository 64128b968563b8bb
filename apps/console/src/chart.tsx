import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface Bucket {
  label: string;
  /** Bucket start, seconds since the epoch. */
  at: number;
  delivered: number;
  failed: number;
  expired: number;
  deliveryRate: number | null;
}

const COLOURS = { delivered: '#1a7f37', failed: '#cf222e', expired: '#9a6700', rate: '#0550ae' };

/**
 * Delivered, failed and expired per bucket as stacked bars, with the delivery rate as a line on
 * its own 0-100 % axis. uPlot has no stacking of its own: each bar is drawn from zero to its
 * running sum, largest first, so the smaller ones paint over it; the legend shows the raw counts.
 */
export function DeliveryChart({ buckets, unit }: { buckets: Bucket[]; unit: 'hour' | 'day' }) {
  const host = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const x = buckets.map((b) => b.at);
    const delivered = buckets.map((b) => b.delivered);
    const failed = buckets.map((b) => b.failed);
    const expired = buckets.map((b) => b.expired);
    const stackFailed = buckets.map((b) => b.delivered + b.failed);
    const stackAll = buckets.map((b) => b.delivered + b.failed + b.expired);
    const rate = buckets.map((b) => (b.deliveryRate === null ? null : b.deliveryRate * 100));
    const raw = [delivered, failed, expired];
    const bars = uPlot.paths.bars!({ size: [0.8, 48] });
    const countOf =
      (series: number) => (_u: uPlot, _v: number | null, _s: number, i: number | null) =>
        i === null ? '—' : String(raw[series][i]);

    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 320),
        height: 280,
        scales: { x: { time: true }, rate: { range: [0, 100] } },
        axes: [
          { values: unit === 'hour' ? '{HH}:{mm}' : '{YYYY}-{MM}-{DD}' },
          { label: 'messages', size: 56 },
          { scale: 'rate', side: 1, label: 'delivery rate %', grid: { show: false }, size: 56 },
        ],
        series: [
          { label: unit === 'hour' ? 'Hour (UTC)' : 'Day (UTC)' },
          {
            label: 'Expired',
            fill: COLOURS.expired,
            stroke: COLOURS.expired,
            paths: bars,
            points: { show: false },
            value: countOf(2),
          },
          {
            label: 'Failed',
            fill: COLOURS.failed,
            stroke: COLOURS.failed,
            paths: bars,
            points: { show: false },
            value: countOf(1),
          },
          {
            label: 'Delivered',
            fill: COLOURS.delivered,
            stroke: COLOURS.delivered,
            paths: bars,
            points: { show: false },
            value: countOf(0),
          },
          {
            label: 'Delivery rate',
            scale: 'rate',
            stroke: COLOURS.rate,
            width: 2,
            spanGaps: true,
            value: (_u, v) => (v === null ? '—' : `${v.toFixed(1)} %`),
          },
        ],
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      },
      [x, stackAll, stackFailed, delivered, rate],
      el,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(el.clientWidth, 320), height: 280 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [buckets, unit]);

  return (
    <div
      ref={host}
      class="chart"
      role="img"
      aria-label="Messages per bucket: delivered, failed and expired stacked, with the delivery rate line. The same figures are in the table below."
    />
  );
}
