// The case panel: summary, SLA clock, photos, timeline and the actions this reader may take.
import { get } from '/shared/api.js';
import { h, clear, toast } from '/shared/dom.js';
import { t } from '/shared/i18n.js';
import { actionBar, caseSummary, deadlineList, photoStrip, timelineList } from '/shared/case-view.js';

export class DetailPanel {
  constructor(el, onChanged) {
    this.el = el;
    this.onChanged = onChanged;
    this.caseId = null;
  }

  async open(id) {
    this.caseId = id;
    const [kase, timeline, deadlines] = await Promise.all([
      get(`/api/v1/cases/${id}`), get(`/api/v1/cases/${id}/timeline`), get(`/api/v1/cases/${id}/deadlines`),
    ]);
    if (this.caseId !== id) return;
    this.render(kase, timeline, deadlines);
  }

  /** Re-read the open case after a live event about it. */
  refresh(id) {
    if (this.caseId === id) this.open(id);
  }

  render(kase, timeline, deadlines) {
    clear(this.el);
    this.el.hidden = false;
    this.el.dataset.caseId = String(kase.id);
    this.el.dataset.state = kase.state;
    const close = h('button', { type: 'button', class: 'close', 'aria-label': t('detail.close'), text: '×' });
    close.addEventListener('click', () => { this.el.hidden = true; this.caseId = null; });
    this.el.append(close, caseSummary(kase),
      h('h4', { text: t('detail.sla') }), deadlineList(deadlines),
      kase.photo_ids.length ? h('h4', { text: t('detail.photos') }) : null,
      kase.photo_ids.length ? photoStrip(kase.photo_ids) : null,
      actionBar(kase, (updated, action) => {
        toast(t('detail.done', { action: t(`action.${action}`), no: updated.tracking_no }));
        this.onChanged(updated);
        this.open(updated.id);
      }, (err) => toast(err.message, 'error')),
      h('h4', { text: t('detail.timeline') }), timelineList(timeline));
  }
}
