// Device alarms still active (open or turned into a case): red diamonds for those waiting for an
// operator, orange for those already a case; the tooltip names the kind, device and repeat count
// (set as text). An open alarm's popup offers confirm (opens a case) or dismiss (with a reason).
// Reloaded on every alarm event from the live feed.
/* global L */
import { get, newestOnly, post } from '/shared/api.js';
import { h, toast } from '/shared/dom.js';
import { t } from '/shared/i18n.js';

export class AlarmsLayer {
  constructor(map, onSelectCase) {
    this.layer = L.layerGroup().addTo(map);
    this.onSelectCase = onSelectCase;
    this.count = 0;
    this.newest = newestOnly();
  }

  async load() {
    const current = this.newest();
    let rows;
    try {
      rows = await get('/api/v1/alarms', { state: ['open', 'cased'], limit: 500 });
    } catch {
      return; // a role that does not see alarms, or offline: keep what is shown
    }
    if (!current()) return;
    this.layer.clearLayers();
    this.count = rows.length;
    for (const a of rows) {
      const name = `${t(`alarm.${a.kind}`)} · ${a.device_id}${a.count > 1 ? ` ×${a.count}` : ''}`;
      const m = L.marker([a.lat, a.lng], {
        icon: L.divIcon({ className: `alarm-marker ${a.state}`, iconSize: [12, 12] }),
        keyboard: false,
        title: name,
      }).bindTooltip(h('span', { text: name }), { direction: 'top', offset: [0, -6] });
      if (a.case_id != null) m.on('click', () => this.onSelectCase(a.case_id));
      else m.bindPopup(() => this.decide(a, name));
      this.layer.addLayer(m);
    }
  }

  decide(alarm, name) {
    const done = (promise) => promise
      .then(() => this.load())
      .catch((err) => toast(err.message, 'error'));
    return h('div', { class: 'alarm-decision' },
      h('strong', { text: name }),
      h('div', { class: 'actions' },
        h('button', {
          type: 'button', class: 'primary', dataset: { action: 'confirm' }, text: t('alarm.confirm'),
          onclick: () => done(post(`/api/v1/alarms/${alarm.id}/confirm`, {})),
        }),
        h('button', {
          type: 'button', dataset: { action: 'dismiss' }, text: t('alarm.dismiss'),
          onclick: () => {
            const reason = window.prompt(t('alarm.dismiss_reason'));
            if (reason) done(post(`/api/v1/alarms/${alarm.id}/dismiss`, { reason }));
          },
        })));
  }
}
