// A liquidation's money (or a window's, from FundFlowSummary) drawn as a flow: where it came from
// on the left (the traders' loss, the insurance fund's and the operator capital's payments), where
// it went on the right (providers, fund takeovers, deleveraged accounts, each penalty share, fees),
// band widths by exact BigInt shares (money.js); each amount carries its API field name and string.
// A negative amount is drawn on the other side, labelled so, with its signed amount.
'use strict';
/** A liquidation record or a summary, as the money's sources and destinations. */
function flowLines(r, summary) {
  const get = (a, b) => (summary ? r[b] : r[a]) || '0';
  const sources = [
    ['tradersLoss', summary ? 'tradersLosses' : 'tradersLoss', "traders' loss"],
    ['insuranceFundOut', 'insuranceFundPaid', "insurance fund's payment"],
    ['operatorCapitalPaid', 'operatorCapitalPaid', "operator's capital"]
  ];
  const destinations = [
    ['toProviders', 'toProviders', 'backstop providers'],
    ['toFundTakeovers', 'toFundTakeovers', 'fund takeovers'],
    ['toDeleveraged', 'toDeleveraged', 'deleveraged accounts'],
    ['penaltyToInsuranceFund', 'toInsuranceFunds', 'penalty: insurance fund'],
    ['penaltyToMarketMaking', 'toMarketMaking', 'penalty: market making'],
    ['penaltyToPlatformRevenue', 'toPlatformRevenue', 'penalty: platform revenue'],
    ['penaltyToInvestorProtection', 'toInvestorProtection', 'penalty: investor protection'],
    ['penaltyToLiquidators', 'toLiquidators', 'penalty: liquidators'],
    ['tradingFees', 'tradingFees', 'trading fees']
  ];
  const side = list => list.map(([a, b, label]) => ({ field: summary ? b : a, label, amount: get(a, b) }));
  const other = [
    ['debt', 'debt', 'left as debt'], ['socialized', 'socialized', 'socialized (deleveraged lost)'],
    ['penaltyCut', 'penaltyCut', 'penalty cut'], ['penaltyApplied', 'penaltyApplied', 'penalty applied to own deficit'],
    [summary ? 'tradersKept' : 'leftToTrader', summary ? 'tradersKept' : 'leftToTrader', 'left to the trader']
  ];
  return { sources: side(sources), destinations: side(destinations), other: side(other) };
}

/** Draws the flow: sources on the left, destinations on the right, band widths by exact shares. */
function flowDiagram(target, r, summary) {
  const { sources, destinations, other } = flowLines(r, summary);
  const shown = list => list.filter(x => !Money.isZero(x.amount) || x.field === 'tradersLoss' || x.field === 'tradersLosses');
  // A negative amount is money flowing the other way (a trader closed better than the mark, the
  // deleveraged accounts giving up profit): drawn on the other side, its signed amount kept.
  const negative = x => Money.units(x.amount) < 0n;
  const flipped = (list, note) => list.filter(negative).map(x => ({ ...x, label: x.label + note }));
  const left = [...shown(sources).filter(x => !negative(x)), ...flipped(shown(destinations), ' (negative: paid in)')];
  const right = [...shown(destinations).filter(x => !negative(x)), ...flipped(shown(sources), ' (negative: received)')];
  const biggest = Money.max([...left, ...right].map(x => x.amount));
  const ns = 'http://www.w3.org/2000/svg';
  const svgEl = (tag, attrs, text) => { const e = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text !== undefined) e.textContent = text; return e; };
  const rowH = 46, width = 640, height = Math.max(left.length, right.length) * rowH + 50;
  const svg = svgEl('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
  const cx = width / 2, cy = height / 2;
  svg.append(svgEl('rect', { x: cx - 8, y: 20, width: 16, height: height - 40, fill: '#1d2330', rx: 3 }));
  const band = (x1, y1, x2, y2, w, color) => svg.append(svgEl('path', { d: `M${x1},${y1} C${(x1 + x2) / 2},${y1} ${(x1 + x2) / 2},${y2} ${x2},${y2}`,
    stroke: color, 'stroke-width': Math.max(2, w), fill: 'none', 'stroke-opacity': .55 }));
  const node = (list, x, anchor, color, toCentre) => list.forEach((item, i) => {
    const y = 25 + i * rowH + rowH / 2;
    const w = 36 * Money.share(item.amount, biggest);
    band(toCentre ? x + 8 : cx + 8, toCentre ? y : cy, toCentre ? cx - 8 : x - 8, toCentre ? cy : y, w, color);
    const g = svgEl('g', { 'data-field': item.field, 'data-amount': item.amount });
    g.append(svgEl('text', { x, y: y - 4, 'text-anchor': anchor, fill: '#1d2330' }, item.label));
    g.append(svgEl('text', { x, y: y + 12, 'text-anchor': anchor, 'font-weight': 'bold', class: 'flow-amount' }, Money.format(item.amount)));
    svg.append(g);
  });
  node(left, 8, 'start', '#d9534f', true);
  node(right, width - 8, 'end', '#2f6fd6', false);
  const table = el('table', {}, el('tbody', {}, ...other.map(x => el('tr', {}, el('td', {}, x.label), amount(x.amount, x.field)))));
  target.replaceChildren(svg, table);
  return { sources, destinations, other };
}
