// The live feed: every event the centre may see, newest first; urgent cases raise an alarm.
import { h } from '/shared/dom.js';
import { t, formatTime } from '/shared/i18n.js';

const MAX_ITEMS = 60;

export class Feed {
  constructor(list, alertBox, onSelect) {
    this.list = list;
    this.alertBox = alertBox;
    this.onSelect = onSelect;
  }

  add(event, kase) {
    const item = h('li', { class: `feed-item${kase && kase.urgency === 'urgent' ? ' urgent' : ''}`,
      dataset: { type: event.type, caseId: String(event.case_id), state: event.payload.state || '' } },
    h('span', { class: 'when', text: formatTime(event.occurred_at) }), ' ',
    h('strong', { text: t(`event.${event.type}`) }), ' ',
    h('span', { class: 'tracking-no', text: label(event) }),
    kase ? h('span', { class: 'feed-title', text: ` ${kase.title}` }) : null);
    if (event.case_id != null) item.addEventListener('click', () => this.onSelect(event.case_id));
    this.list.prepend(item);
    while (this.list.children.length > MAX_ITEMS) this.list.lastChild.remove();
    const pressing = kase && ['urgent', 'critical'].includes(kase.urgency);
    if (pressing && (event.type === 'case.reported' || event.type === 'alarm.raised')) this.alarm(kase);
  }

  alarm(kase) {
    this.alertBox.hidden = false;
    this.alertBox.textContent = t('feed.urgent_alert', { no: kase.tracking_no, title: kase.title });
    this.alertBox.classList.remove('flash');
    void this.alertBox.offsetWidth; // restart the flash animation
    this.alertBox.classList.add('flash');
    beep();
    setTimeout(() => { this.alertBox.hidden = true; }, 15_000);
  }
}

// Device alarms carry the alarm's kind and id; case events their tracking number.
function label(event) {
  if (event.alarm_id != null) return `${t(`alarm.${event.payload.kind}`)} #${event.alarm_id}`;
  return event.payload.tracking_no || `#${event.case_id}`;
}

let audio = null;
function beep() {
  try {
    audio = audio || new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.15;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.6);
  } catch { /* no audio device: the visual alert stands */ }
}
