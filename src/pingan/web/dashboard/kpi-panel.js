// KPI tiles and ECharts charts for the current unit (figures from /api/v1/stats/kpis).
/* global echarts */
import { get, newestOnly } from '/shared/api.js';
import { h, clear } from '/shared/dom.js';
import { t, localName } from '/shared/i18n.js';

const TILES = [
  ['today', 'count'], ['open', 'count'], ['overdue', 'count'], ['on_time_rate', 'rate'],
  ['closure_rate', 'rate'], ['rework_rate', 'rate'], ['satisfaction', 'score'],
];

export class KpiPanel {
  constructor(tilesEl, unitsEl, categoriesEl, trendEl, onUnit) {
    this.tilesEl = tilesEl;
    this.onUnit = onUnit;
    this.charts = [unitsEl, categoriesEl, trendEl].map((el) => echarts.init(el, 'dark', { renderer: 'canvas' }));
    this.charts[0].on('click', (p) => p.data && p.data.code && this.onUnit(p.data.code));
    window.addEventListener('resize', () => this.charts.forEach((c) => c.resize()));
    this.data = null;
    this.newest = newestOnly();
  }

  /** The KPIs of a unit, painted; null when a newer load began meanwhile (that one paints). */
  async load(unitCode) {
    const current = this.newest();
    const data = await get('/api/v1/stats/kpis', { unit: unitCode, days: 30 });
    if (!current()) return null;
    this.data = data;
    this.render();
    return this.data;
  }

  render() {
    const d = this.data;
    if (!d) return;
    clear(this.tilesEl);
    for (const [key, kind] of TILES) {
      const v = d.tiles[key];
      const text = v === null || v === undefined ? '–'
        : kind === 'rate' ? `${(v * 100).toFixed(1)}%` : kind === 'score' ? v.toFixed(2) : String(v);
      this.tilesEl.append(h('div', { class: `tile ${key}`, dataset: { kpi: key } },
        h('div', { class: 'tile-value', text }), h('div', { class: 'tile-label', text: t(`kpi.${key}`) })));
    }
    const base = { backgroundColor: 'transparent', textStyle: { fontFamily: 'sans-serif' } };
    this.charts[0].setOption({
      ...base, title: { text: t('chart.by_unit'), textStyle: { fontSize: 13 } }, tooltip: {},
      grid: { left: 90, right: 10, top: 30, bottom: 20 },
      legend: { top: 0, right: 0, textStyle: { fontSize: 10 } },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: d.by_unit.map((u) => localName(u)) },
      series: [
        { name: t('kpi.open'), type: 'bar', stack: 'n', data: d.by_unit.map((u) => ({ value: u.open - u.overdue, code: u.code })) },
        { name: t('kpi.overdue'), type: 'bar', stack: 'n', itemStyle: { color: '#ff1744' }, data: d.by_unit.map((u) => ({ value: u.overdue, code: u.code })) },
        { name: t('kpi.closed'), type: 'bar', stack: 'n', itemStyle: { color: '#66bb6a' }, data: d.by_unit.map((u) => ({ value: u.closed, code: u.code })) },
      ],
    }, true);
    this.charts[1].setOption({
      ...base, title: { text: t('chart.by_category'), textStyle: { fontSize: 13 } }, tooltip: {},
      series: [{ type: 'pie', radius: ['35%', '65%'], top: 20,
        data: d.by_category.map((c) => ({ name: localName(c), value: c.count })) }],
    }, true);
    this.charts[2].setOption({
      ...base, title: { text: t('chart.trend'), textStyle: { fontSize: 13 } }, tooltip: { trigger: 'axis' },
      legend: { top: 0, right: 0, textStyle: { fontSize: 10 } },
      grid: { left: 35, right: 10, top: 30, bottom: 20 },
      xAxis: { type: 'category', data: d.trend.map((x) => x.day.slice(5)) }, yAxis: { type: 'value' },
      series: [
        { name: t('chart.reported'), type: 'line', smooth: true, data: d.trend.map((x) => x.reported) },
        { name: t('chart.closed'), type: 'line', smooth: true, data: d.trend.map((x) => x.closed) },
      ],
    }, true);
  }
}
