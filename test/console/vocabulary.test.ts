import { describe, expect, it } from 'vitest';

import * as consoleVocabulary from '../../console/src/vocabulary.js';
import { EVENT_TYPES, TARGET_TYPES } from '../../src/domain/audit/audit-service.js';
import { GRANT_LEVELS } from '../../src/domain/policy/custom-roles.js';
import { BUILTIN_ROLES, ROLE_LABELS } from '../../src/domain/policy/roles.js';
import { SSL_MODES } from '../../src/domain/secrets/pgservice.js';
import { ENVIRONMENT_TYPES } from '../../src/domain/validation.js';

// The console ships its own copy of the API's fixed lists (it cannot import server code into
// the browser bundle); this keeps the copy true.
describe('the console vocabulary', () => {
  it('matches the server lists it copies', () => {
    expect(consoleVocabulary.EVENT_TYPES).toEqual(EVENT_TYPES);
    expect(consoleVocabulary.TARGET_TYPES).toEqual(TARGET_TYPES);
    expect(consoleVocabulary.GRANT_LEVELS).toEqual(GRANT_LEVELS);
    expect(consoleVocabulary.BUILTIN_ROLES).toEqual(BUILTIN_ROLES);
    expect(consoleVocabulary.BUILTIN_ROLE_LABELS).toEqual(ROLE_LABELS);
    expect(consoleVocabulary.SSL_MODES).toEqual(SSL_MODES);
    expect(consoleVocabulary.ENVIRONMENT_TYPES).toEqual(ENVIRONMENT_TYPES);
  });
});
