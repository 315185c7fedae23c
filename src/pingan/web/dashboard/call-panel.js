// The centre's side of a video call: the videos, who is in the call, hang up, add the case's
// department handler, share the case on the worker's map, and record with consent shown to all.
import { get, postForm } from '/shared/api.js';
import { h, clear, toast } from '/shared/dom.js';
import { t } from '/shared/i18n.js';
import { videoOf } from '/shared/call.js';

export class CallPanel {
  constructor(el, client) {
    this.el = el;
    this.client = client;
    this.kase = null;
    this.videos = new Map();
    this.started = null;
    this.firstFrameMs = null;
    this.recorder = null;
    this.tick = null;
    client.addEventListener('update', () => this.render());
    client.addEventListener('remote', (e) => this.onRemote(e.detail));
    client.addEventListener('left', (e) => { this.videos.get(e.detail.userId)?.remove(); this.videos.delete(e.detail.userId); });
    client.addEventListener('ended', (e) => this.onEnded(e.detail.call));
    client.addEventListener('restart', () => toast(t('call.reconnecting')));
    client.addEventListener('error', (e) => toast(t('call.error', { code: e.detail.code }), 'error'));
  }

  /** Ring `userId`, optionally about a case; the clock for click-to-connected starts here. */
  async call(userId, kase = null) {
    if (this.client.active) { toast(t('call.busy'), 'error'); return; }
    this.started = performance.now();
    this.firstFrameMs = null;
    delete this.el.dataset.firstFrameMs;
    this.kase = kase;
    this.el.hidden = false;
    this.el.dataset.state = 'dialling';
    try {
      await this.client.place(userId, kase ? kase.id : null);
      this.showLocal();
    } catch (err) {
      this.el.hidden = true;
      toast(err.message, 'error');
    }
  }

  showLocal() {
    const box = this.el.querySelector('.local');
    if (box && this.client.local && !box.firstChild) box.append(videoOf(this.client.local, { muted: true }));
  }

  onRemote({ userId, stream }) {
    let v = this.videos.get(userId);
    if (!v) {
      v = videoOf(stream, { label: String(userId) });
      v.dataset.userId = String(userId);
      this.videos.set(userId, v);
      this.el.querySelector('.remotes')?.append(v);
      const mark = () => {
        if (this.firstFrameMs === null && this.started !== null) {
          this.firstFrameMs = performance.now() - this.started;
          this.el.dataset.firstFrameMs = String(Math.round(this.firstFrameMs));
          this.el.dataset.firstFrameAt = String(Date.now());
        }
      };
      if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(mark);
      else v.addEventListener('playing', mark, { once: true });
    }
  }

  render() {
    const call = this.client.call;
    if (!call) return;
    this.el.hidden = false;
    this.el.dataset.state = call.state;
    this.el.dataset.callId = String(call.id);
    const remotes = this.el.querySelector('.remotes') || h('div', { class: 'remotes' });
    const local = this.el.querySelector('.local') || h('div', { class: 'local' });
    const parts = [
      h('div', { class: 'call-head' },
        h('strong', { text: t('call.title') }),
        h('span', { class: 'call-status', text: this.status(call) })),
      h('ul', { class: 'call-parties' }, call.parties.map((p) => h('li', { dataset: { state: p.state } },
        p.display_name, ' · ', t(`call.party.${p.state}`)))),
      remotes, local,
      this.recorder ? h('p', { class: 'recording', text: t('call.recording_notice') }) : null,
      this.buttons(call)];
    clear(this.el).append(...parts.filter(Boolean));
    this.showLocal();
    clearInterval(this.tick);
    if (call.state === 'active') this.tick = setInterval(() => {
      const s = this.el.querySelector('.call-status');
      if (s && this.client.call) s.textContent = this.status(this.client.call);
    }, 1000);
  }

  status(call) {
    if (call.state === 'ringing') return t('call.ringing');
    if (call.state === 'active') {
      const secs = Math.max(0, Math.round((Date.now() - Date.parse(call.connected_at)) / 1000));
      return `${t('call.active')} ${String(Math.floor(secs / 60)).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}`;
    }
    return t(`call.outcome.${call.outcome}`);
  }

  buttons(call) {
    const bar = h('div', { class: 'call-actions' },
      h('button', { type: 'button', class: 'danger', dataset: { act: 'hangup' }, text: t('call.hang_up'),
        onclick: () => this.client.hangUp().catch((e) => toast(e.message, 'error')) }));
    if (this.kase && call.state === 'active') {
      bar.append(
        h('button', { type: 'button', dataset: { act: 'share' }, text: t('call.share_map'), onclick: () => this.shareCase() }),
        h('button', { type: 'button', dataset: { act: 'record' }, text: t(this.recorder ? 'call.stop_record' : 'call.record'),
          onclick: () => (this.recorder ? this.stopRecording() : this.startRecording()) }));
      const pick = h('select', { class: 'invite', 'aria-label': t('call.invite') },
        h('option', { value: '', text: t('call.invite') }));
      get(`/api/v1/cases/${this.kase.id}/contacts`).then((people) => {
        const inCall = new Set(call.parties.filter((p) => ['invited', 'joined'].includes(p.state)).map((p) => p.user_id));
        for (const c of people) {
          if (!inCall.has(c.user_id)) pick.append(h('option', { value: String(c.user_id), text: `${c.display_name} · ${t(`role.${c.role}`)}` }));
        }
      }).catch(() => {});
      pick.addEventListener('change', () => {
        if (pick.value) this.client.invite(Number(pick.value)).catch((e) => toast(e.message, 'error'));
      });
      bar.append(pick);
    }
    return bar;
  }

  shareCase() {
    const k = this.kase;
    this.client.share({ case: { id: k.id, tracking_no: k.tracking_no, title: k.title, lng: k.lng, lat: k.lat } });
    toast(t('call.shared'));
  }

  startRecording() {
    const [stream] = [...this.client.peers.values()].map((p) => p.stream);
    if (!stream || !window.MediaRecorder) { toast(t('call.record_unavailable'), 'error'); return; }
    this.client.share({ recording: true });
    const chunks = [];
    this.recorder = new MediaRecorder(stream, { mimeType: 'video/webm' });
    this.recorder.addEventListener('dataavailable', (e) => { if (e.data.size) chunks.push(e.data); });
    const callId = this.client.call.id;
    this.recorder.addEventListener('stop', () => this.keep(callId, new Blob(chunks, { type: 'video/webm' })));
    this.recorder.start(1000);
    this.render();
  }

  stopRecording() {
    if (!this.recorder) return;
    this.recorder.stop();
    this.recorder = null;
    if (this.client.active) { this.client.share({ recording: false }); this.render(); }
  }

  async keep(callId, blob) {
    const form = new FormData();
    form.append('file', blob, `call-${callId}.webm`);
    try {
      await postForm(`/api/v1/calls/${callId}/recording`, form);
      toast(t('call.recording_kept'));
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  onEnded(call) {
    this.stopRecording();
    clearInterval(this.tick);
    this.videos.clear();
    if (!call) return;
    this.el.dataset.state = 'ended';
    this.el.dataset.outcome = call.outcome || '';
    const status = this.el.querySelector('.call-status');
    if (status) status.textContent = t(`call.outcome.${call.outcome}`);
    for (const v of this.el.querySelectorAll('video')) v.remove();
    const bar = this.el.querySelector('.call-actions');
    if (bar) clear(bar).append(h('button', { type: 'button', text: t('detail.close'), onclick: () => { this.el.hidden = true; } }));
  }
}
