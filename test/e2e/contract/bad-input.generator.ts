/**
 * Generates invalid requests from the app's own OpenAPI document: every operation, every documented
 * parameter and body field, each broken one way while the rest of the request stays valid. Only inputs
 * the document itself says are invalid are produced, so any answer other than a 4xx in the error
 * envelope is a real gap between the document and the code.
 */
export interface BadRequest {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface GeneratorContext {
  apiKey: string;
  /** Valid values for path parameters by name (an existing instance id, delivery id, ...). */
  pathValues: Record<string, string>;
  /** Valid bodies by request schema name, for operations whose body has required fields. */
  validBodies: Record<string, Record<string, unknown>>;
}

type Schema = Record<string, any>;
type Doc = { paths: Record<string, Record<string, any>>; components?: { schemas?: Record<string, Schema> } };
type Mutation = { label: string; value: unknown };

const METHODS = ['get', 'post', 'put', 'delete', 'patch'];

/** Strings tried, in order, when a valid or a pattern-breaking value is needed. */
const STRING_CANDIDATES = [
  'abc',
  'MODE',
  'nginx:latest',
  '/',
  'AS-SGP-02',
  'has space',
  'semi;colon',
  '../x',
  'é',
];

const HOSTILE_IDS = [
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  'a%00b',
  'a'.repeat(129),
  'a'.repeat(300),
  '%E0%A4%A',
  'has%20space',
  '%3Cscript%3E',
  '%24(id)',
  "'%3B%20DROP%20TABLE",
  '%C3%BCnicode',
  '%2e%2e',
  'a%2Fb',
];

function resolve(doc: Doc, schema: Schema | undefined): Schema {
  let s = schema ?? {};
  for (let i = 0; i < 10 && s.$ref; i++)
    s = doc.components?.schemas?.[String(s.$ref).split('/').pop()!] ?? {};
  if (s.allOf?.length === 1) return { ...resolve(doc, s.allOf[0]), ...s, allOf: undefined };
  return s;
}

function matches(schema: Schema, value: string): boolean {
  if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) return false;
  if (schema.minLength !== undefined && value.length < schema.minLength) return false;
  if (schema.maxLength !== undefined && value.length > schema.maxLength) return false;
  return true;
}

/** A value the schema accepts (for siblings of the field being broken). */
export function validValue(doc: Doc, raw: Schema): unknown {
  const s = resolve(doc, raw);
  if (s.oneOf) return validValue(doc, s.oneOf[0]);
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return STRING_CANDIDATES.find((c) => matches(s, c)) ?? 'abc';
  }
}

/** Values the schema refuses, each with a label saying why. */
export function invalidValues(doc: Doc, raw: Schema, required: boolean, inQuery = false): Mutation[] {
  const s = resolve(doc, raw);
  const out: Mutation[] = [];
  const types: string[] = s.oneOf ? s.oneOf.map((o: Schema) => resolve(doc, o).type) : [s.type ?? 'object'];
  const add = (label: string, value: unknown) => out.push({ label, value });

  if (inQuery) {
    // Query values are text: wrong types are texts that do not parse.
    if (types.includes('integer')) {
      add('not a number', 'abc');
      add('fraction', '1.5');
      add('repeated', ['1', '2']);
      if (s.minimum !== undefined) add('below minimum', String(s.minimum - 1));
      if (s.maximum !== undefined) add('above maximum', String(s.maximum + 1));
    } else if (types.includes('boolean')) add('not a boolean', 'maybe');
    else if (s.enum) add('not in enum', 'not-an-enum-value');
    if (types.includes('string') && !s.enum) {
      if (s.maxLength !== undefined) add('over maxLength', 'a'.repeat(s.maxLength + 1));
      add('control character', 'a\u0001b');
    }
    return out;
  }

  if (required) add('null', null);
  if (!types.includes('string')) add('string instead', 'text');
  if (!types.includes('integer') && !types.includes('number')) add('number instead', 12345);
  if (!types.includes('boolean')) add('boolean instead', true);
  if (!types.includes('array')) add('array instead', ['x']);
  if (!types.includes('object')) add('object instead', { nested: 1 });
  if (types.includes('integer')) {
    add('fraction', 1.5);
    if (!types.includes('string')) add('numeric string', '7');
    const intSchema = s.oneOf
      ? resolve(
          doc,
          s.oneOf.find((o: Schema) => resolve(doc, o).type === 'integer'),
        )
      : s;
    if (intSchema.minimum !== undefined) add('below minimum', intSchema.minimum - 1);
    if (intSchema.maximum !== undefined) add('above maximum', intSchema.maximum + 1);
    if (intSchema.not?.enum) add('reserved value', intSchema.not.enum[0]);
  }
  if (types.includes('boolean')) add('boolean as text', 'true');
  const strSchema = s.oneOf
    ? resolve(doc, s.oneOf.find((o: Schema) => resolve(doc, o).type === 'string') ?? {})
    : s;
  if (types.includes('string')) {
    if (s.enum) add('not in enum', 'not-an-enum-value');
    if (strSchema.maxLength !== undefined) {
      add('over maxLength', 'a'.repeat(strSchema.maxLength + 1));
      add('oversized (100 kB)', 'a'.repeat(100_000));
    }
    if (strSchema.minLength && strSchema.minLength > 0) add('empty', '');
    if (strSchema.pattern) {
      const breaking = STRING_CANDIDATES.find((c) => !new RegExp(strSchema.pattern, 'u').test(c));
      if (breaking !== undefined) add('pattern violated', breaking);
    }
    add('control character', 'a\u0001b');
    add('NUL byte', 'a\u0000b');
  }
  if (types.includes('array')) {
    if (s.maxItems !== undefined) {
      const item = validValue(doc, s.items ?? {});
      add(
        'too many items',
        Array.from({ length: s.maxItems + 1 }, () => item),
      );
    }
    add('array of nulls', [null]);
  }
  return out;
}

/** Every way to break one field of an object body (recursing into nested objects and array items). */
function bodyMutations(
  doc: Doc,
  raw: Schema,
  base: Record<string, unknown>,
  prefix = '',
  depth = 0,
): Mutation[] {
  const s = resolve(doc, raw);
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set<string>(s.required ?? []);
  const out: Mutation[] = [];
  for (const req of required) {
    const { [req]: _dropped, ...rest } = base;
    out.push({ label: `${prefix}${req} missing`, value: rest });
  }
  out.push({ label: `${prefix}unknown field`, value: { ...base, notInTheSchema: 1 } });
  for (const [name, propRaw] of Object.entries(props)) {
    for (const m of invalidValues(doc, propRaw, required.has(name))) {
      out.push({ label: `${prefix}${name}: ${m.label}`, value: { ...base, [name]: m.value } });
    }
    if (depth >= 2) continue;
    const prop = resolve(doc, propRaw);
    if (prop.type === 'object' || prop.properties) {
      const child = (base[name] as Record<string, unknown>) ?? baseObject(doc, prop);
      for (const m of bodyMutations(doc, prop, child, `${prefix}${name}.`, depth + 1)) {
        out.push({ label: m.label, value: { ...base, [name]: m.value } });
      }
    }
    if (prop.type === 'array' && prop.items) {
      const item = resolve(doc, prop.items);
      if (item.properties) {
        for (const m of bodyMutations(doc, item, baseObject(doc, item), `${prefix}${name}[0].`, depth + 1)) {
          out.push({ label: m.label, value: { ...base, [name]: [m.value] } });
        }
      }
    }
  }
  return out;
}

/** The required fields of an object schema with valid values. */
function baseObject(doc: Doc, schema: Schema): Record<string, unknown> {
  const s = resolve(doc, schema);
  return Object.fromEntries((s.required ?? []).map((k: string) => [k, validValue(doc, s.properties[k])]));
}

function queryString(params: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((x) => q.append(k, String(x)));
    else q.append(k, String(v));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

export function generateBadRequests(doc: Doc, ctx: GeneratorContext): BadRequest[] {
  const out: BadRequest[] = [];
  const auth = { 'x-api-key': ctx.apiKey };
  const json = { ...auth, 'content-type': 'application/json' };

  for (const [template, item] of Object.entries(doc.paths)) {
    for (const method of METHODS.filter((m) => item[m])) {
      const op = item[method];
      const name = op.operationId as string;
      const params = (op.parameters ?? []) as Schema[];
      const pathParams = params.filter((p) => p.in === 'path').map((p) => p.name as string);
      const fill = (overrides: Record<string, string> = {}) =>
        template.replace(/\{(\w+)\}/g, (_m, p: string) => overrides[p] ?? ctx.pathValues[p] ?? 'missing');
      const path = fill();
      const M = method.toUpperCase();
      const push = (label: string, req: Omit<BadRequest, 'label' | 'method'> & { method?: string }) =>
        out.push({
          label: `${name}: ${label}`,
          method: req.method ?? M,
          path: req.path,
          headers: req.headers,
          body: req.body,
        });

      if (!template.startsWith('/api/')) {
        // Probes and docs take no input; wrong methods and paths must still be answered in the envelope.
        for (const wrong of ['POST', 'PUT', 'DELETE', 'PATCH'])
          push(`method ${wrong}`, { method: wrong, path, headers: json, body: '{}' });
        push('unknown sub-path', { path: `${path}/..%2F..%2Fetc`, headers: {} });
        continue;
      }

      // Authentication.
      push('no API key', { path, headers: {} });
      push('wrong API key', { path, headers: { 'x-api-key': 'not-a-key' } });
      push('huge bearer token', { path, headers: { authorization: `Bearer ${'k'.repeat(8_000)}` } });
      push('headers over the size limit', { path, headers: { ...auth, 'x-padding': 'p'.repeat(20_000) } });

      // Hostile path parameters.
      for (const p of pathParams) {
        for (const id of HOSTILE_IDS)
          push(`${p}=${id.slice(0, 24)}`, { path: fill({ [p]: id }), headers: auth });
      }

      // Query parameters (GET listings).
      for (const q of params.filter((p) => p.in === 'query')) {
        for (const m of invalidValues(doc, q.schema ?? {}, Boolean(q.required), true)) {
          push(`query ${q.name}: ${m.label}`, {
            path: path + queryString({ [q.name]: m.value }),
            headers: auth,
          });
        }
      }
      // Operations with query parameters refuse unknown ones; the others ignore query strings (cache busters).
      if (params.some((p) => p.in === 'query')) {
        push('unknown query parameter', { path: `${path}?notAParameter=1`, headers: auth });
      }

      // Headers documented with a pattern (Idempotency-Key).
      for (const h of params.filter(
        (p) => p.in === 'header' && p.schema?.pattern && p.name !== 'X-Request-ID',
      )) {
        const body = JSON.stringify(ctx.validBodies[refName(op)] ?? {});
        push(`header ${h.name} with a space`, { path, headers: { ...json, [h.name]: 'has space' }, body });
        push(`header ${h.name} too long`, { path, headers: { ...json, [h.name]: 'k'.repeat(300) }, body });
      }

      if (method === 'get') continue;
      // Bodies: only parser-level refusals for operations without a documented body.
      push('invalid JSON', { path, headers: json, body: '{"a": ' });
      push('single-quoted JSON', { path, headers: json, body: "{'a': 1}" });
      push('trailing comma', { path, headers: json, body: '{"a": 1,}' });
      push('nested 40 deep', { path, headers: json, body: '{"a":'.repeat(40) + '1' + '}'.repeat(40) });
      push('arrays nested 10000 deep', {
        path,
        headers: json,
        body: '['.repeat(10_000) + ']'.repeat(10_000),
      });
      push('body over 1 MiB', { path, headers: json, body: JSON.stringify({ pad: 'x'.repeat(1_100_000) }) });
      push('prototype pollution', { path, headers: json, body: '{"__proto__": {"isAdmin": true}}' });
      push('text/plain body', {
        path,
        headers: { ...auth, 'content-type': 'text/plain' },
        body: 'stop please',
      });
      push('form body', {
        path,
        headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1',
      });
      push('multipart body', {
        path,
        headers: { ...auth, 'content-type': 'multipart/form-data; boundary=x' },
        body: '--x\r\n\r\na\r\n--x--',
      });
      push('xml body', { path, headers: { ...auth, 'content-type': 'application/xml' }, body: '<a/>' });
      push('body without content type', { path, headers: auth, body: '{"a":1}' });
      if (!op.requestBody) continue;

      const schemaRaw = op.requestBody.content?.['application/json']?.schema ?? {};
      const base = ctx.validBodies[refName(op)] ?? baseObject(doc, schemaRaw);
      for (const nonObject of ['null', '[]', '[{}]', '1', '"text"', 'true']) {
        push(`JSON ${nonObject} body`, { path, headers: json, body: nonObject });
      }
      push('UTF-16 body', {
        path,
        headers: { ...auth, 'content-type': 'application/json; charset=utf-16le' },
        body: JSON.stringify({ ...base, notInTheSchema: 1 }),
      });
      for (const m of bodyMutations(doc, schemaRaw, base)) {
        push(`body ${m.label}`, { path, headers: json, body: JSON.stringify(m.value) });
      }
    }
  }
  return out;
}

function refName(op: Schema): string {
  return (
    String(op.requestBody?.content?.['application/json']?.schema?.$ref ?? '')
      .split('/')
      .pop() ?? ''
  );
}
