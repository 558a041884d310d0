/** One measured figure, printed as one JSON line so runs can be compared with a diff or jq. */
export interface Figure {
  bench: string;
  figure: string;
  value: number;
  unit: string;
  /** The target, in words a reader can check against value (e.g. "<= 60"), or null if none. */
  goal: string | null;
}

export interface Benchmark {
  name: string;
  description: string;
  run: (report: (figure: Omit<Figure, 'bench'>) => void) => Promise<void>;
}
