// The grid worker's side of a video call: it rings (sound, vibration, and a system notification
// when the app is in the background), then shows the centre's video, one's own preview, a map of
// the case the centre shares, and sends the phone's position while the call lasts.
/* global L */
import { post } from '/shared/api.js';
import { h, clear, toast } from '/shared/dom.js';
import { t } from '/shared/i18n.js';
import { ringTone, videoOf } from '/shared/call.js';
import { createMap } from '/shared/map.js';
import { following, send as sendPatrolPositions } from './patrol.js';

const POSITION_EVERY_MS = 5000;

export class FieldCall {
  constructor(el, client, { sendsPosition }) {
    this.el = el;
    this.client = client;
    this.sendsPosition = sendsPosition;
    this.stopRing = null;
    this.notice = null;
    this.positionTimer = null;
    this.map = null;
    client.addEventListener('ring', (e) => this.ring(e.detail.call));
    client.addEventListener('update', () => this.render());
    client.addEventListener('remote', (e) => this.onRemote(e.detail));
    client.addEventListener('share', (e) => this.onShare(e.detail.data));
    client.addEventListener('ended', (e) => this.onEnded(e.detail.call));
    client.addEventListener('restart', () => toast(t('call.reconnecting')));
    if ('Notification' in window && Notification.permission === 'default') {
      document.addEventListener('click', () => Notification.requestPermission().catch(() => {}), { once: true });
    }
  }

  ring(call) {
    this.stopRing = ringTone();
    if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
    if (document.hidden && 'Notification' in window && Notification.permission === 'granted') {
      this.notice = new Notification(t('call.incoming'), { body: call.host_name, tag: `call-${call.id}`, requireInteraction: true });
      this.notice.onclick = () => { window.focus(); this.notice?.close(); };
    }
    document.title = `📞 ${t('call.incoming')}`;
    this.render();
  }

  quiet() {
    if (this.stopRing) { this.stopRing(); this.stopRing = null; }
    this.notice?.close();
    this.notice = null;
    document.title = t('field.title');
  }

  render() {
    const call = this.client.call;
    if (!call) return;
    const mine = this.client.party(this.client.me);
    this.el.hidden = false;
    this.el.dataset.state = call.state;
    this.el.dataset.callId = String(call.id);
    this.el.dataset.party = mine ? mine.state : '';
    if (mine && mine.state === 'invited') {
      clear(this.el).append(
        h('div', { class: 'ringing' },
          h('p', { class: 'caller', text: t('call.incoming_from', { name: call.host_name }) }),
          h('div', { class: 'call-actions' },
            h('button', { type: 'button', class: 'primary', dataset: { act: 'accept' }, text: t('call.accept'),
              onclick: () => { this.quiet(); this.client.accept().catch((e) => toast(e.message, 'error')); } }),
            h('button', { type: 'button', class: 'danger', dataset: { act: 'refuse' }, text: t('call.refuse'),
              onclick: () => { this.quiet(); this.client.refuse().catch((e) => toast(e.message, 'error')); } }))));
      return;
    }
    this.quiet();
    if (this.el.querySelector('.in-call')) return;
    clear(this.el).append(h('div', { class: 'in-call' },
      h('p', { class: 'call-status', text: t('call.active') }),
      h('p', { class: 'recording', hidden: true, text: t('call.recording_notice') }),
      h('div', { class: 'remotes' }),
      h('div', { class: 'local' }, this.client.local ? videoOf(this.client.local, { muted: true }) : null),
      h('div', { class: 'shared-map', hidden: true }),
      h('div', { class: 'call-actions' },
        h('button', { type: 'button', class: 'danger', dataset: { act: 'hangup' }, text: t('call.hang_up'),
          onclick: () => this.client.hangUp().catch((e) => toast(e.message, 'error')) }))));
    this.startPositions();
  }

  onRemote({ userId, stream }) {
    const box = this.el.querySelector('.remotes');
    if (box && !box.querySelector(`[data-user-id="${userId}"]`)) {
      const v = videoOf(stream);
      v.dataset.userId = String(userId);
      box.append(v);
    }
  }

  onShare(data) {
    if ('recording' in data) {
      const note = this.el.querySelector('.recording');
      if (note) note.hidden = !data.recording;
    }
    if (!data.case) return;
    const box = this.el.querySelector('.shared-map');
    if (!box) return;
    box.hidden = false;
    clear(box).append(h('p', { class: 'shared-case', text: `${data.case.tracking_no} · ${data.case.title}` }),
      h('div', { class: 'mini-map' }));
    this.map?.remove();
    this.map = createMap(box.querySelector('.mini-map'));
    const here = [data.case.lat, data.case.lng];
    L.circleMarker(here, { radius: 9, color: '#e53935', fillOpacity: 0.8 }).addTo(this.map);
    this.map.setView(here, 16);
  }

  /** While in a call the centre follows the worker on its map: a patrol already tracks the
   * position, so its buffer is just sent more often; otherwise one fix is sent every few seconds. */
  startPositions() {
    if (!this.sendsPosition || this.positionTimer || !navigator.geolocation) return;
    const once = () => navigator.geolocation.getCurrentPosition((pos) => {
      post('/api/v1/me/positions', { points: [{
        lng: pos.coords.longitude, lat: pos.coords.latitude, crs: 'wgs84', accuracy_m: pos.coords.accuracy,
      }] }).catch(() => {});
    }, () => {}, { enableHighAccuracy: true, maximumAge: 4000, timeout: 4000 });
    const tick = () => (following() ? sendPatrolPositions() : once());
    tick();
    this.positionTimer = setInterval(tick, POSITION_EVERY_MS);
  }

  onEnded(call) {
    this.quiet();
    clearInterval(this.positionTimer);
    this.positionTimer = null;
    this.map?.remove();
    this.map = null;
    if (!call) { this.el.hidden = true; return; }
    this.el.dataset.state = 'ended';
    this.el.dataset.outcome = call.outcome || '';
    clear(this.el).append(h('div', { class: 'ended' },
      h('p', { text: t(`call.outcome.${call.outcome}`) }),
      h('button', { type: 'button', text: t('detail.close'), onclick: () => { this.el.hidden = true; } })));
    setTimeout(() => { if (!this.client.call) this.el.hidden = true; }, 4000);
  }
}
