import { describe, expect, it } from 'vitest';

import {
  BUILTIN_ROLE_EXPOSURE,
  GRANT_LEVEL_EXPOSURE,
  VALUE_EXPOSING_PERMISSIONS,
} from '../../console/src/vocabulary.js';
import { customRoleAllows, GRANT_LEVELS } from '../../src/domain/policy/custom-roles.js';
import {
  type Action,
  ACTIONS,
  BUILTIN_ROLES,
  builtinRoleAllows,
} from '../../src/domain/policy/roles.js';
import { ENVIRONMENT_TYPES } from '../../src/domain/validation.js';

// The Roles page says which roles and grant levels can make a job print secret values. It
// states that from its own table (the console cannot import server code); this keeps the table
// true to the server's role table and grant rules.
const EXPOSING = Object.keys(VALUE_EXPOSING_PERMISSIONS) as Action[];

describe('the console statement of who can make a job print values', () => {
  it('names permissions of the server, running jobs and ad-hoc commands among them', () => {
    for (const p of EXPOSING) expect(ACTIONS).toContain(p);
    expect(EXPOSING).toEqual(expect.arrayContaining(['jobs:run', 'jobs:shell']));
  });

  it('matches the built-in role table', () => {
    for (const role of BUILTIN_ROLES) {
      const held = EXPOSING.filter((p) => builtinRoleAllows(role, p));
      expect([...BUILTIN_ROLE_EXPOSURE[role]].sort(), role).toEqual(held.sort());
    }
    // Whoever may run jobs exposes values, whoever may not does not.
    for (const role of BUILTIN_ROLES) {
      const runs = builtinRoleAllows(role, 'jobs:run') || builtinRoleAllows(role, 'jobs:shell');
      expect(BUILTIN_ROLE_EXPOSURE[role].length > 0, role).toBe(runs);
    }
  });

  it('matches the custom-role grant rules on every environment type', () => {
    for (const level of GRANT_LEVELS) {
      for (const type of ENVIRONMENT_TYPES) {
        const grants = [{ projectId: 'p1', type, level }];
        const target = { projectId: 'p1', environmentType: type };
        const held = EXPOSING.filter((p) => customRoleAllows(grants, p, target));
        expect([...GRANT_LEVEL_EXPOSURE[level]].sort(), `${level} on ${type}`).toEqual(held.sort());
      }
    }
  });
});
