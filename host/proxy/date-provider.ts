/**
 * The Date response header, as Envoy's TlsCachingDateProviderImpl provides it: formatted
 * "%a, %d %b %Y %H:%M:%S GMT" (what toUTCString produces) and refreshed every 500 ms rather than
 * formatted for every response. Envoy refreshes on a timer; refreshing on first use after 500 ms
 * gives the same staleness bound without a timer to start and stop.
 */
const REFRESH_MS = 500;

let cached = "";
let cachedAt = Number.NEGATIVE_INFINITY;

export function httpDate(now: number = Date.now()): string {
  // A clock stepped backwards refreshes too, so the header never stays ahead of the clock.
  if (now - cachedAt >= REFRESH_MS || now < cachedAt) {
    cached = new Date(now).toUTCString();
    cachedAt = now;
  }
  return cached;
}
