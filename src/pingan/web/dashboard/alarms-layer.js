// Device alarms still active (open or turned into a case): red diamonds; the tooltip names the
// kind, device and repeat count (set as text). Reloaded on every alarm event from the live feed.
/* global L */
import { get } from '/shared/api.js';
import { t } from '/shared/i18n.js';

export class AlarmsLayer {
  constructor(map, onSelectCase) {
    this.layer = L.layerGroup().addTo(map);
    this.onSelectCase = onSelectCase;
    this.count = 0;
  }

  async load() {
    let rows;
    try {
      rows = await get('/api/v1/alarms', { state: ['open', 'cased'], limit: 500 });
    } catch {
      return; // a role that does not see alarms, or offline: keep what is shown
    }
    this.layer.clearLayers();
    this.count = rows.length;
    for (const a of rows) {
      const label = document.createElement('span');
      label.textContent = `${t(`alarm.${a.kind}`)} · ${a.device_id}${a.count > 1 ? ` ×${a.count}` : ''}`;
      const m = L.marker([a.lat, a.lng], {
        icon: L.divIcon({ className: `alarm-marker ${a.state}`, iconSize: [12, 12] }),
        keyboard: false,
      }).bindTooltip(label, { direction: 'top', offset: [0, -6] });
      if (a.case_id != null) m.on('click', () => this.onSelectCase(a.case_id));
      this.layer.addLayer(m);
    }
  }
}
