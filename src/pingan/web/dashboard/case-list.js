// Search, filters, a paged table of cases and export of the same selection to xlsx.
import { get, download, newestOnly } from '/shared/api.js';
import { h, clear } from '/shared/dom.js';
import { t, lang, localName, formatTime } from '/shared/i18n.js';
import { stateBadge } from '/shared/case-view.js';

const STATES = ['reported', 'filed', 'dispatched', 'accepted', 'handled', 'rework', 'verified',
  'closed', 'evaluated', 'rejected', 'suspended', 'merged'];
const PAGE = 20;

export class CaseList {
  constructor(form, body, total, onSelect) {
    this.form = form;
    this.body = body;
    this.total = total;
    this.onSelect = onSelect;
    this.offset = 0;
    this.unitPath = '';
    this.newest = newestOnly();
    form.addEventListener('submit', (e) => { e.preventDefault(); this.offset = 0; this.load(); });
    form.querySelector('#export').addEventListener('click', () => this.export());
    document.getElementById('prev').addEventListener('click', () => { this.offset = Math.max(0, this.offset - PAGE); this.load(); });
    document.getElementById('next').addEventListener('click', () => { this.offset += PAGE; this.load(); });
  }

  async fillOptions(units) {
    const stateSel = this.form.elements.state;
    const categorySel = this.form.elements.category;
    const unitSel = this.form.elements.unit;
    for (const sel of [stateSel, categorySel, unitSel]) while (sel.options.length > 1) sel.remove(1);
    for (const s of STATES) stateSel.append(h('option', { value: s, text: t(`state.${s}`) }));
    const cats = await get('/api/v1/categories');
    const majors = new Map();
    for (const c of cats) majors.set(c.major_code, { name: c.major_name, name_en: c.major_name_en });
    for (const [code, m] of majors) categorySel.append(h('option', { value: code, text: `${code} ${localName(m)}` }));
    for (const u of units) unitSel.append(h('option', { value: u.path, text: localName(u) }));
  }

  params() {
    const f = this.form.elements;
    const day = (v, plus = 0) => (v ? new Date(new Date(`${v}T00:00:00+08:00`).getTime() + plus).toISOString() : undefined);
    return {
      q: f.q.value.trim(), state: f.state.value, category: f.category.value,
      unit: f.unit.value || this.unitPath, overdue: f.overdue.checked ? 'true' : undefined,
      created_from: day(f.created_from.value), created_to: day(f.created_to.value, 86_400_000),
    };
  }

  async load() {
    const current = this.newest();
    const page = await get('/api/v1/cases', { ...this.params(), limit: PAGE, offset: this.offset });
    if (!current()) return;
    clear(this.body);
    for (const c of page.items) {
      const tr = h('tr', { dataset: { caseId: String(c.id) }, class: c.overdue ? 'overdue' : '' },
        h('td', { text: c.tracking_no }), h('td', {}, stateBadge(c.state)),
        h('td', { text: localName({ name: c.category_name, name_en: c.category_name_en }) }),
        h('td', { text: c.title }), h('td', { text: formatTime(c.created_at) }),
        h('td', { text: c.due_at ? formatTime(c.due_at) : '–' }));
      tr.addEventListener('click', () => this.onSelect(c.id));
      this.body.append(tr);
    }
    this.total.textContent = t('list.total', { n: page.total, from: page.total ? this.offset + 1 : 0, to: this.offset + page.items.length });
    document.getElementById('prev').disabled = this.offset === 0;
    document.getElementById('next').disabled = this.offset + PAGE >= page.total;
  }

  export() {
    const stamp = new Date().toISOString().slice(0, 10);
    return download('/api/v1/stats/cases.xlsx', { ...this.params(), lang: lang() }, `pingan-cases-${stamp}.xlsx`);
  }
}
