// The LDAP data layer: connections, entries, DNs, filters and error mapping.
export * from './bind.js';
export * from './directory.js';
export * from './dn.js';
export * from './entry.js';
export * from './errors.js';
export * as filter from './filter.js';
