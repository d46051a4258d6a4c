/**
 * Reads CloudWatch Embedded Metric Format lines (what Powertools Metrics prints) out of captured
 * stdout: which distinct metrics — name plus dimension values — a run emitted. CloudWatch bills
 * each such metric as one custom metric, prorated by the hours it is emitted in.
 */

interface EmfLine {
  _aws?: { CloudWatchMetrics?: { Namespace?: string; Dimensions?: string[][]; Metrics?: { Name?: string }[] }[] };
  [key: string]: unknown;
}

/** "Namespace/Metric{dim=value,…}" for every metric of every EMF line, each once, sorted. */
export function emfMetricKeys(lines: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const line of lines) {
    if (!line.includes('"_aws"')) continue;
    let parsed: EmfLine;
    try {
      parsed = JSON.parse(line) as EmfLine;
    } catch {
      continue;
    }
    for (const directive of parsed._aws?.CloudWatchMetrics ?? []) {
      for (const dimensionSet of directive.Dimensions ?? [[]]) {
        const dims = dimensionSet.map((d) => `${d}=${String(parsed[d])}`).join(',');
        for (const metric of directive.Metrics ?? [])
          keys.add(`${directive.Namespace ?? ''}/${metric.Name ?? ''}{${dims}}`);
      }
    }
  }
  return [...keys].sort();
}
