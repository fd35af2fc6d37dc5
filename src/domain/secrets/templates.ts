import { SLUG_RE } from '../validation.js';

// A template is an env or file value with references in it: `${NAME}` (the same context),
// `${org.NAME}` (the organization level) and `${project.env.NAME}` (another environment of the
// organization); `$${` is a literal `${`. Anything else is text: `$HOME`, `$$`, a lone `$`.

/** The greatest number of references one value may hold. */
export const MAX_REFS_PER_VALUE = 100;

const REF_NAME = /^[A-Z][A-Z0-9_]*$/;

/** What a reference names: a name, in the same context, at the organization or at project/env. */
export type RefTarget =
  | { scope: 'same'; name: string }
  | { scope: 'org'; name: string }
  | { scope: 'path'; project: string; env: string; name: string };

/** A reference as it stands in a template (its text between `${` and `}`) and what it names. */
export interface TemplateRef {
  text: string;
  target: RefTarget;
}

/** A template cut into literal text and references, in order. */
export type TemplatePart = string | TemplateRef;

/** A template that does not parse: what is wrong, and the 1-based character where it is. */
export interface TemplateError {
  position: number;
  message: string;
}

/**
 * What a reference's text names, or what is wrong with it.
 *
 * @example refTarget('maps.prod.DB_URL') // { scope: 'path', project: 'maps', env: 'prod', name: 'DB_URL' }
 */
export function refTarget(text: string): RefTarget | string {
  // The messages never quote the text: it comes from a value, which may be a secret's.
  const parts = text.split('.');
  const name = parts[parts.length - 1] ?? '';
  if (!REF_NAME.test(name)) {
    return 'a reference ends in a secret name (capitals, digits and _, starting with A-Z)';
  }
  if (parts.length === 1) return { scope: 'same', name };
  if (parts.length === 2) {
    if (parts[0] === 'org') return { scope: 'org', name };
    return 'two parts are org.NAME (the organization level); another environment is project.env.NAME';
  }
  if (parts.length === 3) {
    const [project = '', env = ''] = parts;
    if (!SLUG_RE.test(project) || !SLUG_RE.test(env))
      return 'project.env.NAME takes a project slug and an environment slug (a-z, 0-9 and -)';
    return { scope: 'path', project, env, name };
  }
  return 'a reference is NAME, org.NAME or project.env.NAME';
}

/** How a target is written in a reference (the inverse of {@link refTarget}). */
export function refText(target: RefTarget): string {
  switch (target.scope) {
    case 'same':
      return target.name;
    case 'org':
      return `org.${target.name}`;
    case 'path':
      return `${target.project}.${target.env}.${target.name}`;
  }
}

/**
 * Cuts a template into text and references; a `${` without its `}`, an empty or malformed
 * reference, or more than {@link MAX_REFS_PER_VALUE} references is an error naming the position.
 *
 * @example parseTemplate('postgres://${USER}@db') // ['postgres://', { text: 'USER', … }, '@db']
 */
export function parseTemplate(text: string): TemplatePart[] | TemplateError {
  const parts: TemplatePart[] = [];
  let literal = '';
  let refs = 0;
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('$', i);
    if (at === -1) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, at);
    if (text.startsWith('$${', at)) {
      literal += '${';
      i = at + 3;
    } else if (text.startsWith('${', at)) {
      const close = text.indexOf('}', at + 2);
      if (close === -1)
        return {
          position: at + 1,
          message: '"${" is not closed by "}" (write $${ for a literal ${)',
        };
      const body = text.slice(at + 2, close);
      const target = refTarget(body);
      if (typeof target === 'string') return { position: at + 1, message: target };
      if (++refs > MAX_REFS_PER_VALUE)
        return { position: at + 1, message: `more than ${MAX_REFS_PER_VALUE} references` };
      if (literal) parts.push(literal);
      literal = '';
      parts.push({ text: body, target });
      i = close + 1;
    } else {
      literal += '$';
      i = at + 1;
    }
  }
  if (literal) parts.push(literal);
  return parts;
}

/** Whether {@link parseTemplate} failed. */
export function isTemplateError(parsed: TemplatePart[] | TemplateError): parsed is TemplateError {
  return !Array.isArray(parsed);
}

/** The references of a parsed template, in order, each once. */
export function refsOfTemplate(parts: readonly TemplatePart[]): string[] {
  const seen = new Set<string>();
  for (const p of parts) if (typeof p !== 'string') seen.add(p.text);
  return [...seen];
}
