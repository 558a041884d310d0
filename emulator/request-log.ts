/** One line of the emulator's request log, which tests and benchmarks read. */
export interface LoggedRequest {
  seq: number;
  at: string;
  /** Milliseconds since the emulator started, for Retry-After checks. */
  t: number;
  host: 'login' | 'graph' | 'control';
  method: string;
  path: string;
  status: number;
  tenantId?: string;
  resourceUnits?: number;
  retryAfterSeconds?: number;
  /** Set on $batch items: the id of the outer request. */
  batchOf?: number;
  durationMs: number;
}

export class RequestLog {
  private readonly entries: LoggedRequest[] = [];
  private seq = 0;
  private readonly started = Date.now();

  constructor(private readonly capacity = 200_000) {}

  add(entry: Omit<LoggedRequest, 'seq' | 'at' | 't'>): number {
    const seq = ++this.seq;
    this.entries.push({ seq, at: new Date().toISOString(), t: Date.now() - this.started, ...entry });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return seq;
  }

  since(seq = 0): LoggedRequest[] {
    return this.entries.filter((entry) => entry.seq > seq);
  }

  get lastSeq(): number {
    return this.seq;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
