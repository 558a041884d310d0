import { Eta } from 'eta';

export type Views = ReturnType<typeof createViews>;

/** Eta with auto-escaping on: anything from Entra or a form is shown as text, never as markup. */
export function createViews(dir: string) {
  const eta = new Eta({ views: dir, autoEscape: true, cache: process.env.NODE_ENV !== 'development' });
  return {
    render(template: string, data: Record<string, unknown> = {}): string {
      return eta.render(template, data);
    },
  };
}
