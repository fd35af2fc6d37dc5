// Writes docs/hush.schema.json from the zod schemas that validate hush.yaml (the test suite
// checks that the file and the server's /api/v1/hush.schema.json still match them).
import fs from 'node:fs';

import { configJsonSchema } from '../src/domain/config/config-schema.js';

fs.writeFileSync('docs/hush.schema.json', JSON.stringify(configJsonSchema(), null, 2) + '\n');
console.log('wrote docs/hush.schema.json');
