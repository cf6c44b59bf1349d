// Exact amounts: the API sends every amount as a decimal string; the console shows it digit for
// digit (grouping the integer part) and compares or scales amounts only as BigInt minor units,
// never through floating point. Numbers appear only for pixel sizes and chart axes.
'use strict';
const Money = (() => {
  const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

  /** "-1234567.500000" -> "-1,234,567.500000" (the same digits; null/empty -> "-"). */
  function format(text) {
    if (text === undefined || text === null || text === '') return '-';
    const m = DECIMAL.exec(String(text));
    if (!m) return String(text);
    const grouped = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return m[1] + grouped + (m[3] !== undefined ? '.' + m[3] : '');
  }

  /** The amount as a BigInt of units at `scale` decimal places (more places than that are refused). */
  function units(text, scale = 18) {
    const m = DECIMAL.exec(String(text || '0'));
    if (!m) throw new Error('not a decimal amount: ' + text);
    const fraction = m[3] || '';
    if (fraction.length > scale) throw new Error('more than ' + scale + ' places: ' + text);
    const value = BigInt(m[2] + fraction.padEnd(scale, '0'));
    return m[1] === '-' ? -value : value;
  }

  function isZero(text) { return units(text) === 0n; }

  /** |a| / |max| as a number in [0, 1], for sizes on screen only. */
  function share(text, maxText) {
    const a = units(text), max = units(maxText);
    const abs = v => (v < 0n ? -v : v);
    if (max === 0n) return 0;
    return Number((abs(a) * 10000n) / abs(max)) / 10000;
  }

  /** The largest of several amounts (by exact comparison). */
  function max(texts) {
    let best = '0';
    for (const t of texts) {
      const v = units(t), b = units(best);
      if ((v < 0n ? -v : v) > (b < 0n ? -b : b)) best = t;
    }
    return best;
  }

  /** Sum of decimal strings with the same number of places, exactly. */
  function sum(texts) {
    let places = 0;
    for (const t of texts) places = Math.max(places, ((String(t).split('.')[1]) || '').length);
    let total = 0n;
    for (const t of texts) total += units(t, places);
    const neg = total < 0n;
    let digits = (neg ? -total : total).toString().padStart(places + 1, '0');
    const whole = places ? digits.slice(0, -places) : digits;
    const frac = places ? '.' + digits.slice(-places) : '';
    return (neg ? '-' : '') + whole + frac;
  }

  return { format, units, isZero, share, max, sum };
})();
if (typeof module !== 'undefined') module.exports = Money;
