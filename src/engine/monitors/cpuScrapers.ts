// CPU of the parts of a deployment around coderd, for the reference figures: an external
// provisioner daemon (its own Prometheus endpoint, `process_cpu_seconds_total`) and the
// database host (a node_exporter, `node_cpu_seconds_total`). Rates between two scrapes.
import { fetchText, parsePrometheusText, sumOf, type PromSample } from './promText';

interface CpuReading {
  at: number;
  samples: PromSample[];
}

abstract class RateScraper<Figures> {
  private previous?: CpuReading;

  constructor(private readonly url: string) {}

  protected abstract figures(now: CpuReading, before: CpuReading | undefined): Figures;

  async scrape(): Promise<Figures & { scrapedAt: number; scrapeError?: string }> {
    let text: string;
    try {
      text = await fetchText(this.url, 3000);
    } catch (error) {
      return { scrapedAt: Date.now(), scrapeError: `cannot scrape ${this.url}: ${(error as Error).message}` } as Figures & {
        scrapedAt: number;
        scrapeError: string;
      };
    }
    const now = { at: Date.now(), samples: parsePrometheusText(text) };
    const before = this.previous;
    this.previous = now;
    return { ...this.figures(now, before), scrapedAt: now.at };
  }
}

/** An external provisioner daemon's CPU in cores (`coder provisioner start` with `CODER_PROMETHEUS_ENABLE=true`). */
export class ProcessCpuScraper extends RateScraper<{ cpuCores?: number }> {
  protected figures(now: CpuReading, before: CpuReading | undefined): { cpuCores?: number } {
    const cpu = sumOf(now.samples, 'process_cpu_seconds_total');
    const previous = before && sumOf(before.samples, 'process_cpu_seconds_total');
    const seconds = before ? (now.at - before.at) / 1000 : 0;
    if (cpu === undefined || previous === undefined || seconds <= 0 || cpu < previous) return {};
    return { cpuCores: (cpu - previous) / seconds };
  }
}

const cpuTimes = (samples: PromSample[]) => {
  let total = 0;
  let idle = 0;
  let seen = false;
  for (const sample of samples) {
    if (sample.name !== 'node_cpu_seconds_total') continue;
    seen = true;
    total += sample.value;
    if (sample.labels.mode === 'idle') idle += sample.value;
  }
  return seen ? { total, idle } : undefined;
};

/** A host's CPU utilisation in percent of all its CPUs, from a node_exporter. */
export class NodeCpuScraper extends RateScraper<{ cpuPercent?: number }> {
  protected figures(now: CpuReading, before: CpuReading | undefined): { cpuPercent?: number } {
    const current = cpuTimes(now.samples);
    const previous = before && cpuTimes(before.samples);
    if (!current || !previous) return {};
    const total = current.total - previous.total;
    if (total <= 0) return {};
    return { cpuPercent: Math.min(100, Math.max(0, 100 * (1 - (current.idle - previous.idle) / total))) };
  }
}
