import { z } from 'zod';

/** Slug of an organization, project or environment (SPEC §1). */
export const SLUG_RE = /^[a-z0-9][a-z0-9-]{1,62}$/;
export const slugSchema = z
  .string()
  .regex(SLUG_RE, 'must be 2-63 characters of a-z, 0-9 and "-", starting with a letter or digit');

export const ENVIRONMENT_TYPES = ['production', 'staging', 'development', 'preview'] as const;
export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number];

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be an e-mail address');

export const passwordSchema = z.string().min(8, 'must have at least 8 characters').max(1024);
