import { z } from 'zod';

import { GRANT_LEVELS } from '../policy/custom-roles.js';
import { roleSlug } from '../policy/roles.js';
import { commandSchema, durationSchema, workingDirSchema } from '../projects/service-fields.js';
import { displayNameSchema, ENVIRONMENT_TYPES, slugSchema } from '../validation.js';

// The hush.yaml format: one organization's structure, never a secret value. These schemas
// validate the file and produce its JSON Schema (`hush.schema.json`); there is no second copy.

const oneOf = (values: readonly string[]) => `must be one of ${values.join(', ')}`;

const environmentSchema = z
  .strictObject({
    type: z.enum(ENVIRONMENT_TYPES, { error: oneOf(ENVIRONMENT_TYPES) }),
  })
  .describe('A typed environment; its type decides which grants of custom roles reach it');

const serviceSchema = z
  .strictObject({
    command: commandSchema.describe('What the job runs, as a shell command line'),
    environment: slugSchema
      .optional()
      .describe('The environment the service belongs to (omit for a project-wide service)'),
    workingDir: workingDirSchema
      .optional()
      .describe("Where the job runs: relative to the job's directory, or under a job mount"),
    timeout: durationSchema
      .default(3600)
      .describe('How long a job may run: seconds, or 30s, 10m, 1h, 1d (default 1h)'),
  })
  .describe('A service: a job definition');

const projectSchema = z
  .strictObject({
    name: displayNameSchema.optional().describe('Display name (default: the slug)'),
    environments: z.record(slugSchema, environmentSchema).default({}),
    services: z.record(slugSchema, serviceSchema).default({}),
  })
  .describe('A project, keyed by its slug');

const grantSchema = z.strictObject({
  project: slugSchema.describe('A project of the organization'),
  type: z.enum(ENVIRONMENT_TYPES, { error: oneOf(ENVIRONMENT_TYPES) }),
  level: z.enum(GRANT_LEVELS, { error: oneOf(GRANT_LEVELS) }),
});

const roleSchema = z
  .strictObject({ grants: z.array(grantSchema).default([]) })
  .describe('A custom role, keyed by its name: a level per project and environment type');

export const SECRET_DECLARED_KINDS = ['env', 'file', 'pgservice', 'alias'] as const;
export const SENSITIVITIES = ['secret', 'plain'] as const;

const secretSchema = z
  .strictObject({
    name: z.string().min(1).max(255).describe('The variable, file or pg_service name'),
    kind: z.enum(SECRET_DECLARED_KINDS, { error: oneOf(SECRET_DECLARED_KINDS) }).default('env'),
    project: slugSchema.optional().describe('Omit for the organization level'),
    environment: slugSchema.optional().describe('With project: the environment level'),
    service: slugSchema.optional().describe('With project: the service level'),
    sensitivity: z.enum(SENSITIVITIES, { error: oneOf(SENSITIVITIES) }).default('secret'),
    assignee: z.string().min(1).optional().describe("A member's e-mail: that member's own value"),
  })
  .refine((s) => !(s.environment && s.service), {
    message: 'give environment or service, not both',
    path: ['service'],
  })
  .refine((s) => s.project || !(s.environment || s.service), {
    message: 'environment and service need a project',
    path: ['project'],
  })
  .describe('A secret that must exist; its value is set with hush secret set or hush import');

export const configSchema = z
  .strictObject({
    organization: slugSchema.describe('The slug of the organization this file describes'),
    projects: z.record(slugSchema, projectSchema).default({}),
    roles: z
      .record(z.string().min(1).max(63).transform(roleSlug).pipe(slugSchema), roleSchema)
      .default({}),
    members: z
      .record(
        z.string().min(1).max(320),
        z
          .string()
          .min(1)
          .transform(roleSlug)
          .describe(
            'A role: a built-in role (admin, devops, billing-manager, viewer) or a custom role',
          ),
      )
      .default({})
      .describe("Existing members' roles, by e-mail; invitations stay a person's act"),
    secrets: z.array(secretSchema).default([]),
  })
  .describe('hush.yaml: the structure of one Hush organization, never a secret value');

/** A hush.yaml file as validated, defaults applied. */
export type ConfigFile = z.output<typeof configSchema>;
export type SecretDeclaration = ConfigFile['secrets'][number];

/** The JSON Schema of hush.yaml, for editors (yaml-language-server) and `docs/hush.schema.json`. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'hush.yaml',
  };
}
