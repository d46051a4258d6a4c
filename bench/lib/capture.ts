/**
 * Captures what the process writes to stdout and stderr while a measured phase runs: the
 * handler's Powertools logs (INFO/DEBUG on stdout, WARN/ERROR on stderr) and EMF metrics go
 * there, and in Lambda both reach CloudWatch Logs. The bench keeps them off the terminal, counts
 * their bytes (CloudWatch Logs bills ingestion by the byte) and can scan every line. Works
 * because Node's Console looks up `stream.write` at each line.
 */

export interface OutputCapture {
  /** Lines captured so far, both streams, in order (each without its trailing newline). */
  readonly lines: string[];
  /** Bytes captured so far (UTF-8). */
  bytes(): number;
  /** Stop capturing; later output goes to the terminal again. Idempotent. */
  stop(): void;
}

let active: OutputCapture | undefined;

export function captureOutput(): OutputCapture {
  if (active) throw new Error('output is already being captured');
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((s) => s.write);
  const lines: string[] = [];
  const pending = ['', ''];
  let bytes = 0;
  streams.forEach((stream, i) => {
    const write = (chunk: unknown, encodingOrCallback?: unknown, callback?: unknown): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
      bytes += Buffer.byteLength(text);
      const parts = (pending[i] + text).split('\n');
      pending[i] = parts.pop() ?? '';
      lines.push(...parts);
      const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    };
    stream.write = write as typeof stream.write;
  });
  const capture: OutputCapture = {
    lines,
    bytes: () => bytes,
    stop() {
      if (active !== capture) return;
      for (const rest of pending) if (rest !== '') lines.push(rest);
      streams.forEach((stream, i) => {
        stream.write = originals[i]!;
      });
      active = undefined;
    },
  };
  active = capture;
  return capture;
}

/** Run `work` with the output captured; the capture is stopped whatever happens. */
export async function withCapturedOutput<T>(
  work: (capture: OutputCapture) => Promise<T>,
): Promise<{ result: T; capture: OutputCapture }> {
  const capture = captureOutput();
  try {
    return { result: await work(capture), capture };
  } finally {
    capture.stop();
  }
}
