// The ES module entry point, typed: default and named imports.
import lightning, { open } from 'lightning-db';

const db = open('/tmp/typed-esm.db', { sync: false });
db.put('k', 'v');
const value: Buffer | undefined = await db.getAsync('k');
console.log(value, lightning.version);
db.close();
