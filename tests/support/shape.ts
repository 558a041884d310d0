import { expect } from 'vitest';

/**
 * `actual` has the shape of `expected` (one of Microsoft's example responses): every key of the
 * example is present with a value of the same type; arrays are compared by their first element;
 * null matches anything (examples and real answers both use it for "no value").
 */
export function expectShape(actual: unknown, expected: unknown, where = '$'): void {
  if (expected === null || actual === null) return;
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${where} should be an array`).toBe(true);
    if (expected.length > 0 && (actual as unknown[]).length > 0) expectShape((actual as unknown[])[0], expected[0], `${where}[0]`);
    return;
  }
  if (typeof expected === 'object') {
    expect(typeof actual, `${where} should be an object`).toBe('object');
    for (const key of Object.keys(expected)) {
      expect(actual as object, `${where} should have ${key}`).toHaveProperty([key]);
      expectShape((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${where}.${key}`);
    }
    return;
  }
  expect(typeof actual, `${where} type`).toBe(typeof expected);
}
