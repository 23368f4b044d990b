/** Loopback checks shared by the development issuer (where it may listen) and the CLI (what it may auto-complete). */

/** Whether `host` names this machine's loopback interface (`localhost`, `::1`, `127.0.0.0/8`). */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h)
}

/** Whether `url` is an http(s) URL on a loopback address. */
export function isLoopbackUrl(url: string): boolean {
  try {
    const u = new URL(url)
    return (u.protocol === 'http:' || u.protocol === 'https:') && isLoopbackHost(u.hostname)
  } catch {
    return false
  }
}
