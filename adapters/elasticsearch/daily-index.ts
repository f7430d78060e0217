/** `<prefix>-<kind>-YYYY.MM.DD` (UTC): the daily indices events and request samples go to. */
export const dailyIndex = (prefix: string, kind: string, ms: number): string =>
  `${prefix}-${kind}-${new Date(ms).toISOString().slice(0, 10).replace(/-/g, '.')}`;
