// Reads a JSON array of Cypher statements on stdin; prints a JSON array of diagnostics per statement.
// Uses Neo4j's own Cypher parser (@neo4j-cypher/language-support); exit 1 when any statement has an error.
import { lintCypherQuery, isNotParamError } from '@neo4j-cypher/language-support';
let input = '';
for await (const chunk of process.stdin) input += chunk;
const statements = JSON.parse(input);
let failed = false;
const out = statements.map((q) => {
  const { diagnostics } = lintCypherQuery(q, {});
  const real = diagnostics.filter(isNotParamError); // parameters are bound at run time
  const errors = real.filter((d) => d.severity === 1);
  if (errors.length) failed = true;
  return real.map((d) => ({ severity: d.severity === 1 ? 'error' : 'warning', message: d.message, offsets: d.offsets }));
});
process.stdout.write(JSON.stringify(out));
process.exit(failed ? 1 : 0);
