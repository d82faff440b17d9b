// LDAP search filters built from values, never from strings: the library escapes every value.
import {
  AndFilter,
  EqualityFilter,
  type Filter,
  NotFilter,
  OrFilter,
  PresenceFilter,
} from 'ldapts';

export type { Filter };

/** attribute equals value, value escaped (RFC 4515). */
export function eq(attribute: string, value: string): Filter {
  return new EqualityFilter({ attribute, value });
}

/** attribute is present. */
export function present(attribute: string): Filter {
  return new PresenceFilter({ attribute });
}

/** All of the filters match. */
export function and(...filters: Filter[]): Filter {
  return new AndFilter({ filters });
}

/** Any of the filters matches. */
export function or(...filters: Filter[]): Filter {
  return new OrFilter({ filters });
}

/** The filter does not match. */
export function not(filter: Filter): Filter {
  return new NotFilter({ filter });
}
