/**
 * The part of OData `$filter` that Graph supports on directory objects and that clients of
 * groups and users use: eq, ne, in, startswith, endswith, groupTypes/any(…), not, and, or.
 * `ne`, `not` and `endswith` are "advanced queries": Graph refuses them without
 * `ConsistencyLevel: eventual` and `$count=true`; the parser reports whether one was used.
 */
export type Filter =
  | { op: 'and' | 'or'; left: Filter; right: Filter }
  | { op: 'not'; operand: Filter }
  | { op: 'eq' | 'ne'; property: string; value: Literal }
  | { op: 'in'; property: string; values: Literal[] }
  | { op: 'startswith' | 'endswith'; property: string; value: string }
  | { op: 'any'; property: string; value: Literal };

type Literal = string | number | boolean | null;

export class FilterError extends Error {
  constructor(
    message: string,
    public readonly property?: string,
  ) {
    super(message);
  }
}

export interface ParsedFilter {
  filter: Filter;
  advanced: boolean;
  properties: Set<string>;
}

export function parseFilter(text: string): ParsedFilter {
  const tokens = tokenize(text);
  let position = 0;
  let advanced = false;
  const properties = new Set<string>();
  const peek = () => tokens[position];
  const next = () => {
    const token = tokens[position++];
    if (token === undefined) throw new FilterError('Invalid filter clause: unexpected end');
    return token;
  };
  const expect = (value: string) => {
    const token = next();
    if (token.value.toLowerCase() !== value) throw new FilterError(`Invalid filter clause: expected '${value}' near '${token.value}'`);
  };
  const literal = (): Literal => {
    const token = next();
    if (token.kind === 'string') return token.value;
    if (token.kind === 'number') return Number(token.value);
    const word = token.value.toLowerCase();
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    throw new FilterError(`Invalid filter clause: '${token.value}' is not a literal`);
  };
  const property = (): string => {
    const token = next();
    if (token.kind !== 'word') throw new FilterError(`Invalid filter clause: expected a property near '${token.value}'`);
    properties.add(token.value.split('/')[0]!);
    return token.value;
  };

  const primary = (): Filter => {
    const token = peek();
    if (token === undefined) throw new FilterError('Invalid filter clause: unexpected end');
    if (token.value === '(') {
      next();
      const inner = orExpression();
      expect(')');
      return inner;
    }
    const word = token.value.toLowerCase();
    if (word === 'not') {
      next();
      advanced = true;
      return { op: 'not', operand: primary() };
    }
    if ((word === 'startswith' || word === 'endswith') && tokens[position + 1]?.value === '(') {
      next();
      expect('(');
      const name = property();
      expect(',');
      const value = literal();
      expect(')');
      if (typeof value !== 'string') throw new FilterError(`Invalid filter clause: ${word} needs a string`);
      if (word === 'endswith') advanced = true;
      return { op: word, property: name, value };
    }
    const name = property();
    if (name.toLowerCase().endsWith('/any')) {
      expect('(');
      const variable = next().value;
      expect(':');
      if (next().value !== variable) throw new FilterError('Invalid filter clause: lambda variable mismatch');
      expect('eq');
      const value = literal();
      expect(')');
      return { op: 'any', property: name.slice(0, -'/any'.length), value };
    }
    const operator = next().value.toLowerCase();
    if (operator === 'eq' || operator === 'ne') {
      if (operator === 'ne') advanced = true;
      return { op: operator, property: name, value: literal() };
    }
    if (operator === 'in') {
      expect('(');
      const values = [literal()];
      while (peek()?.value === ',') {
        next();
        values.push(literal());
      }
      expect(')');
      return { op: 'in', property: name, values };
    }
    throw new FilterError(`Invalid filter clause: unsupported operator '${operator}'`, name);
  };
  const andExpression = (): Filter => {
    let left = primary();
    while (peek()?.value.toLowerCase() === 'and') {
      next();
      left = { op: 'and', left, right: primary() };
    }
    return left;
  };
  const orExpression = (): Filter => {
    let left = andExpression();
    while (peek()?.value.toLowerCase() === 'or') {
      next();
      left = { op: 'or', left, right: andExpression() };
    }
    return left;
  };

  const filter = orExpression();
  if (position < tokens.length) throw new FilterError(`Invalid filter clause: unexpected '${tokens[position]!.value}'`);
  return { filter, advanced, properties };
}

/** Evaluates a filter against an object of Graph properties; text compares case-insensitively. */
export function matches(filter: Filter, record: Record<string, unknown>): boolean {
  switch (filter.op) {
    case 'and':
      return matches(filter.left, record) && matches(filter.right, record);
    case 'or':
      return matches(filter.left, record) || matches(filter.right, record);
    case 'not':
      return !matches(filter.operand, record);
    case 'eq':
      return same(record[filter.property], filter.value);
    case 'ne':
      return !same(record[filter.property], filter.value);
    case 'in':
      return filter.values.some((value) => same(record[filter.property], value));
    case 'startswith':
    case 'endswith': {
      const value = record[filter.property];
      if (typeof value !== 'string') return false;
      const [haystack, needle] = [value.toLowerCase(), filter.value.toLowerCase()];
      return filter.op === 'startswith' ? haystack.startsWith(needle) : haystack.endsWith(needle);
    }
    case 'any': {
      const list = record[filter.property];
      return Array.isArray(list) && list.some((item) => same(item, filter.value));
    }
  }
}

function same(actual: unknown, expected: Literal): boolean {
  if (typeof actual === 'string' && typeof expected === 'string') return actual.toLowerCase() === expected.toLowerCase();
  return actual === expected;
}

interface Token {
  kind: 'word' | 'string' | 'number' | 'punct';
  value: string;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (/\s/.test(char)) {
      i++;
    } else if ('(),:'.includes(char)) {
      tokens.push({ kind: 'punct', value: char });
      i++;
    } else if (char === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new FilterError('Invalid filter clause: unterminated string');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ kind: 'string', value });
    } else {
      const match = /^[A-Za-z0-9_./@#$-]+/.exec(text.slice(i));
      if (!match) throw new FilterError(`Invalid filter clause: unexpected '${char}'`);
      tokens.push({ kind: /^-?\d+(\.\d+)?$/.test(match[0]) ? 'number' : 'word', value: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
}
