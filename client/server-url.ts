// Enrollment server addresses: https URLs reduced to their origin, with the daemon's port when
// none is given.

/** Port the enrollment daemon listens on unless configured otherwise. */
export const DEFAULT_SERVER_PORT = 9443;

/** Parses an https URL naming an enrollment server; throws TypeError saying what is wrong. */
export function parseServerUrl(text: string, defaultPort: number): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError('not a URL');
  }

  if (url.protocol !== 'https:') {
    throw new TypeError('must start with https://');
  }

  if (url.username || url.password || url.search || url.hash || url.pathname !== '/') {
    throw new TypeError('must be only https://<host>[:<port>]');
  }

  // URL drops the scheme's default port, so ":443" written out is told apart from no port.
  const port = url.port !== '' ? Number(url.port) : /:443\/?$/.test(text) ? 443 : defaultPort;
  return serverUrl(url.hostname, port);
}

/** The URL of the enrollment server at host and port. */
export function serverUrl(host: string, port: number): string {
  const h = host.toLowerCase().replace(/\.$/, '');
  return port === 443 ? `https://${h}` : `https://${h}:${port}`;
}

/** The host name of a server URL, without the brackets of an IPv6 address. */
export function hostOf(url: string): string {
  return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
}
