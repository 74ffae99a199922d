// lightning-db as an ES module: the same objects as the CommonJS entry point (index.js).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const lightning = require('./index.js');

export const { open, Database, Snapshot, Transaction, BulkLoad, RangeIterator, version } = lightning;
export default lightning;
