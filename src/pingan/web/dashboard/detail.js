// The case panel: summary, SLA clock, photos, timeline, the actions this reader may take, the
// people to video-call about the case and its call log.
import { get, newestOnly, photoUrl } from '/shared/api.js';
import { h, clear, toast } from '/shared/dom.js';
import { t, formatTime } from '/shared/i18n.js';
import { actionBar, caseSummary, deadlineList, photoStrip, timelineList } from '/shared/case-view.js';

export class DetailPanel {
  constructor(el, onChanged, onCall = null) {
    this.el = el;
    this.onChanged = onChanged;
    this.onCall = onCall;
    this.caseId = null;
    this.newest = newestOnly();
  }

  async open(id) {
    this.caseId = id;
    const current = this.newest();
    const [kase, timeline, deadlines, contacts, calls] = await Promise.all([
      get(`/api/v1/cases/${id}`), get(`/api/v1/cases/${id}/timeline`), get(`/api/v1/cases/${id}/deadlines`),
      this.onCall ? get(`/api/v1/cases/${id}/contacts`).catch(() => []) : [],
      get('/api/v1/calls', { case_id: id }).catch(() => []),
    ]);
    // a read started earlier that answers later (a live event and an action's reply, say) must
    // not paint an older case over a newer one
    if (this.caseId !== id || !current()) return;
    this.render(kase, timeline, deadlines, contacts, calls);
  }

  /** Re-read the open case after a live event about it. */
  refresh(id) {
    if (this.caseId === id) this.open(id);
  }

  render(kase, timeline, deadlines, contacts = [], calls = []) {
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
      contacts.length ? h('h4', { text: t('call.contacts') }) : null,
      contacts.length ? this.contactList(kase, contacts) : null,
      calls.length ? h('h4', { text: t('call.log') }) : null,
      calls.length ? callLog(calls) : null,
      h('h4', { text: t('detail.timeline') }), timelineList(timeline));
  }

  contactList(kase, contacts) {
    return h('ul', { class: 'contacts' }, contacts.map((c) => h('li', { dataset: { userId: String(c.user_id) } },
      h('i', { class: `presence${c.online ? ' online' : ''}`, title: t(c.online ? 'call.online' : 'call.offline') }),
      `${c.display_name} · ${t(`role.${c.role}`)} `,
      h('button', { type: 'button', class: 'primary call-button', text: t('call.call'),
        onclick: () => this.onCall(c.user_id, kase) }))));
  }
}

function callLog(calls) {
  return h('ol', { class: 'call-log' }, calls.map((c) => {
    const others = c.parties.filter((p) => p.user_id !== c.host_id).map((p) => p.display_name).join('、');
    const secs = c.duration_s === null ? null : Math.round(c.duration_s);
    return h('li', { dataset: { callId: String(c.id), outcome: c.outcome || c.state } },
      h('span', { class: 'when', text: formatTime(c.created_at) }), ' ',
      `${c.host_name} → ${others} · `,
      h('strong', { text: c.outcome ? t(`call.outcome.${c.outcome}`) : t(`call.${c.state}`) }),
      secs === null ? null : ` · ${t('call.duration', { s: secs })}`,
      c.recording_id ? h('button', { type: 'button', class: 'link', text: t('call.play_recording'),
        onclick: (e) => playRecording(e.target, c.recording_id) }) : null);
  }));
}

async function playRecording(button, id) {
  try {
    const url = await photoUrl(id);
    button.replaceWith(h('video', { src: url, controls: true, class: 'recording-player' }));
  } catch (err) {
    toast(err.message, 'error');
  }
}
