import { Eta } from 'eta';
import { paths } from './paths.js';
import { TRIGGERS } from './services/history.js';

export type Views = ReturnType<typeof createViews>;

/** Numbers as people read them: "2,510". */
export const formatNumber = (value: number | string | bigint) => Number(value).toLocaleString('en-US');

/** "1 group", "2,510 groups"; the plural given when it is not just an s. */
export const count = (value: number | string | bigint, one: string, many = `${one}s`) => `${formatNumber(value)} ${Number(value) === 1 ? one : many}`;

/** Eta with auto-escaping on: anything from Entra or a form is shown as text, never as markup. */
export function createViews(dir: string) {
  const eta = new Eta({ views: dir, autoEscape: true, cache: process.env.NODE_ENV !== 'development' });
  return {
    render(template: string, data: Record<string, unknown> = {}): string {
      // Every template gets the same formatting helpers and the app's paths.
      return eta.render(template, { formatNumber, count, paths, triggers: TRIGGERS, ...data });
    },
  };
}
